import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from cvproto.buildbucket.v2 import build_pb2 as _build_pb2
from cvproto.buildbucket.v2 import builder_common_pb2 as _builder_common_pb2
from cvproto.buildbucket.v2 import common_pb2 as _common_pb2
from cvproto.cv.config import config_pb2 as _config_pb2
from cvproto.cq.recipe import cq_pb2 as _cq_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATUS_UNSPECIFIED: _ClassVar[Status]
    PENDING: _ClassVar[Status]
    TRIGGERED: _ClassVar[Status]
    ENDED: _ClassVar[Status]
    CANCELLED: _ClassVar[Status]
    UNTRIGGERED: _ClassVar[Status]
STATUS_UNSPECIFIED: Status
PENDING: Status
TRIGGERED: Status
ENDED: Status
CANCELLED: Status
UNTRIGGERED: Status

class Definition(_message.Message):
    __slots__ = ("buildbucket", "equivalent_to", "disable_reuse", "skip_stale_check", "critical", "optional", "result_visibility", "experiments", "disable_reuse_footers", "reuse_window")
    class Buildbucket(_message.Message):
        __slots__ = ("host", "builder")
        HOST_FIELD_NUMBER: _ClassVar[int]
        BUILDER_FIELD_NUMBER: _ClassVar[int]
        host: str
        builder: _builder_common_pb2.BuilderID
        def __init__(self, host: _Optional[str] = ..., builder: _Optional[_Union[_builder_common_pb2.BuilderID, _Mapping]] = ...) -> None: ...
    BUILDBUCKET_FIELD_NUMBER: _ClassVar[int]
    EQUIVALENT_TO_FIELD_NUMBER: _ClassVar[int]
    DISABLE_REUSE_FIELD_NUMBER: _ClassVar[int]
    SKIP_STALE_CHECK_FIELD_NUMBER: _ClassVar[int]
    CRITICAL_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    RESULT_VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    DISABLE_REUSE_FOOTERS_FIELD_NUMBER: _ClassVar[int]
    REUSE_WINDOW_FIELD_NUMBER: _ClassVar[int]
    buildbucket: Definition.Buildbucket
    equivalent_to: Definition
    disable_reuse: bool
    skip_stale_check: bool
    critical: bool
    optional: bool
    result_visibility: _config_pb2.CommentLevel
    experiments: _containers.RepeatedScalarFieldContainer[str]
    disable_reuse_footers: _containers.RepeatedScalarFieldContainer[str]
    reuse_window: _config_pb2.Verifiers.Tryjob.Builder.ReuseWindow
    def __init__(self, buildbucket: _Optional[_Union[Definition.Buildbucket, _Mapping]] = ..., equivalent_to: _Optional[_Union[Definition, _Mapping]] = ..., disable_reuse: _Optional[bool] = ..., skip_stale_check: _Optional[bool] = ..., critical: _Optional[bool] = ..., optional: _Optional[bool] = ..., result_visibility: _Optional[_Union[_config_pb2.CommentLevel, str]] = ..., experiments: _Optional[_Iterable[str]] = ..., disable_reuse_footers: _Optional[_Iterable[str]] = ..., reuse_window: _Optional[_Union[_config_pb2.Verifiers.Tryjob.Builder.ReuseWindow, _Mapping]] = ...) -> None: ...

class Requirement(_message.Message):
    __slots__ = ("definitions", "retry_config")
    DEFINITIONS_FIELD_NUMBER: _ClassVar[int]
    RETRY_CONFIG_FIELD_NUMBER: _ClassVar[int]
    definitions: _containers.RepeatedCompositeFieldContainer[Definition]
    retry_config: _config_pb2.Verifiers.Tryjob.RetryConfig
    def __init__(self, definitions: _Optional[_Iterable[_Union[Definition, _Mapping]]] = ..., retry_config: _Optional[_Union[_config_pb2.Verifiers.Tryjob.RetryConfig, _Mapping]] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("status", "create_time", "update_time", "output", "buildbucket")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RESULT_STATUS_UNSPECIFIED: _ClassVar[Result.Status]
        UNKNOWN: _ClassVar[Result.Status]
        SUCCEEDED: _ClassVar[Result.Status]
        FAILED_PERMANENTLY: _ClassVar[Result.Status]
        FAILED_TRANSIENTLY: _ClassVar[Result.Status]
        TIMEOUT: _ClassVar[Result.Status]
    RESULT_STATUS_UNSPECIFIED: Result.Status
    UNKNOWN: Result.Status
    SUCCEEDED: Result.Status
    FAILED_PERMANENTLY: Result.Status
    FAILED_TRANSIENTLY: Result.Status
    TIMEOUT: Result.Status
    class Buildbucket(_message.Message):
        __slots__ = ("id", "builder", "status", "summary_markdown", "infra")
        ID_FIELD_NUMBER: _ClassVar[int]
        BUILDER_FIELD_NUMBER: _ClassVar[int]
        STATUS_FIELD_NUMBER: _ClassVar[int]
        SUMMARY_MARKDOWN_FIELD_NUMBER: _ClassVar[int]
        INFRA_FIELD_NUMBER: _ClassVar[int]
        id: int
        builder: _builder_common_pb2.BuilderID
        status: _common_pb2.Status
        summary_markdown: str
        infra: _build_pb2.BuildInfra
        def __init__(self, id: _Optional[int] = ..., builder: _Optional[_Union[_builder_common_pb2.BuilderID, _Mapping]] = ..., status: _Optional[_Union[_common_pb2.Status, str]] = ..., summary_markdown: _Optional[str] = ..., infra: _Optional[_Union[_build_pb2.BuildInfra, _Mapping]] = ...) -> None: ...
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    BUILDBUCKET_FIELD_NUMBER: _ClassVar[int]
    status: Result.Status
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    output: _cq_pb2.Output
    buildbucket: Result.Buildbucket
    def __init__(self, status: _Optional[_Union[Result.Status, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., output: _Optional[_Union[_cq_pb2.Output, _Mapping]] = ..., buildbucket: _Optional[_Union[Result.Buildbucket, _Mapping]] = ...) -> None: ...

class ExecutionState(_message.Message):
    __slots__ = ("executions", "requirement", "requirement_version", "status", "failures", "end_time")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[ExecutionState.Status]
        RUNNING: _ClassVar[ExecutionState.Status]
        FAILED: _ClassVar[ExecutionState.Status]
        SUCCEEDED: _ClassVar[ExecutionState.Status]
    STATUS_UNSPECIFIED: ExecutionState.Status
    RUNNING: ExecutionState.Status
    FAILED: ExecutionState.Status
    SUCCEEDED: ExecutionState.Status
    class Execution(_message.Message):
        __slots__ = ("attempts", "used_quota")
        class Attempt(_message.Message):
            __slots__ = ("tryjob_id", "external_id", "status", "result", "reused")
            TRYJOB_ID_FIELD_NUMBER: _ClassVar[int]
            EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
            STATUS_FIELD_NUMBER: _ClassVar[int]
            RESULT_FIELD_NUMBER: _ClassVar[int]
            REUSED_FIELD_NUMBER: _ClassVar[int]
            tryjob_id: int
            external_id: str
            status: Status
            result: Result
            reused: bool
            def __init__(self, tryjob_id: _Optional[int] = ..., external_id: _Optional[str] = ..., status: _Optional[_Union[Status, str]] = ..., result: _Optional[_Union[Result, _Mapping]] = ..., reused: _Optional[bool] = ...) -> None: ...
        ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
        USED_QUOTA_FIELD_NUMBER: _ClassVar[int]
        attempts: _containers.RepeatedCompositeFieldContainer[ExecutionState.Execution.Attempt]
        used_quota: int
        def __init__(self, attempts: _Optional[_Iterable[_Union[ExecutionState.Execution.Attempt, _Mapping]]] = ..., used_quota: _Optional[int] = ...) -> None: ...
    class Failures(_message.Message):
        __slots__ = ("launch_failures", "unsuccessful_results")
        class LaunchFailure(_message.Message):
            __slots__ = ("definition", "reason")
            DEFINITION_FIELD_NUMBER: _ClassVar[int]
            REASON_FIELD_NUMBER: _ClassVar[int]
            definition: Definition
            reason: str
            def __init__(self, definition: _Optional[_Union[Definition, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...
        class UnsuccessfulResult(_message.Message):
            __slots__ = ("tryjob_id",)
            TRYJOB_ID_FIELD_NUMBER: _ClassVar[int]
            tryjob_id: int
            def __init__(self, tryjob_id: _Optional[int] = ...) -> None: ...
        LAUNCH_FAILURES_FIELD_NUMBER: _ClassVar[int]
        UNSUCCESSFUL_RESULTS_FIELD_NUMBER: _ClassVar[int]
        launch_failures: _containers.RepeatedCompositeFieldContainer[ExecutionState.Failures.LaunchFailure]
        unsuccessful_results: _containers.RepeatedCompositeFieldContainer[ExecutionState.Failures.UnsuccessfulResult]
        def __init__(self, launch_failures: _Optional[_Iterable[_Union[ExecutionState.Failures.LaunchFailure, _Mapping]]] = ..., unsuccessful_results: _Optional[_Iterable[_Union[ExecutionState.Failures.UnsuccessfulResult, _Mapping]]] = ...) -> None: ...
    EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENT_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    executions: _containers.RepeatedCompositeFieldContainer[ExecutionState.Execution]
    requirement: Requirement
    requirement_version: int
    status: ExecutionState.Status
    failures: ExecutionState.Failures
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, executions: _Optional[_Iterable[_Union[ExecutionState.Execution, _Mapping]]] = ..., requirement: _Optional[_Union[Requirement, _Mapping]] = ..., requirement_version: _Optional[int] = ..., status: _Optional[_Union[ExecutionState.Status, str]] = ..., failures: _Optional[_Union[ExecutionState.Failures, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExecutionLogEntries(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[ExecutionLogEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[ExecutionLogEntry, _Mapping]]] = ...) -> None: ...

class ExecutionLogEntry(_message.Message):
    __slots__ = ("time", "requirement_changed", "tryjobs_launched", "tryjobs_launch_failed", "tryjobs_reused", "tryjobs_ended", "tryjob_discarded", "retry_denied")
    class RequirementChanged(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class TryjobSnapshot(_message.Message):
        __slots__ = ("id", "external_id", "definition", "status", "result", "reused")
        ID_FIELD_NUMBER: _ClassVar[int]
        EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
        DEFINITION_FIELD_NUMBER: _ClassVar[int]
        STATUS_FIELD_NUMBER: _ClassVar[int]
        RESULT_FIELD_NUMBER: _ClassVar[int]
        REUSED_FIELD_NUMBER: _ClassVar[int]
        id: int
        external_id: str
        definition: Definition
        status: Status
        result: Result
        reused: bool
        def __init__(self, id: _Optional[int] = ..., external_id: _Optional[str] = ..., definition: _Optional[_Union[Definition, _Mapping]] = ..., status: _Optional[_Union[Status, str]] = ..., result: _Optional[_Union[Result, _Mapping]] = ..., reused: _Optional[bool] = ...) -> None: ...
    class TryjobsLaunched(_message.Message):
        __slots__ = ("tryjobs",)
        TRYJOBS_FIELD_NUMBER: _ClassVar[int]
        tryjobs: _containers.RepeatedCompositeFieldContainer[ExecutionLogEntry.TryjobSnapshot]
        def __init__(self, tryjobs: _Optional[_Iterable[_Union[ExecutionLogEntry.TryjobSnapshot, _Mapping]]] = ...) -> None: ...
    class TryjobsLaunchFailed(_message.Message):
        __slots__ = ("tryjobs",)
        TRYJOBS_FIELD_NUMBER: _ClassVar[int]
        tryjobs: _containers.RepeatedCompositeFieldContainer[ExecutionLogEntry.TryjobLaunchFailed]
        def __init__(self, tryjobs: _Optional[_Iterable[_Union[ExecutionLogEntry.TryjobLaunchFailed, _Mapping]]] = ...) -> None: ...
    class TryjobLaunchFailed(_message.Message):
        __slots__ = ("definition", "reason")
        DEFINITION_FIELD_NUMBER: _ClassVar[int]
        REASON_FIELD_NUMBER: _ClassVar[int]
        definition: Definition
        reason: str
        def __init__(self, definition: _Optional[_Union[Definition, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...
    class TryjobsReused(_message.Message):
        __slots__ = ("tryjobs",)
        TRYJOBS_FIELD_NUMBER: _ClassVar[int]
        tryjobs: _containers.RepeatedCompositeFieldContainer[ExecutionLogEntry.TryjobSnapshot]
        def __init__(self, tryjobs: _Optional[_Iterable[_Union[ExecutionLogEntry.TryjobSnapshot, _Mapping]]] = ...) -> None: ...
    class TryjobsEnded(_message.Message):
        __slots__ = ("tryjobs",)
        TRYJOBS_FIELD_NUMBER: _ClassVar[int]
        tryjobs: _containers.RepeatedCompositeFieldContainer[ExecutionLogEntry.TryjobSnapshot]
        def __init__(self, tryjobs: _Optional[_Iterable[_Union[ExecutionLogEntry.TryjobSnapshot, _Mapping]]] = ...) -> None: ...
    class TryjobDiscarded(_message.Message):
        __slots__ = ("snapshot", "reason")
        SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
        REASON_FIELD_NUMBER: _ClassVar[int]
        snapshot: ExecutionLogEntry.TryjobSnapshot
        reason: str
        def __init__(self, snapshot: _Optional[_Union[ExecutionLogEntry.TryjobSnapshot, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...
    class RetryDenied(_message.Message):
        __slots__ = ("tryjobs", "reason")
        TRYJOBS_FIELD_NUMBER: _ClassVar[int]
        REASON_FIELD_NUMBER: _ClassVar[int]
        tryjobs: _containers.RepeatedCompositeFieldContainer[ExecutionLogEntry.TryjobSnapshot]
        reason: str
        def __init__(self, tryjobs: _Optional[_Iterable[_Union[ExecutionLogEntry.TryjobSnapshot, _Mapping]]] = ..., reason: _Optional[str] = ...) -> None: ...
    TIME_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENT_CHANGED_FIELD_NUMBER: _ClassVar[int]
    TRYJOBS_LAUNCHED_FIELD_NUMBER: _ClassVar[int]
    TRYJOBS_LAUNCH_FAILED_FIELD_NUMBER: _ClassVar[int]
    TRYJOBS_REUSED_FIELD_NUMBER: _ClassVar[int]
    TRYJOBS_ENDED_FIELD_NUMBER: _ClassVar[int]
    TRYJOB_DISCARDED_FIELD_NUMBER: _ClassVar[int]
    RETRY_DENIED_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    requirement_changed: ExecutionLogEntry.RequirementChanged
    tryjobs_launched: ExecutionLogEntry.TryjobsLaunched
    tryjobs_launch_failed: ExecutionLogEntry.TryjobsLaunchFailed
    tryjobs_reused: ExecutionLogEntry.TryjobsReused
    tryjobs_ended: ExecutionLogEntry.TryjobsEnded
    tryjob_discarded: ExecutionLogEntry.TryjobDiscarded
    retry_denied: ExecutionLogEntry.RetryDenied
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., requirement_changed: _Optional[_Union[ExecutionLogEntry.RequirementChanged, _Mapping]] = ..., tryjobs_launched: _Optional[_Union[ExecutionLogEntry.TryjobsLaunched, _Mapping]] = ..., tryjobs_launch_failed: _Optional[_Union[ExecutionLogEntry.TryjobsLaunchFailed, _Mapping]] = ..., tryjobs_reused: _Optional[_Union[ExecutionLogEntry.TryjobsReused, _Mapping]] = ..., tryjobs_ended: _Optional[_Union[ExecutionLogEntry.TryjobsEnded, _Mapping]] = ..., tryjob_discarded: _Optional[_Union[ExecutionLogEntry.TryjobDiscarded, _Mapping]] = ..., retry_denied: _Optional[_Union[ExecutionLogEntry.RetryDenied, _Mapping]] = ...) -> None: ...

class TryjobUpdatedEvent(_message.Message):
    __slots__ = ("tryjob_id",)
    TRYJOB_ID_FIELD_NUMBER: _ClassVar[int]
    tryjob_id: int
    def __init__(self, tryjob_id: _Optional[int] = ...) -> None: ...

class TryjobUpdatedEvents(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[TryjobUpdatedEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[TryjobUpdatedEvent, _Mapping]]] = ...) -> None: ...
