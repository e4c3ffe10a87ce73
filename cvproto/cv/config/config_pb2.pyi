import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from cvproto.cv.v1 import run_pb2 as _run_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CommentLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMENT_LEVEL_UNSET: _ClassVar[CommentLevel]
    COMMENT_LEVEL_FULL: _ClassVar[CommentLevel]
    COMMENT_LEVEL_RESTRICTED: _ClassVar[CommentLevel]

class Toggle(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNSET: _ClassVar[Toggle]
    YES: _ClassVar[Toggle]
    NO: _ClassVar[Toggle]
COMMENT_LEVEL_UNSET: CommentLevel
COMMENT_LEVEL_FULL: CommentLevel
COMMENT_LEVEL_RESTRICTED: CommentLevel
UNSET: Toggle
YES: Toggle
NO: Toggle

class Config(_message.Message):
    __slots__ = ("draining_start_time", "cq_status_host", "submit_options", "config_groups", "project_scoped_account", "honor_gerrit_linked_accounts", "gerrit_listener_type")
    class GerritListenerType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        GERRIT_LISTENER_TYPE_UNSPECIFIED: _ClassVar[Config.GerritListenerType]
        GERRIT_LISTENER_TYPE_PUBSUB: _ClassVar[Config.GerritListenerType]
        GERRIT_LISTENER_TYPE_LEGACY_POLLER: _ClassVar[Config.GerritListenerType]
    GERRIT_LISTENER_TYPE_UNSPECIFIED: Config.GerritListenerType
    GERRIT_LISTENER_TYPE_PUBSUB: Config.GerritListenerType
    GERRIT_LISTENER_TYPE_LEGACY_POLLER: Config.GerritListenerType
    DRAINING_START_TIME_FIELD_NUMBER: _ClassVar[int]
    CQ_STATUS_HOST_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_GROUPS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_SCOPED_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    HONOR_GERRIT_LINKED_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    GERRIT_LISTENER_TYPE_FIELD_NUMBER: _ClassVar[int]
    draining_start_time: str
    cq_status_host: str
    submit_options: SubmitOptions
    config_groups: _containers.RepeatedCompositeFieldContainer[ConfigGroup]
    project_scoped_account: Toggle
    honor_gerrit_linked_accounts: bool
    gerrit_listener_type: Config.GerritListenerType
    def __init__(self, draining_start_time: _Optional[str] = ..., cq_status_host: _Optional[str] = ..., submit_options: _Optional[_Union[SubmitOptions, _Mapping]] = ..., config_groups: _Optional[_Iterable[_Union[ConfigGroup, _Mapping]]] = ..., project_scoped_account: _Optional[_Union[Toggle, str]] = ..., honor_gerrit_linked_accounts: _Optional[bool] = ..., gerrit_listener_type: _Optional[_Union[Config.GerritListenerType, str]] = ...) -> None: ...

class SubmitOptions(_message.Message):
    __slots__ = ("max_burst", "burst_delay")
    MAX_BURST_FIELD_NUMBER: _ClassVar[int]
    BURST_DELAY_FIELD_NUMBER: _ClassVar[int]
    max_burst: int
    burst_delay: _duration_pb2.Duration
    def __init__(self, max_burst: _Optional[int] = ..., burst_delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ConfigGroup(_message.Message):
    __slots__ = ("name", "gerrit", "combine_cls", "verifiers", "fallback", "additional_modes", "user_limits", "user_limit_default", "post_actions", "tryjob_experiments")
    class Gerrit(_message.Message):
        __slots__ = ("url", "projects")
        class Project(_message.Message):
            __slots__ = ("name", "ref_regexp", "ref_regexp_exclude")
            NAME_FIELD_NUMBER: _ClassVar[int]
            REF_REGEXP_FIELD_NUMBER: _ClassVar[int]
            REF_REGEXP_EXCLUDE_FIELD_NUMBER: _ClassVar[int]
            name: str
            ref_regexp: _containers.RepeatedScalarFieldContainer[str]
            ref_regexp_exclude: _containers.RepeatedScalarFieldContainer[str]
            def __init__(self, name: _Optional[str] = ..., ref_regexp: _Optional[_Iterable[str]] = ..., ref_regexp_exclude: _Optional[_Iterable[str]] = ...) -> None: ...
        URL_FIELD_NUMBER: _ClassVar[int]
        PROJECTS_FIELD_NUMBER: _ClassVar[int]
        url: str
        projects: _containers.RepeatedCompositeFieldContainer[ConfigGroup.Gerrit.Project]
        def __init__(self, url: _Optional[str] = ..., projects: _Optional[_Iterable[_Union[ConfigGroup.Gerrit.Project, _Mapping]]] = ...) -> None: ...
    class PostAction(_message.Message):
        __slots__ = ("name", "conditions", "vote_gerrit_labels")
        class TriggeringCondition(_message.Message):
            __slots__ = ("mode", "statuses")
            MODE_FIELD_NUMBER: _ClassVar[int]
            STATUSES_FIELD_NUMBER: _ClassVar[int]
            mode: str
            statuses: _containers.RepeatedScalarFieldContainer[_run_pb2.Run.Status]
            def __init__(self, mode: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_run_pb2.Run.Status, str]]] = ...) -> None: ...
        class VoteGerritLabels(_message.Message):
            __slots__ = ("votes",)
            class Vote(_message.Message):
                __slots__ = ("name", "value")
                NAME_FIELD_NUMBER: _ClassVar[int]
                VALUE_FIELD_NUMBER: _ClassVar[int]
                name: str
                value: int
                def __init__(self, name: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
            VOTES_FIELD_NUMBER: _ClassVar[int]
            votes: _containers.RepeatedCompositeFieldContainer[ConfigGroup.PostAction.VoteGerritLabels.Vote]
            def __init__(self, votes: _Optional[_Iterable[_Union[ConfigGroup.PostAction.VoteGerritLabels.Vote, _Mapping]]] = ...) -> None: ...
        NAME_FIELD_NUMBER: _ClassVar[int]
        CONDITIONS_FIELD_NUMBER: _ClassVar[int]
        VOTE_GERRIT_LABELS_FIELD_NUMBER: _ClassVar[int]
        name: str
        conditions: _containers.RepeatedCompositeFieldContainer[ConfigGroup.PostAction.TriggeringCondition]
        vote_gerrit_labels: ConfigGroup.PostAction.VoteGerritLabels
        def __init__(self, name: _Optional[str] = ..., conditions: _Optional[_Iterable[_Union[ConfigGroup.PostAction.TriggeringCondition, _Mapping]]] = ..., vote_gerrit_labels: _Optional[_Union[ConfigGroup.PostAction.VoteGerritLabels, _Mapping]] = ...) -> None: ...
    class TryjobExperiment(_message.Message):
        __slots__ = ("name", "condition")
        class Condition(_message.Message):
            __slots__ = ("owner_group_allowlist",)
            OWNER_GROUP_ALLOWLIST_FIELD_NUMBER: _ClassVar[int]
            owner_group_allowlist: _containers.RepeatedScalarFieldContainer[str]
            def __init__(self, owner_group_allowlist: _Optional[_Iterable[str]] = ...) -> None: ...
        NAME_FIELD_NUMBER: _ClassVar[int]
        CONDITION_FIELD_NUMBER: _ClassVar[int]
        name: str
        condition: ConfigGroup.TryjobExperiment.Condition
        def __init__(self, name: _Optional[str] = ..., condition: _Optional[_Union[ConfigGroup.TryjobExperiment.Condition, _Mapping]] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    GERRIT_FIELD_NUMBER: _ClassVar[int]
    COMBINE_CLS_FIELD_NUMBER: _ClassVar[int]
    VERIFIERS_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_MODES_FIELD_NUMBER: _ClassVar[int]
    USER_LIMITS_FIELD_NUMBER: _ClassVar[int]
    USER_LIMIT_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    POST_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    TRYJOB_EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    gerrit: _containers.RepeatedCompositeFieldContainer[ConfigGroup.Gerrit]
    combine_cls: CombineCLs
    verifiers: Verifiers
    fallback: Toggle
    additional_modes: _containers.RepeatedCompositeFieldContainer[Mode]
    user_limits: _containers.RepeatedCompositeFieldContainer[UserLimit]
    user_limit_default: UserLimit
    post_actions: _containers.RepeatedCompositeFieldContainer[ConfigGroup.PostAction]
    tryjob_experiments: _containers.RepeatedCompositeFieldContainer[ConfigGroup.TryjobExperiment]
    def __init__(self, name: _Optional[str] = ..., gerrit: _Optional[_Iterable[_Union[ConfigGroup.Gerrit, _Mapping]]] = ..., combine_cls: _Optional[_Union[CombineCLs, _Mapping]] = ..., verifiers: _Optional[_Union[Verifiers, _Mapping]] = ..., fallback: _Optional[_Union[Toggle, str]] = ..., additional_modes: _Optional[_Iterable[_Union[Mode, _Mapping]]] = ..., user_limits: _Optional[_Iterable[_Union[UserLimit, _Mapping]]] = ..., user_limit_default: _Optional[_Union[UserLimit, _Mapping]] = ..., post_actions: _Optional[_Iterable[_Union[ConfigGroup.PostAction, _Mapping]]] = ..., tryjob_experiments: _Optional[_Iterable[_Union[ConfigGroup.TryjobExperiment, _Mapping]]] = ...) -> None: ...

class Mode(_message.Message):
    __slots__ = ("name", "cq_label_value", "triggering_label", "triggering_value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CQ_LABEL_VALUE_FIELD_NUMBER: _ClassVar[int]
    TRIGGERING_LABEL_FIELD_NUMBER: _ClassVar[int]
    TRIGGERING_VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    cq_label_value: int
    triggering_label: str
    triggering_value: int
    def __init__(self, name: _Optional[str] = ..., cq_label_value: _Optional[int] = ..., triggering_label: _Optional[str] = ..., triggering_value: _Optional[int] = ...) -> None: ...

class CombineCLs(_message.Message):
    __slots__ = ("stabilization_delay",)
    STABILIZATION_DELAY_FIELD_NUMBER: _ClassVar[int]
    stabilization_delay: _duration_pb2.Duration
    def __init__(self, stabilization_delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Verifiers(_message.Message):
    __slots__ = ("gerrit_cq_ability", "tree_status", "tryjob", "cqlinter", "fake")
    class GerritCQAbility(_message.Message):
        __slots__ = ("committer_list", "dry_run_access_list", "new_patchset_run_access_list", "allow_submit_with_open_deps", "allow_owner_if_submittable", "trust_dry_runner_deps", "allow_non_owner_dry_runner")
        class CQAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            UNSET: _ClassVar[Verifiers.GerritCQAbility.CQAction]
            DRY_RUN: _ClassVar[Verifiers.GerritCQAbility.CQAction]
            COMMIT: _ClassVar[Verifiers.GerritCQAbility.CQAction]
        UNSET: Verifiers.GerritCQAbility.CQAction
        DRY_RUN: Verifiers.GerritCQAbility.CQAction
        COMMIT: Verifiers.GerritCQAbility.CQAction
        COMMITTER_LIST_FIELD_NUMBER: _ClassVar[int]
        DRY_RUN_ACCESS_LIST_FIELD_NUMBER: _ClassVar[int]
        NEW_PATCHSET_RUN_ACCESS_LIST_FIELD_NUMBER: _ClassVar[int]
        ALLOW_SUBMIT_WITH_OPEN_DEPS_FIELD_NUMBER: _ClassVar[int]
        ALLOW_OWNER_IF_SUBMITTABLE_FIELD_NUMBER: _ClassVar[int]
        TRUST_DRY_RUNNER_DEPS_FIELD_NUMBER: _ClassVar[int]
        ALLOW_NON_OWNER_DRY_RUNNER_FIELD_NUMBER: _ClassVar[int]
        committer_list: _containers.RepeatedScalarFieldContainer[str]
        dry_run_access_list: _containers.RepeatedScalarFieldContainer[str]
        new_patchset_run_access_list: _containers.RepeatedScalarFieldContainer[str]
        allow_submit_with_open_deps: bool
        allow_owner_if_submittable: Verifiers.GerritCQAbility.CQAction
        trust_dry_runner_deps: bool
        allow_non_owner_dry_runner: bool
        def __init__(self, committer_list: _Optional[_Iterable[str]] = ..., dry_run_access_list: _Optional[_Iterable[str]] = ..., new_patchset_run_access_list: _Optional[_Iterable[str]] = ..., allow_submit_with_open_deps: _Optional[bool] = ..., allow_owner_if_submittable: _Optional[_Union[Verifiers.GerritCQAbility.CQAction, str]] = ..., trust_dry_runner_deps: _Optional[bool] = ..., allow_non_owner_dry_runner: _Optional[bool] = ...) -> None: ...
    class TreeStatus(_message.Message):
        __slots__ = ("url", "tree_name")
        URL_FIELD_NUMBER: _ClassVar[int]
        TREE_NAME_FIELD_NUMBER: _ClassVar[int]
        url: str
        tree_name: str
        def __init__(self, url: _Optional[str] = ..., tree_name: _Optional[str] = ...) -> None: ...
    class Tryjob(_message.Message):
        __slots__ = ("builders", "retry_config", "cancel_stale_tryjobs")
        class Builder(_message.Message):
            __slots__ = ("host", "name", "includable_only", "result_visibility", "disable_reuse", "cancel_stale", "experiment_percentage", "equivalent_to", "location_filters", "owner_whitelist_group", "mode_allowlist", "skip_footers", "disable_reuse_footers", "reuse_window")
            class LocationFilter(_message.Message):
                __slots__ = ("gerrit_host_regexp", "gerrit_project_regexp", "path_regexp", "exclude", "gerrit_ref_regexp")
                GERRIT_HOST_REGEXP_FIELD_NUMBER: _ClassVar[int]
                GERRIT_PROJECT_REGEXP_FIELD_NUMBER: _ClassVar[int]
                PATH_REGEXP_FIELD_NUMBER: _ClassVar[int]
                EXCLUDE_FIELD_NUMBER: _ClassVar[int]
                GERRIT_REF_REGEXP_FIELD_NUMBER: _ClassVar[int]
                gerrit_host_regexp: str
                gerrit_project_regexp: str
                path_regexp: str
                exclude: bool
                gerrit_ref_regexp: str
                def __init__(self, gerrit_host_regexp: _Optional[str] = ..., gerrit_project_regexp: _Optional[str] = ..., path_regexp: _Optional[str] = ..., exclude: _Optional[bool] = ..., gerrit_ref_regexp: _Optional[str] = ...) -> None: ...
            class SkipFooter(_message.Message):
                __slots__ = ("key", "value_regexp")
                KEY_FIELD_NUMBER: _ClassVar[int]
                VALUE_REGEXP_FIELD_NUMBER: _ClassVar[int]
                key: str
                value_regexp: str
                def __init__(self, key: _Optional[str] = ..., value_regexp: _Optional[str] = ...) -> None: ...
            class ReuseWindow(_message.Message):
                __slots__ = ("max_commit_distance",)
                MAX_COMMIT_DISTANCE_FIELD_NUMBER: _ClassVar[int]
                max_commit_distance: int
                def __init__(self, max_commit_distance: _Optional[int] = ...) -> None: ...
            HOST_FIELD_NUMBER: _ClassVar[int]
            NAME_FIELD_NUMBER: _ClassVar[int]
            INCLUDABLE_ONLY_FIELD_NUMBER: _ClassVar[int]
            RESULT_VISIBILITY_FIELD_NUMBER: _ClassVar[int]
            DISABLE_REUSE_FIELD_NUMBER: _ClassVar[int]
            CANCEL_STALE_FIELD_NUMBER: _ClassVar[int]
            EXPERIMENT_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
            EQUIVALENT_TO_FIELD_NUMBER: _ClassVar[int]
            LOCATION_FILTERS_FIELD_NUMBER: _ClassVar[int]
            OWNER_WHITELIST_GROUP_FIELD_NUMBER: _ClassVar[int]
            MODE_ALLOWLIST_FIELD_NUMBER: _ClassVar[int]
            SKIP_FOOTERS_FIELD_NUMBER: _ClassVar[int]
            DISABLE_REUSE_FOOTERS_FIELD_NUMBER: _ClassVar[int]
            REUSE_WINDOW_FIELD_NUMBER: _ClassVar[int]
            host: str
            name: str
            includable_only: bool
            result_visibility: CommentLevel
            disable_reuse: bool
            cancel_stale: Toggle
            experiment_percentage: float
            equivalent_to: Verifiers.Tryjob.EquivalentBuilder
            location_filters: _containers.RepeatedCompositeFieldContainer[Verifiers.Tryjob.Builder.LocationFilter]
            owner_whitelist_group: _containers.RepeatedScalarFieldContainer[str]
            mode_allowlist: _containers.RepeatedScalarFieldContainer[str]
            skip_footers: _containers.RepeatedCompositeFieldContainer[Verifiers.Tryjob.Builder.SkipFooter]
            disable_reuse_footers: _containers.RepeatedScalarFieldContainer[str]
            reuse_window: Verifiers.Tryjob.Builder.ReuseWindow
            def __init__(self, host: _Optional[str] = ..., name: _Optional[str] = ..., includable_only: _Optional[bool] = ..., result_visibility: _Optional[_Union[CommentLevel, str]] = ..., disable_reuse: _Optional[bool] = ..., cancel_stale: _Optional[_Union[Toggle, str]] = ..., experiment_percentage: _Optional[float] = ..., equivalent_to: _Optional[_Union[Verifiers.Tryjob.EquivalentBuilder, _Mapping]] = ..., location_filters: _Optional[_Iterable[_Union[Verifiers.Tryjob.Builder.LocationFilter, _Mapping]]] = ..., owner_whitelist_group: _Optional[_Iterable[str]] = ..., mode_allowlist: _Optional[_Iterable[str]] = ..., skip_footers: _Optional[_Iterable[_Union[Verifiers.Tryjob.Builder.SkipFooter, _Mapping]]] = ..., disable_reuse_footers: _Optional[_Iterable[str]] = ..., reuse_window: _Optional[_Union[Verifiers.Tryjob.Builder.ReuseWindow, _Mapping]] = ...) -> None: ...
        class EquivalentBuilder(_message.Message):
            __slots__ = ("name", "percentage", "owner_whitelist_group")
            NAME_FIELD_NUMBER: _ClassVar[int]
            PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
            OWNER_WHITELIST_GROUP_FIELD_NUMBER: _ClassVar[int]
            name: str
            percentage: float
            owner_whitelist_group: str
            def __init__(self, name: _Optional[str] = ..., percentage: _Optional[float] = ..., owner_whitelist_group: _Optional[str] = ...) -> None: ...
        class IncludableBuilder(_message.Message):
            __slots__ = ("name",)
            NAME_FIELD_NUMBER: _ClassVar[int]
            name: str
            def __init__(self, name: _Optional[str] = ...) -> None: ...
        class RetryConfig(_message.Message):
            __slots__ = ("single_quota", "global_quota", "failure_weight", "transient_failure_weight", "timeout_weight")
            SINGLE_QUOTA_FIELD_NUMBER: _ClassVar[int]
            GLOBAL_QUOTA_FIELD_NUMBER: _ClassVar[int]
            FAILURE_WEIGHT_FIELD_NUMBER: _ClassVar[int]
            TRANSIENT_FAILURE_WEIGHT_FIELD_NUMBER: _ClassVar[int]
            TIMEOUT_WEIGHT_FIELD_NUMBER: _ClassVar[int]
            single_quota: int
            global_quota: int
            failure_weight: int
            transient_failure_weight: int
            timeout_weight: int
            def __init__(self, single_quota: _Optional[int] = ..., global_quota: _Optional[int] = ..., failure_weight: _Optional[int] = ..., transient_failure_weight: _Optional[int] = ..., timeout_weight: _Optional[int] = ...) -> None: ...
        BUILDERS_FIELD_NUMBER: _ClassVar[int]
        RETRY_CONFIG_FIELD_NUMBER: _ClassVar[int]
        CANCEL_STALE_TRYJOBS_FIELD_NUMBER: _ClassVar[int]
        builders: _containers.RepeatedCompositeFieldContainer[Verifiers.Tryjob.Builder]
        retry_config: Verifiers.Tryjob.RetryConfig
        cancel_stale_tryjobs: Toggle
        def __init__(self, builders: _Optional[_Iterable[_Union[Verifiers.Tryjob.Builder, _Mapping]]] = ..., retry_config: _Optional[_Union[Verifiers.Tryjob.RetryConfig, _Mapping]] = ..., cancel_stale_tryjobs: _Optional[_Union[Toggle, str]] = ...) -> None: ...
    class CQLinter(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Fake(_message.Message):
        __slots__ = ("name", "eventual_state", "delay")
        NAME_FIELD_NUMBER: _ClassVar[int]
        EVENTUAL_STATE_FIELD_NUMBER: _ClassVar[int]
        DELAY_FIELD_NUMBER: _ClassVar[int]
        name: str
        eventual_state: str
        delay: int
        def __init__(self, name: _Optional[str] = ..., eventual_state: _Optional[str] = ..., delay: _Optional[int] = ...) -> None: ...
    GERRIT_CQ_ABILITY_FIELD_NUMBER: _ClassVar[int]
    TREE_STATUS_FIELD_NUMBER: _ClassVar[int]
    TRYJOB_FIELD_NUMBER: _ClassVar[int]
    CQLINTER_FIELD_NUMBER: _ClassVar[int]
    FAKE_FIELD_NUMBER: _ClassVar[int]
    gerrit_cq_ability: Verifiers.GerritCQAbility
    tree_status: Verifiers.TreeStatus
    tryjob: Verifiers.Tryjob
    cqlinter: Verifiers.CQLinter
    fake: Verifiers.Fake
    def __init__(self, gerrit_cq_ability: _Optional[_Union[Verifiers.GerritCQAbility, _Mapping]] = ..., tree_status: _Optional[_Union[Verifiers.TreeStatus, _Mapping]] = ..., tryjob: _Optional[_Union[Verifiers.Tryjob, _Mapping]] = ..., cqlinter: _Optional[_Union[Verifiers.CQLinter, _Mapping]] = ..., fake: _Optional[_Union[Verifiers.Fake, _Mapping]] = ...) -> None: ...

class UserLimit(_message.Message):
    __slots__ = ("name", "principals", "run", "tryjob")
    class Limit(_message.Message):
        __slots__ = ("value", "unlimited")
        VALUE_FIELD_NUMBER: _ClassVar[int]
        UNLIMITED_FIELD_NUMBER: _ClassVar[int]
        value: int
        unlimited: bool
        def __init__(self, value: _Optional[int] = ..., unlimited: _Optional[bool] = ...) -> None: ...
    class Run(_message.Message):
        __slots__ = ("max_active", "reach_limit_msg")
        MAX_ACTIVE_FIELD_NUMBER: _ClassVar[int]
        REACH_LIMIT_MSG_FIELD_NUMBER: _ClassVar[int]
        max_active: UserLimit.Limit
        reach_limit_msg: str
        def __init__(self, max_active: _Optional[_Union[UserLimit.Limit, _Mapping]] = ..., reach_limit_msg: _Optional[str] = ...) -> None: ...
    class Tryjob(_message.Message):
        __slots__ = ("max_active",)
        MAX_ACTIVE_FIELD_NUMBER: _ClassVar[int]
        max_active: UserLimit.Limit
        def __init__(self, max_active: _Optional[_Union[UserLimit.Limit, _Mapping]] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRINCIPALS_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    TRYJOB_FIELD_NUMBER: _ClassVar[int]
    name: str
    principals: _containers.RepeatedScalarFieldContainer[str]
    run: UserLimit.Run
    tryjob: UserLimit.Tryjob
    def __init__(self, name: _Optional[str] = ..., principals: _Optional[_Iterable[str]] = ..., run: _Optional[_Union[UserLimit.Run, _Mapping]] = ..., tryjob: _Optional[_Union[UserLimit.Tryjob, _Mapping]] = ...) -> None: ...
