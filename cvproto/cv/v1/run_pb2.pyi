from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class Run(_message.Message):
    __slots__ = ()
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Run.Status]
        PENDING: _ClassVar[Run.Status]
        RUNNING: _ClassVar[Run.Status]
        WAITING_FOR_SUBMISSION: _ClassVar[Run.Status]
        SUBMITTING: _ClassVar[Run.Status]
        ENDED_MASK: _ClassVar[Run.Status]
        SUCCEEDED: _ClassVar[Run.Status]
        FAILED: _ClassVar[Run.Status]
        CANCELLED: _ClassVar[Run.Status]
    STATUS_UNSPECIFIED: Run.Status
    PENDING: Run.Status
    RUNNING: Run.Status
    WAITING_FOR_SUBMISSION: Run.Status
    SUBMITTING: Run.Status
    ENDED_MASK: Run.Status
    SUCCEEDED: Run.Status
    FAILED: Run.Status
    CANCELLED: Run.Status
    def __init__(self) -> None: ...
