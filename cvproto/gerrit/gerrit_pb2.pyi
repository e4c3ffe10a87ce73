import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChangeStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGE_STATUS_INVALID: _ClassVar[ChangeStatus]
    NEW: _ClassVar[ChangeStatus]
    MERGED: _ClassVar[ChangeStatus]
    ABANDONED: _ClassVar[ChangeStatus]

class QueryOption(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPTION_UNSPECIFIED: _ClassVar[QueryOption]
    LABELS: _ClassVar[QueryOption]
    DETAILED_LABELS: _ClassVar[QueryOption]
    CURRENT_REVISION: _ClassVar[QueryOption]
    ALL_REVISIONS: _ClassVar[QueryOption]
    CURRENT_COMMIT: _ClassVar[QueryOption]
    ALL_COMMITS: _ClassVar[QueryOption]
    CURRENT_FILES: _ClassVar[QueryOption]
    ALL_FILES: _ClassVar[QueryOption]
    DETAILED_ACCOUNTS: _ClassVar[QueryOption]
    REVIEWER_UPDATES: _ClassVar[QueryOption]
    MESSAGES: _ClassVar[QueryOption]
    CURRENT_ACTIONS: _ClassVar[QueryOption]
    CHANGE_ACTIONS: _ClassVar[QueryOption]
    REVIEWED: _ClassVar[QueryOption]
    SKIP_MERGEABLE: _ClassVar[QueryOption]
    SUBMITTABLE: _ClassVar[QueryOption]
    WEB_LINKS: _ClassVar[QueryOption]
    CHECK: _ClassVar[QueryOption]
    COMMIT_FOOTERS: _ClassVar[QueryOption]
    PUSH_CERTIFICATES: _ClassVar[QueryOption]
    TRACKING_IDS: _ClassVar[QueryOption]
    DOWNLOAD_COMMANDS: _ClassVar[QueryOption]
CHANGE_STATUS_INVALID: ChangeStatus
NEW: ChangeStatus
MERGED: ChangeStatus
ABANDONED: ChangeStatus
OPTION_UNSPECIFIED: QueryOption
LABELS: QueryOption
DETAILED_LABELS: QueryOption
CURRENT_REVISION: QueryOption
ALL_REVISIONS: QueryOption
CURRENT_COMMIT: QueryOption
ALL_COMMITS: QueryOption
CURRENT_FILES: QueryOption
ALL_FILES: QueryOption
DETAILED_ACCOUNTS: QueryOption
REVIEWER_UPDATES: QueryOption
MESSAGES: QueryOption
CURRENT_ACTIONS: QueryOption
CHANGE_ACTIONS: QueryOption
REVIEWED: QueryOption
SKIP_MERGEABLE: QueryOption
SUBMITTABLE: QueryOption
WEB_LINKS: QueryOption
CHECK: QueryOption
COMMIT_FOOTERS: QueryOption
PUSH_CERTIFICATES: QueryOption
TRACKING_IDS: QueryOption
DOWNLOAD_COMMANDS: QueryOption

class ChangeInfo(_message.Message):
    __slots__ = ("number", "owner", "project", "ref", "status", "current_revision", "revisions", "labels", "messages", "submittable", "created", "updated", "is_private", "requirements", "revert_of", "cherry_pick_of_change")
    class RevisionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: RevisionInfo
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[RevisionInfo, _Mapping]] = ...) -> None: ...
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: LabelInfo
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[LabelInfo, _Mapping]] = ...) -> None: ...
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_REVISION_FIELD_NUMBER: _ClassVar[int]
    REVISIONS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    SUBMITTABLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    IS_PRIVATE_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    REVERT_OF_FIELD_NUMBER: _ClassVar[int]
    CHERRY_PICK_OF_CHANGE_FIELD_NUMBER: _ClassVar[int]
    number: int
    owner: AccountInfo
    project: str
    ref: str
    status: ChangeStatus
    current_revision: str
    revisions: _containers.MessageMap[str, RevisionInfo]
    labels: _containers.MessageMap[str, LabelInfo]
    messages: _containers.RepeatedCompositeFieldContainer[ChangeMessageInfo]
    submittable: bool
    created: _timestamp_pb2.Timestamp
    updated: _timestamp_pb2.Timestamp
    is_private: bool
    requirements: _containers.RepeatedCompositeFieldContainer[Requirement]
    revert_of: int
    cherry_pick_of_change: int
    def __init__(self, number: _Optional[int] = ..., owner: _Optional[_Union[AccountInfo, _Mapping]] = ..., project: _Optional[str] = ..., ref: _Optional[str] = ..., status: _Optional[_Union[ChangeStatus, str]] = ..., current_revision: _Optional[str] = ..., revisions: _Optional[_Mapping[str, RevisionInfo]] = ..., labels: _Optional[_Mapping[str, LabelInfo]] = ..., messages: _Optional[_Iterable[_Union[ChangeMessageInfo, _Mapping]]] = ..., submittable: _Optional[bool] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., is_private: _Optional[bool] = ..., requirements: _Optional[_Iterable[_Union[Requirement, _Mapping]]] = ..., revert_of: _Optional[int] = ..., cherry_pick_of_change: _Optional[int] = ...) -> None: ...

class AccountInfo(_message.Message):
    __slots__ = ("name", "email", "secondary_emails", "username", "account_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SECONDARY_EMAILS_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    email: str
    secondary_emails: _containers.RepeatedScalarFieldContainer[str]
    username: str
    account_id: int
    def __init__(self, name: _Optional[str] = ..., email: _Optional[str] = ..., secondary_emails: _Optional[_Iterable[str]] = ..., username: _Optional[str] = ..., account_id: _Optional[int] = ...) -> None: ...

class RevisionInfo(_message.Message):
    __slots__ = ("kind", "number", "uploader", "ref", "commit", "files", "created", "description")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_INVALID: _ClassVar[RevisionInfo.Kind]
        REWORK: _ClassVar[RevisionInfo.Kind]
        TRIVIAL_REBASE: _ClassVar[RevisionInfo.Kind]
        MERGE_FIRST_PARENT_UPDATE: _ClassVar[RevisionInfo.Kind]
        NO_CODE_CHANGE: _ClassVar[RevisionInfo.Kind]
        NO_CHANGE: _ClassVar[RevisionInfo.Kind]
    KIND_INVALID: RevisionInfo.Kind
    REWORK: RevisionInfo.Kind
    TRIVIAL_REBASE: RevisionInfo.Kind
    MERGE_FIRST_PARENT_UPDATE: RevisionInfo.Kind
    NO_CODE_CHANGE: RevisionInfo.Kind
    NO_CHANGE: RevisionInfo.Kind
    class FilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: FileInfo
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[FileInfo, _Mapping]] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    UPLOADER_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    kind: RevisionInfo.Kind
    number: int
    uploader: AccountInfo
    ref: str
    commit: CommitInfo
    files: _containers.MessageMap[str, FileInfo]
    created: _timestamp_pb2.Timestamp
    description: str
    def __init__(self, kind: _Optional[_Union[RevisionInfo.Kind, str]] = ..., number: _Optional[int] = ..., uploader: _Optional[_Union[AccountInfo, _Mapping]] = ..., ref: _Optional[str] = ..., commit: _Optional[_Union[CommitInfo, _Mapping]] = ..., files: _Optional[_Mapping[str, FileInfo]] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class CommitInfo(_message.Message):
    __slots__ = ("id", "parents", "message")
    class Parent(_message.Message):
        __slots__ = ("id",)
        ID_FIELD_NUMBER: _ClassVar[int]
        id: str
        def __init__(self, id: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    PARENTS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    parents: _containers.RepeatedCompositeFieldContainer[CommitInfo.Parent]
    message: str
    def __init__(self, id: _Optional[str] = ..., parents: _Optional[_Iterable[_Union[CommitInfo.Parent, _Mapping]]] = ..., message: _Optional[str] = ...) -> None: ...

class LabelInfo(_message.Message):
    __slots__ = ("optional", "approved", "rejected", "recommended", "disliked", "blocking", "value", "default_value", "all", "values")
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: str
        def __init__(self, key: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...
    OPTIONAL_FIELD_NUMBER: _ClassVar[int]
    APPROVED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_FIELD_NUMBER: _ClassVar[int]
    DISLIKED_FIELD_NUMBER: _ClassVar[int]
    BLOCKING_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    optional: bool
    approved: AccountInfo
    rejected: AccountInfo
    recommended: AccountInfo
    disliked: AccountInfo
    blocking: bool
    value: int
    default_value: int
    all: _containers.RepeatedCompositeFieldContainer[ApprovalInfo]
    values: _containers.ScalarMap[int, str]
    def __init__(self, optional: _Optional[bool] = ..., approved: _Optional[_Union[AccountInfo, _Mapping]] = ..., rejected: _Optional[_Union[AccountInfo, _Mapping]] = ..., recommended: _Optional[_Union[AccountInfo, _Mapping]] = ..., disliked: _Optional[_Union[AccountInfo, _Mapping]] = ..., blocking: _Optional[bool] = ..., value: _Optional[int] = ..., default_value: _Optional[int] = ..., all: _Optional[_Iterable[_Union[ApprovalInfo, _Mapping]]] = ..., values: _Optional[_Mapping[int, str]] = ...) -> None: ...

class ApprovalInfo(_message.Message):
    __slots__ = ("user", "value", "permitted_voting_range", "date", "tag", "post_submit")
    USER_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    PERMITTED_VOTING_RANGE_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    POST_SUBMIT_FIELD_NUMBER: _ClassVar[int]
    user: AccountInfo
    value: int
    permitted_voting_range: VotingRangeInfo
    date: _timestamp_pb2.Timestamp
    tag: str
    post_submit: bool
    def __init__(self, user: _Optional[_Union[AccountInfo, _Mapping]] = ..., value: _Optional[int] = ..., permitted_voting_range: _Optional[_Union[VotingRangeInfo, _Mapping]] = ..., date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tag: _Optional[str] = ..., post_submit: _Optional[bool] = ...) -> None: ...

class VotingRangeInfo(_message.Message):
    __slots__ = ("min", "max")
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    min: int
    max: int
    def __init__(self, min: _Optional[int] = ..., max: _Optional[int] = ...) -> None: ...

class ChangeMessageInfo(_message.Message):
    __slots__ = ("id", "author", "real_author", "date", "message")
    ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    REAL_AUTHOR_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    author: AccountInfo
    real_author: AccountInfo
    date: _timestamp_pb2.Timestamp
    message: str
    def __init__(self, id: _Optional[str] = ..., author: _Optional[_Union[AccountInfo, _Mapping]] = ..., real_author: _Optional[_Union[AccountInfo, _Mapping]] = ..., date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...

class Requirement(_message.Message):
    __slots__ = ("status", "fallback_text", "type")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REQUIREMENT_STATUS_UNSPECIFIED: _ClassVar[Requirement.Status]
        REQUIREMENT_STATUS_OK: _ClassVar[Requirement.Status]
        REQUIREMENT_STATUS_NOT_READY: _ClassVar[Requirement.Status]
        REQUIREMENT_STATUS_RULE_ERROR: _ClassVar[Requirement.Status]
    REQUIREMENT_STATUS_UNSPECIFIED: Requirement.Status
    REQUIREMENT_STATUS_OK: Requirement.Status
    REQUIREMENT_STATUS_NOT_READY: Requirement.Status
    REQUIREMENT_STATUS_RULE_ERROR: Requirement.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_TEXT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    status: Requirement.Status
    fallback_text: str
    type: str
    def __init__(self, status: _Optional[_Union[Requirement.Status, str]] = ..., fallback_text: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class FileInfo(_message.Message):
    __slots__ = ("status", "binary", "old_path", "lines_inserted", "lines_deleted", "size_delta", "size")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        M: _ClassVar[FileInfo.Status]
        A: _ClassVar[FileInfo.Status]
        D: _ClassVar[FileInfo.Status]
        R: _ClassVar[FileInfo.Status]
        C: _ClassVar[FileInfo.Status]
        W: _ClassVar[FileInfo.Status]
    M: FileInfo.Status
    A: FileInfo.Status
    D: FileInfo.Status
    R: FileInfo.Status
    C: FileInfo.Status
    W: FileInfo.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BINARY_FIELD_NUMBER: _ClassVar[int]
    OLD_PATH_FIELD_NUMBER: _ClassVar[int]
    LINES_INSERTED_FIELD_NUMBER: _ClassVar[int]
    LINES_DELETED_FIELD_NUMBER: _ClassVar[int]
    SIZE_DELTA_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    status: FileInfo.Status
    binary: bool
    old_path: str
    lines_inserted: int
    lines_deleted: int
    size_delta: int
    size: int
    def __init__(self, status: _Optional[_Union[FileInfo.Status, str]] = ..., binary: _Optional[bool] = ..., old_path: _Optional[str] = ..., lines_inserted: _Optional[int] = ..., lines_deleted: _Optional[int] = ..., size_delta: _Optional[int] = ..., size: _Optional[int] = ...) -> None: ...
