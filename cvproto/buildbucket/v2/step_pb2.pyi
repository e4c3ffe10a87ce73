import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from cvproto.buildbucket.v2 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Step(_message.Message):
    __slots__ = ("name", "start_time", "end_time", "status", "logs", "merge_build", "summary_markdown", "tags")
    class MergeBuild(_message.Message):
        __slots__ = ("from_logdog_stream", "legacy_global_namespace")
        FROM_LOGDOG_STREAM_FIELD_NUMBER: _ClassVar[int]
        LEGACY_GLOBAL_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
        from_logdog_stream: str
        legacy_global_namespace: bool
        def __init__(self, from_logdog_stream: _Optional[str] = ..., legacy_global_namespace: _Optional[bool] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    MERGE_BUILD_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    status: _common_pb2.Status
    logs: _containers.RepeatedCompositeFieldContainer[_common_pb2.Log]
    merge_build: Step.MergeBuild
    summary_markdown: str
    tags: _containers.RepeatedCompositeFieldContainer[_common_pb2.StringPair]
    def __init__(self, name: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[_common_pb2.Status, str]] = ..., logs: _Optional[_Iterable[_Union[_common_pb2.Log, _Mapping]]] = ..., merge_build: _Optional[_Union[Step.MergeBuild, _Mapping]] = ..., summary_markdown: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[_common_pb2.StringPair, _Mapping]]] = ...) -> None: ...
