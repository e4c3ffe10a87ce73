from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Input(_message.Message):
    __slots__ = ("active", "dry_run", "experimental", "top_level", "run_mode", "owner_is_googler")
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENTAL_FIELD_NUMBER: _ClassVar[int]
    TOP_LEVEL_FIELD_NUMBER: _ClassVar[int]
    RUN_MODE_FIELD_NUMBER: _ClassVar[int]
    OWNER_IS_GOOGLER_FIELD_NUMBER: _ClassVar[int]
    active: bool
    dry_run: bool
    experimental: bool
    top_level: bool
    run_mode: str
    owner_is_googler: bool
    def __init__(self, active: _Optional[bool] = ..., dry_run: _Optional[bool] = ..., experimental: _Optional[bool] = ..., top_level: _Optional[bool] = ..., run_mode: _Optional[str] = ..., owner_is_googler: _Optional[bool] = ...) -> None: ...

class Output(_message.Message):
    __slots__ = ("triggered_build_ids", "retry", "reuse", "reusability")
    class Retry(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTPUT_RETRY_UNSPECIFIED: _ClassVar[Output.Retry]
        OUTPUT_RETRY_ALLOWED: _ClassVar[Output.Retry]
        OUTPUT_RETRY_DENIED: _ClassVar[Output.Retry]
    OUTPUT_RETRY_UNSPECIFIED: Output.Retry
    OUTPUT_RETRY_ALLOWED: Output.Retry
    OUTPUT_RETRY_DENIED: Output.Retry
    class Reuse(_message.Message):
        __slots__ = ("mode_regexp", "deny")
        MODE_REGEXP_FIELD_NUMBER: _ClassVar[int]
        DENY_FIELD_NUMBER: _ClassVar[int]
        mode_regexp: str
        deny: bool
        def __init__(self, mode_regexp: _Optional[str] = ..., deny: _Optional[bool] = ...) -> None: ...
    class Reusability(_message.Message):
        __slots__ = ("mode_allowlist",)
        MODE_ALLOWLIST_FIELD_NUMBER: _ClassVar[int]
        mode_allowlist: _containers.RepeatedScalarFieldContainer[str]
        def __init__(self, mode_allowlist: _Optional[_Iterable[str]] = ...) -> None: ...
    TRIGGERED_BUILD_IDS_FIELD_NUMBER: _ClassVar[int]
    RETRY_FIELD_NUMBER: _ClassVar[int]
    REUSE_FIELD_NUMBER: _ClassVar[int]
    REUSABILITY_FIELD_NUMBER: _ClassVar[int]
    triggered_build_ids: _containers.RepeatedScalarFieldContainer[int]
    retry: Output.Retry
    reuse: _containers.RepeatedCompositeFieldContainer[Output.Reuse]
    reusability: Output.Reusability
    def __init__(self, triggered_build_ids: _Optional[_Iterable[int]] = ..., retry: _Optional[_Union[Output.Retry, str]] = ..., reuse: _Optional[_Iterable[_Union[Output.Reuse, _Mapping]]] = ..., reusability: _Optional[_Union[Output.Reusability, _Mapping]] = ...) -> None: ...
