from google.protobuf import struct_pb2 as _struct_pb2
from cvproto.buildbucket.v2 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Task(_message.Message):
    __slots__ = ("id", "link", "status", "status_details", "summary_html", "details", "update_id", "summary_markdown")
    ID_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_DETAILS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_HTML_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    id: TaskID
    link: str
    status: _common_pb2.Status
    status_details: _common_pb2.StatusDetails
    summary_html: str
    details: _struct_pb2.Struct
    update_id: int
    summary_markdown: str
    def __init__(self, id: _Optional[_Union[TaskID, _Mapping]] = ..., link: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.Status, str]] = ..., status_details: _Optional[_Union[_common_pb2.StatusDetails, _Mapping]] = ..., summary_html: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., update_id: _Optional[int] = ..., summary_markdown: _Optional[str] = ...) -> None: ...

class TaskID(_message.Message):
    __slots__ = ("target", "id")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    target: str
    id: str
    def __init__(self, target: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...
