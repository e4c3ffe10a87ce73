from cvproto.resultdb.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TestResultPredicate(_message.Message):
    __slots__ = ("test_id_regexp", "variant", "expectancy", "exclude_exonerated")
    class Expectancy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ALL: _ClassVar[TestResultPredicate.Expectancy]
        VARIANTS_WITH_UNEXPECTED_RESULTS: _ClassVar[TestResultPredicate.Expectancy]
        VARIANTS_WITH_ONLY_UNEXPECTED_RESULTS: _ClassVar[TestResultPredicate.Expectancy]
    ALL: TestResultPredicate.Expectancy
    VARIANTS_WITH_UNEXPECTED_RESULTS: TestResultPredicate.Expectancy
    VARIANTS_WITH_ONLY_UNEXPECTED_RESULTS: TestResultPredicate.Expectancy
    TEST_ID_REGEXP_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    EXPECTANCY_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_EXONERATED_FIELD_NUMBER: _ClassVar[int]
    test_id_regexp: str
    variant: VariantPredicate
    expectancy: TestResultPredicate.Expectancy
    exclude_exonerated: bool
    def __init__(self, test_id_regexp: _Optional[str] = ..., variant: _Optional[_Union[VariantPredicate, _Mapping]] = ..., expectancy: _Optional[_Union[TestResultPredicate.Expectancy, str]] = ..., exclude_exonerated: _Optional[bool] = ...) -> None: ...

class VariantPredicate(_message.Message):
    __slots__ = ("equals", "contains")
    EQUALS_FIELD_NUMBER: _ClassVar[int]
    CONTAINS_FIELD_NUMBER: _ClassVar[int]
    equals: _common_pb2.Variant
    contains: _common_pb2.Variant
    def __init__(self, equals: _Optional[_Union[_common_pb2.Variant, _Mapping]] = ..., contains: _Optional[_Union[_common_pb2.Variant, _Mapping]] = ...) -> None: ...

class ArtifactPredicate(_message.Message):
    __slots__ = ("follow_edges", "test_result_predicate", "content_type_regexp", "artifact_id_regexp")
    class EdgeTypeSet(_message.Message):
        __slots__ = ("included_invocations", "test_results")
        INCLUDED_INVOCATIONS_FIELD_NUMBER: _ClassVar[int]
        TEST_RESULTS_FIELD_NUMBER: _ClassVar[int]
        included_invocations: bool
        test_results: bool
        def __init__(self, included_invocations: _Optional[bool] = ..., test_results: _Optional[bool] = ...) -> None: ...
    FOLLOW_EDGES_FIELD_NUMBER: _ClassVar[int]
    TEST_RESULT_PREDICATE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_REGEXP_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_ID_REGEXP_FIELD_NUMBER: _ClassVar[int]
    follow_edges: ArtifactPredicate.EdgeTypeSet
    test_result_predicate: TestResultPredicate
    content_type_regexp: str
    artifact_id_regexp: str
    def __init__(self, follow_edges: _Optional[_Union[ArtifactPredicate.EdgeTypeSet, _Mapping]] = ..., test_result_predicate: _Optional[_Union[TestResultPredicate, _Mapping]] = ..., content_type_regexp: _Optional[str] = ..., artifact_id_regexp: _Optional[str] = ...) -> None: ...
