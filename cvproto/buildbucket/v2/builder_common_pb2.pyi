from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class BuilderID(_message.Message):
    __slots__ = ("project", "bucket", "builder")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    BUILDER_FIELD_NUMBER: _ClassVar[int]
    project: str
    bucket: str
    builder: str
    def __init__(self, project: _Optional[str] = ..., bucket: _Optional[str] = ..., builder: _Optional[str] = ...) -> None: ...
