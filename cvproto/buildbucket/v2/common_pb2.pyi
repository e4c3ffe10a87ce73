import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
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
    SCHEDULED: _ClassVar[Status]
    STARTED: _ClassVar[Status]
    ENDED_MASK: _ClassVar[Status]
    SUCCESS: _ClassVar[Status]
    FAILURE: _ClassVar[Status]
    INFRA_FAILURE: _ClassVar[Status]
    CANCELED: _ClassVar[Status]

class Trinary(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNSET: _ClassVar[Trinary]
    YES: _ClassVar[Trinary]
    NO: _ClassVar[Trinary]

class Compression(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ZLIB: _ClassVar[Compression]
    ZSTD: _ClassVar[Compression]
STATUS_UNSPECIFIED: Status
SCHEDULED: Status
STARTED: Status
ENDED_MASK: Status
SUCCESS: Status
FAILURE: Status
INFRA_FAILURE: Status
CANCELED: Status
UNSET: Trinary
YES: Trinary
NO: Trinary
ZLIB: Compression
ZSTD: Compression

class StatusDetails(_message.Message):
    __slots__ = ("resource_exhaustion", "timeout")
    class ResourceExhaustion(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Timeout(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    RESOURCE_EXHAUSTION_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    resource_exhaustion: StatusDetails.ResourceExhaustion
    timeout: StatusDetails.Timeout
    def __init__(self, resource_exhaustion: _Optional[_Union[StatusDetails.ResourceExhaustion, _Mapping]] = ..., timeout: _Optional[_Union[StatusDetails.Timeout, _Mapping]] = ...) -> None: ...

class Log(_message.Message):
    __slots__ = ("name", "view_url", "url")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VIEW_URL_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    name: str
    view_url: str
    url: str
    def __init__(self, name: _Optional[str] = ..., view_url: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class GerritChange(_message.Message):
    __slots__ = ("host", "project", "change", "patchset")
    HOST_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    PATCHSET_FIELD_NUMBER: _ClassVar[int]
    host: str
    project: str
    change: int
    patchset: int
    def __init__(self, host: _Optional[str] = ..., project: _Optional[str] = ..., change: _Optional[int] = ..., patchset: _Optional[int] = ...) -> None: ...

class GitilesCommit(_message.Message):
    __slots__ = ("host", "project", "id", "ref", "position")
    HOST_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    host: str
    project: str
    id: str
    ref: str
    position: int
    def __init__(self, host: _Optional[str] = ..., project: _Optional[str] = ..., id: _Optional[str] = ..., ref: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class StringPair(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RequestedDimension(_message.Message):
    __slots__ = ("key", "value", "expiration")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    expiration: _duration_pb2.Duration
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ..., expiration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Executable(_message.Message):
    __slots__ = ("cipd_package", "cipd_version", "cmd", "wrapper")
    CIPD_PACKAGE_FIELD_NUMBER: _ClassVar[int]
    CIPD_VERSION_FIELD_NUMBER: _ClassVar[int]
    CMD_FIELD_NUMBER: _ClassVar[int]
    WRAPPER_FIELD_NUMBER: _ClassVar[int]
    cipd_package: str
    cipd_version: str
    cmd: _containers.RepeatedScalarFieldContainer[str]
    wrapper: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, cipd_package: _Optional[str] = ..., cipd_version: _Optional[str] = ..., cmd: _Optional[_Iterable[str]] = ..., wrapper: _Optional[_Iterable[str]] = ...) -> None: ...

class CacheEntry(_message.Message):
    __slots__ = ("name", "path", "wait_for_warm_cache", "env_var")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    WAIT_FOR_WARM_CACHE_FIELD_NUMBER: _ClassVar[int]
    ENV_VAR_FIELD_NUMBER: _ClassVar[int]
    name: str
    path: str
    wait_for_warm_cache: _duration_pb2.Duration
    env_var: str
    def __init__(self, name: _Optional[str] = ..., path: _Optional[str] = ..., wait_for_warm_cache: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., env_var: _Optional[str] = ...) -> None: ...
