import datetime

from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from cvproto.gerrit import gerrit_pb2 as _gerrit_pb2
from cvproto.bigquery import attempt_pb2 as _attempt_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReportRunsRequest(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[ReportedRun]
    def __init__(self, runs: _Optional[_Iterable[_Union[ReportedRun, _Mapping]]] = ...) -> None: ...

class ReportFinishedRunRequest(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: ReportedRun
    def __init__(self, run: _Optional[_Union[ReportedRun, _Mapping]] = ...) -> None: ...

class ReportVerifiedRunRequest(_message.Message):
    __slots__ = ("run", "action", "final_message")
    class Action(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ACTION_UNSPECIFIED: _ClassVar[ReportVerifiedRunRequest.Action]
        ACTION_SUBMIT: _ClassVar[ReportVerifiedRunRequest.Action]
        ACTION_DRY_RUN_OK: _ClassVar[ReportVerifiedRunRequest.Action]
        ACTION_FAIL: _ClassVar[ReportVerifiedRunRequest.Action]
    ACTION_UNSPECIFIED: ReportVerifiedRunRequest.Action
    ACTION_SUBMIT: ReportVerifiedRunRequest.Action
    ACTION_DRY_RUN_OK: ReportVerifiedRunRequest.Action
    ACTION_FAIL: ReportVerifiedRunRequest.Action
    RUN_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    FINAL_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    run: ReportedRun
    action: ReportVerifiedRunRequest.Action
    final_message: str
    def __init__(self, run: _Optional[_Union[ReportedRun, _Mapping]] = ..., action: _Optional[_Union[ReportVerifiedRunRequest.Action, str]] = ..., final_message: _Optional[str] = ...) -> None: ...

class ReportedRun(_message.Message):
    __slots__ = ("id", "attempt")
    ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    id: str
    attempt: _attempt_pb2.Attempt
    def __init__(self, id: _Optional[str] = ..., attempt: _Optional[_Union[_attempt_pb2.Attempt, _Mapping]] = ...) -> None: ...

class PostGerritMessageRequest(_message.Message):
    __slots__ = ("run_id", "project", "attempt_key", "host", "change", "revision", "comment", "send_email")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_KEY_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    SEND_EMAIL_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    project: str
    attempt_key: str
    host: str
    change: int
    revision: str
    comment: str
    send_email: bool
    def __init__(self, run_id: _Optional[str] = ..., project: _Optional[str] = ..., attempt_key: _Optional[str] = ..., host: _Optional[str] = ..., change: _Optional[int] = ..., revision: _Optional[str] = ..., comment: _Optional[str] = ..., send_email: _Optional[bool] = ...) -> None: ...

class PostGerritMessageResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReportUsedNetrcRequest(_message.Message):
    __slots__ = ("gerrit_host", "access_token")
    GERRIT_HOST_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    gerrit_host: str
    access_token: str
    def __init__(self, gerrit_host: _Optional[str] = ..., access_token: _Optional[str] = ...) -> None: ...

class FetchActiveRunsRequest(_message.Message):
    __slots__ = ("luci_project",)
    LUCI_PROJECT_FIELD_NUMBER: _ClassVar[int]
    luci_project: str
    def __init__(self, luci_project: _Optional[str] = ...) -> None: ...

class FetchActiveRunsResponse(_message.Message):
    __slots__ = ("active_runs",)
    ACTIVE_RUNS_FIELD_NUMBER: _ClassVar[int]
    active_runs: _containers.RepeatedCompositeFieldContainer[ActiveRun]
    def __init__(self, active_runs: _Optional[_Iterable[_Union[ActiveRun, _Mapping]]] = ...) -> None: ...

class ActiveRun(_message.Message):
    __slots__ = ("id", "cls", "fyi_deps")
    ID_FIELD_NUMBER: _ClassVar[int]
    CLS_FIELD_NUMBER: _ClassVar[int]
    FYI_DEPS_FIELD_NUMBER: _ClassVar[int]
    id: str
    cls: _containers.RepeatedCompositeFieldContainer[RunCL]
    fyi_deps: _containers.RepeatedCompositeFieldContainer[RunCL]
    def __init__(self, id: _Optional[str] = ..., cls: _Optional[_Iterable[_Union[RunCL, _Mapping]]] = ..., fyi_deps: _Optional[_Iterable[_Union[RunCL, _Mapping]]] = ...) -> None: ...

class RunCL(_message.Message):
    __slots__ = ("id", "gc", "info", "files", "trigger", "deps")
    class Trigger(_message.Message):
        __slots__ = ("time", "account_id", "email")
        TIME_FIELD_NUMBER: _ClassVar[int]
        ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
        EMAIL_FIELD_NUMBER: _ClassVar[int]
        time: _timestamp_pb2.Timestamp
        account_id: int
        email: str
        def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., account_id: _Optional[int] = ..., email: _Optional[str] = ...) -> None: ...
    class Dep(_message.Message):
        __slots__ = ("id", "hard")
        ID_FIELD_NUMBER: _ClassVar[int]
        HARD_FIELD_NUMBER: _ClassVar[int]
        id: int
        hard: bool
        def __init__(self, id: _Optional[int] = ..., hard: _Optional[bool] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    GC_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    DEPS_FIELD_NUMBER: _ClassVar[int]
    id: int
    gc: _attempt_pb2.GerritChange
    info: _gerrit_pb2.ChangeInfo
    files: _containers.RepeatedScalarFieldContainer[str]
    trigger: RunCL.Trigger
    deps: _containers.RepeatedCompositeFieldContainer[RunCL.Dep]
    def __init__(self, id: _Optional[int] = ..., gc: _Optional[_Union[_attempt_pb2.GerritChange, _Mapping]] = ..., info: _Optional[_Union[_gerrit_pb2.ChangeInfo, _Mapping]] = ..., files: _Optional[_Iterable[str]] = ..., trigger: _Optional[_Union[RunCL.Trigger, _Mapping]] = ..., deps: _Optional[_Iterable[_Union[RunCL.Dep, _Mapping]]] = ...) -> None: ...

class FetchRunStatusRequest(_message.Message):
    __slots__ = ("luci_project", "cv_id", "attempt_key")
    LUCI_PROJECT_FIELD_NUMBER: _ClassVar[int]
    CV_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_KEY_FIELD_NUMBER: _ClassVar[int]
    luci_project: str
    cv_id: str
    attempt_key: str
    def __init__(self, luci_project: _Optional[str] = ..., cv_id: _Optional[str] = ..., attempt_key: _Optional[str] = ...) -> None: ...

class FetchRunStatusResponse(_message.Message):
    __slots__ = ("event", "extra")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    event: str
    extra: str
    def __init__(self, event: _Optional[str] = ..., extra: _Optional[str] = ...) -> None: ...

class FetchExcludedCLsRequest(_message.Message):
    __slots__ = ("luci_project",)
    LUCI_PROJECT_FIELD_NUMBER: _ClassVar[int]
    luci_project: str
    def __init__(self, luci_project: _Optional[str] = ...) -> None: ...

class FetchExcludedCLsResponse(_message.Message):
    __slots__ = ("cls",)
    CLS_FIELD_NUMBER: _ClassVar[int]
    cls: _containers.RepeatedCompositeFieldContainer[_attempt_pb2.GerritChange]
    def __init__(self, cls: _Optional[_Iterable[_Union[_attempt_pb2.GerritChange, _Mapping]]] = ...) -> None: ...
