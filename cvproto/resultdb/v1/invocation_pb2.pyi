from cvproto.resultdb.v1 import common_pb2 as _common_pb2
from cvproto.resultdb.v1 import predicate_pb2 as _predicate_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BigQueryExport(_message.Message):
    __slots__ = ("project", "dataset", "table", "test_results", "text_artifacts")
    class TestResults(_message.Message):
        __slots__ = ("predicate",)
        PREDICATE_FIELD_NUMBER: _ClassVar[int]
        predicate: _predicate_pb2.TestResultPredicate
        def __init__(self, predicate: _Optional[_Union[_predicate_pb2.TestResultPredicate, _Mapping]] = ...) -> None: ...
    class TextArtifacts(_message.Message):
        __slots__ = ("predicate",)
        PREDICATE_FIELD_NUMBER: _ClassVar[int]
        predicate: _predicate_pb2.ArtifactPredicate
        def __init__(self, predicate: _Optional[_Union[_predicate_pb2.ArtifactPredicate, _Mapping]] = ...) -> None: ...
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    TEST_RESULTS_FIELD_NUMBER: _ClassVar[int]
    TEXT_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    project: str
    dataset: str
    table: str
    test_results: BigQueryExport.TestResults
    text_artifacts: BigQueryExport.TextArtifacts
    def __init__(self, project: _Optional[str] = ..., dataset: _Optional[str] = ..., table: _Optional[str] = ..., test_results: _Optional[_Union[BigQueryExport.TestResults, _Mapping]] = ..., text_artifacts: _Optional[_Union[BigQueryExport.TextArtifacts, _Mapping]] = ...) -> None: ...

class HistoryOptions(_message.Message):
    __slots__ = ("use_invocation_timestamp", "commit")
    USE_INVOCATION_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    use_invocation_timestamp: bool
    commit: _common_pb2.CommitPosition
    def __init__(self, use_invocation_timestamp: _Optional[bool] = ..., commit: _Optional[_Union[_common_pb2.CommitPosition, _Mapping]] = ...) -> None: ...
