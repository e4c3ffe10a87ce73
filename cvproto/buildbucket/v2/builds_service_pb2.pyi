import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from cvproto.buildbucket.v2 import build_pb2 as _build_pb2
from cvproto.buildbucket.v2 import builder_common_pb2 as _builder_common_pb2
from cvproto.buildbucket.v2 import common_pb2 as _common_pb2
from cvproto.buildbucket.v2 import notification_pb2 as _notification_pb2
from cvproto.rpc import status_pb2 as _status_pb2
from cvproto.structmask import structmask_pb2 as _structmask_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BuildMask(_message.Message):
    __slots__ = ("fields", "input_properties", "output_properties", "requested_properties", "all_fields", "step_status")
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    INPUT_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELDS_FIELD_NUMBER: _ClassVar[int]
    STEP_STATUS_FIELD_NUMBER: _ClassVar[int]
    fields: _field_mask_pb2.FieldMask
    input_properties: _containers.RepeatedCompositeFieldContainer[_structmask_pb2.StructMask]
    output_properties: _containers.RepeatedCompositeFieldContainer[_structmask_pb2.StructMask]
    requested_properties: _containers.RepeatedCompositeFieldContainer[_structmask_pb2.StructMask]
    all_fields: bool
    step_status: _containers.RepeatedScalarFieldContainer[_common_pb2.Status]
    def __init__(self, fields: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., input_properties: _Optional[_Iterable[_Union[_structmask_pb2.StructMask, _Mapping]]] = ..., output_properties: _Optional[_Iterable[_Union[_structmask_pb2.StructMask, _Mapping]]] = ..., requested_properties: _Optional[_Iterable[_Union[_structmask_pb2.StructMask, _Mapping]]] = ..., all_fields: _Optional[bool] = ..., step_status: _Optional[_Iterable[_Union[_common_pb2.Status, str]]] = ...) -> None: ...

class GetBuildRequest(_message.Message):
    __slots__ = ("id", "builder", "build_number", "fields", "mask")
    ID_FIELD_NUMBER: _ClassVar[int]
    BUILDER_FIELD_NUMBER: _ClassVar[int]
    BUILD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    id: int
    builder: _builder_common_pb2.BuilderID
    build_number: int
    fields: _field_mask_pb2.FieldMask
    mask: BuildMask
    def __init__(self, id: _Optional[int] = ..., builder: _Optional[_Union[_builder_common_pb2.BuilderID, _Mapping]] = ..., build_number: _Optional[int] = ..., fields: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., mask: _Optional[_Union[BuildMask, _Mapping]] = ...) -> None: ...

class GetBuildStatusRequest(_message.Message):
    __slots__ = ("id", "builder", "build_number")
    ID_FIELD_NUMBER: _ClassVar[int]
    BUILDER_FIELD_NUMBER: _ClassVar[int]
    BUILD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    id: int
    builder: _builder_common_pb2.BuilderID
    build_number: int
    def __init__(self, id: _Optional[int] = ..., builder: _Optional[_Union[_builder_common_pb2.BuilderID, _Mapping]] = ..., build_number: _Optional[int] = ...) -> None: ...

class SearchBuildsRequest(_message.Message):
    __slots__ = ("predicate", "fields", "mask", "page_size", "page_token")
    PREDICATE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    predicate: BuildPredicate
    fields: _field_mask_pb2.FieldMask
    mask: BuildMask
    page_size: int
    page_token: str
    def __init__(self, predicate: _Optional[_Union[BuildPredicate, _Mapping]] = ..., fields: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., mask: _Optional[_Union[BuildMask, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SearchBuildsResponse(_message.Message):
    __slots__ = ("builds", "next_page_token")
    BUILDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    builds: _containers.RepeatedCompositeFieldContainer[_build_pb2.Build]
    next_page_token: str
    def __init__(self, builds: _Optional[_Iterable[_Union[_build_pb2.Build, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class BuildPredicate(_message.Message):
    __slots__ = ("builder", "status", "gerrit_changes", "output_gitiles_commit", "created_by", "tags", "create_time", "include_experimental", "build", "canary", "experiments", "descendant_of", "child_of")
    BUILDER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    GERRIT_CHANGES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_GITILES_COMMIT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EXPERIMENTAL_FIELD_NUMBER: _ClassVar[int]
    BUILD_FIELD_NUMBER: _ClassVar[int]
    CANARY_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    DESCENDANT_OF_FIELD_NUMBER: _ClassVar[int]
    CHILD_OF_FIELD_NUMBER: _ClassVar[int]
    builder: _builder_common_pb2.BuilderID
    status: _common_pb2.Status
    gerrit_changes: _containers.RepeatedCompositeFieldContainer[_common_pb2.GerritChange]
    output_gitiles_commit: _common_pb2.GitilesCommit
    created_by: str
    tags: _containers.RepeatedCompositeFieldContainer[_common_pb2.StringPair]
    create_time: _common_pb2.TimeRange
    include_experimental: bool
    build: BuildRange
    canary: _common_pb2.Trinary
    experiments: _containers.RepeatedScalarFieldContainer[str]
    descendant_of: int
    child_of: int
    def __init__(self, builder: _Optional[_Union[_builder_common_pb2.BuilderID, _Mapping]] = ..., status: _Optional[_Union[_common_pb2.Status, str]] = ..., gerrit_changes: _Optional[_Iterable[_Union[_common_pb2.GerritChange, _Mapping]]] = ..., output_gitiles_commit: _Optional[_Union[_common_pb2.GitilesCommit, _Mapping]] = ..., created_by: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[_common_pb2.StringPair, _Mapping]]] = ..., create_time: _Optional[_Union[_common_pb2.TimeRange, _Mapping]] = ..., include_experimental: _Optional[bool] = ..., build: _Optional[_Union[BuildRange, _Mapping]] = ..., canary: _Optional[_Union[_common_pb2.Trinary, str]] = ..., experiments: _Optional[_Iterable[str]] = ..., descendant_of: _Optional[int] = ..., child_of: _Optional[int] = ...) -> None: ...

class BuildRange(_message.Message):
    __slots__ = ("start_build_id", "end_build_id")
    START_BUILD_ID_FIELD_NUMBER: _ClassVar[int]
    END_BUILD_ID_FIELD_NUMBER: _ClassVar[int]
    start_build_id: int
    end_build_id: int
    def __init__(self, start_build_id: _Optional[int] = ..., end_build_id: _Optional[int] = ...) -> None: ...

class ScheduleBuildRequest(_message.Message):
    __slots__ = ("request_id", "template_build_id", "builder", "canary", "experimental", "experiments", "properties", "gitiles_commit", "gerrit_changes", "tags", "dimensions", "priority", "notify", "fields", "mask", "critical", "exe", "swarming", "scheduling_timeout", "execution_timeout", "grace_period", "dry_run", "can_outlive_parent", "retriable", "shadow_input")
    class ExperimentsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bool
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bool] = ...) -> None: ...
    class Swarming(_message.Message):
        __slots__ = ("parent_run_id",)
        PARENT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
        parent_run_id: str
        def __init__(self, parent_run_id: _Optional[str] = ...) -> None: ...
    class ShadowInput(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_BUILD_ID_FIELD_NUMBER: _ClassVar[int]
    BUILDER_FIELD_NUMBER: _ClassVar[int]
    CANARY_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENTAL_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    GITILES_COMMIT_FIELD_NUMBER: _ClassVar[int]
    GERRIT_CHANGES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    CRITICAL_FIELD_NUMBER: _ClassVar[int]
    EXE_FIELD_NUMBER: _ClassVar[int]
    SWARMING_FIELD_NUMBER: _ClassVar[int]
    SCHEDULING_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    CAN_OUTLIVE_PARENT_FIELD_NUMBER: _ClassVar[int]
    RETRIABLE_FIELD_NUMBER: _ClassVar[int]
    SHADOW_INPUT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    template_build_id: int
    builder: _builder_common_pb2.BuilderID
    canary: _common_pb2.Trinary
    experimental: _common_pb2.Trinary
    experiments: _containers.ScalarMap[str, bool]
    properties: _struct_pb2.Struct
    gitiles_commit: _common_pb2.GitilesCommit
    gerrit_changes: _containers.RepeatedCompositeFieldContainer[_common_pb2.GerritChange]
    tags: _containers.RepeatedCompositeFieldContainer[_common_pb2.StringPair]
    dimensions: _containers.RepeatedCompositeFieldContainer[_common_pb2.RequestedDimension]
    priority: int
    notify: _notification_pb2.NotificationConfig
    fields: _field_mask_pb2.FieldMask
    mask: BuildMask
    critical: _common_pb2.Trinary
    exe: _common_pb2.Executable
    swarming: ScheduleBuildRequest.Swarming
    scheduling_timeout: _duration_pb2.Duration
    execution_timeout: _duration_pb2.Duration
    grace_period: _duration_pb2.Duration
    dry_run: bool
    can_outlive_parent: _common_pb2.Trinary
    retriable: _common_pb2.Trinary
    shadow_input: ScheduleBuildRequest.ShadowInput
    def __init__(self, request_id: _Optional[str] = ..., template_build_id: _Optional[int] = ..., builder: _Optional[_Union[_builder_common_pb2.BuilderID, _Mapping]] = ..., canary: _Optional[_Union[_common_pb2.Trinary, str]] = ..., experimental: _Optional[_Union[_common_pb2.Trinary, str]] = ..., experiments: _Optional[_Mapping[str, bool]] = ..., properties: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., gitiles_commit: _Optional[_Union[_common_pb2.GitilesCommit, _Mapping]] = ..., gerrit_changes: _Optional[_Iterable[_Union[_common_pb2.GerritChange, _Mapping]]] = ..., tags: _Optional[_Iterable[_Union[_common_pb2.StringPair, _Mapping]]] = ..., dimensions: _Optional[_Iterable[_Union[_common_pb2.RequestedDimension, _Mapping]]] = ..., priority: _Optional[int] = ..., notify: _Optional[_Union[_notification_pb2.NotificationConfig, _Mapping]] = ..., fields: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., mask: _Optional[_Union[BuildMask, _Mapping]] = ..., critical: _Optional[_Union[_common_pb2.Trinary, str]] = ..., exe: _Optional[_Union[_common_pb2.Executable, _Mapping]] = ..., swarming: _Optional[_Union[ScheduleBuildRequest.Swarming, _Mapping]] = ..., scheduling_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., execution_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., grace_period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., dry_run: _Optional[bool] = ..., can_outlive_parent: _Optional[_Union[_common_pb2.Trinary, str]] = ..., retriable: _Optional[_Union[_common_pb2.Trinary, str]] = ..., shadow_input: _Optional[_Union[ScheduleBuildRequest.ShadowInput, _Mapping]] = ...) -> None: ...

class CancelBuildRequest(_message.Message):
    __slots__ = ("id", "summary_markdown", "fields", "mask")
    ID_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    id: int
    summary_markdown: str
    fields: _field_mask_pb2.FieldMask
    mask: BuildMask
    def __init__(self, id: _Optional[int] = ..., summary_markdown: _Optional[str] = ..., fields: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., mask: _Optional[_Union[BuildMask, _Mapping]] = ...) -> None: ...

class BatchRequest(_message.Message):
    __slots__ = ("requests",)
    class Request(_message.Message):
        __slots__ = ("get_build", "search_builds", "schedule_build", "cancel_build", "get_build_status")
        GET_BUILD_FIELD_NUMBER: _ClassVar[int]
        SEARCH_BUILDS_FIELD_NUMBER: _ClassVar[int]
        SCHEDULE_BUILD_FIELD_NUMBER: _ClassVar[int]
        CANCEL_BUILD_FIELD_NUMBER: _ClassVar[int]
        GET_BUILD_STATUS_FIELD_NUMBER: _ClassVar[int]
        get_build: GetBuildRequest
        search_builds: SearchBuildsRequest
        schedule_build: ScheduleBuildRequest
        cancel_build: CancelBuildRequest
        get_build_status: GetBuildStatusRequest
        def __init__(self, get_build: _Optional[_Union[GetBuildRequest, _Mapping]] = ..., search_builds: _Optional[_Union[SearchBuildsRequest, _Mapping]] = ..., schedule_build: _Optional[_Union[ScheduleBuildRequest, _Mapping]] = ..., cancel_build: _Optional[_Union[CancelBuildRequest, _Mapping]] = ..., get_build_status: _Optional[_Union[GetBuildStatusRequest, _Mapping]] = ...) -> None: ...
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[BatchRequest.Request]
    def __init__(self, requests: _Optional[_Iterable[_Union[BatchRequest.Request, _Mapping]]] = ...) -> None: ...

class BatchResponse(_message.Message):
    __slots__ = ("responses",)
    class Response(_message.Message):
        __slots__ = ("get_build", "search_builds", "schedule_build", "cancel_build", "get_build_status", "error")
        GET_BUILD_FIELD_NUMBER: _ClassVar[int]
        SEARCH_BUILDS_FIELD_NUMBER: _ClassVar[int]
        SCHEDULE_BUILD_FIELD_NUMBER: _ClassVar[int]
        CANCEL_BUILD_FIELD_NUMBER: _ClassVar[int]
        GET_BUILD_STATUS_FIELD_NUMBER: _ClassVar[int]
        ERROR_FIELD_NUMBER: _ClassVar[int]
        get_build: _build_pb2.Build
        search_builds: SearchBuildsResponse
        schedule_build: _build_pb2.Build
        cancel_build: _build_pb2.Build
        get_build_status: _build_pb2.Build
        error: _status_pb2.Status
        def __init__(self, get_build: _Optional[_Union[_build_pb2.Build, _Mapping]] = ..., search_builds: _Optional[_Union[SearchBuildsResponse, _Mapping]] = ..., schedule_build: _Optional[_Union[_build_pb2.Build, _Mapping]] = ..., cancel_build: _Optional[_Union[_build_pb2.Build, _Mapping]] = ..., get_build_status: _Optional[_Union[_build_pb2.Build, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    responses: _containers.RepeatedCompositeFieldContainer[BatchResponse.Response]
    def __init__(self, responses: _Optional[_Iterable[_Union[BatchResponse.Response, _Mapping]]] = ...) -> None: ...
