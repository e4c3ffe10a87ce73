import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from cvproto.buildbucket.v2 import builder_common_pb2 as _builder_common_pb2
from cvproto.buildbucket.v2 import common_pb2 as _common_pb2
from cvproto.buildbucket.v2 import step_pb2 as _step_pb2
from cvproto.buildbucket.v2 import task_pb2 as _task_pb2
from cvproto.resultdb.v1 import invocation_pb2 as _invocation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Build(_message.Message):
    __slots__ = ("id", "builder", "builder_info", "number", "created_by", "view_url", "canceled_by", "create_time", "start_time", "end_time", "update_time", "cancel_time", "status", "summary_markdown", "cancellation_markdown", "critical", "status_details", "input", "output", "steps", "infra", "tags", "exe", "canary", "scheduling_timeout", "execution_timeout", "grace_period", "wait_for_capacity", "can_outlive_parent", "ancestor_ids", "retriable")
    class BuilderInfo(_message.Message):
        __slots__ = ("description",)
        DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
        description: str
        def __init__(self, description: _Optional[str] = ...) -> None: ...
    class Input(_message.Message):
        __slots__ = ("properties", "gitiles_commit", "gerrit_changes", "experimental", "experiments")
        PROPERTIES_FIELD_NUMBER: _ClassVar[int]
        GITILES_COMMIT_FIELD_NUMBER: _ClassVar[int]
        GERRIT_CHANGES_FIELD_NUMBER: _ClassVar[int]
        EXPERIMENTAL_FIELD_NUMBER: _ClassVar[int]
        EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
        properties: _struct_pb2.Struct
        gitiles_commit: _common_pb2.GitilesCommit
        gerrit_changes: _containers.RepeatedCompositeFieldContainer[_common_pb2.GerritChange]
        experimental: bool
        experiments: _containers.RepeatedScalarFieldContainer[str]
        def __init__(self, properties: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., gitiles_commit: _Optional[_Union[_common_pb2.GitilesCommit, _Mapping]] = ..., gerrit_changes: _Optional[_Iterable[_Union[_common_pb2.GerritChange, _Mapping]]] = ..., experimental: _Optional[bool] = ..., experiments: _Optional[_Iterable[str]] = ...) -> None: ...
    class Output(_message.Message):
        __slots__ = ("properties", "summary_markdown", "gitiles_commit", "logs", "status", "status_details", "summary_html")
        PROPERTIES_FIELD_NUMBER: _ClassVar[int]
        SUMMARY_MARKDOWN_FIELD_NUMBER: _ClassVar[int]
        GITILES_COMMIT_FIELD_NUMBER: _ClassVar[int]
        LOGS_FIELD_NUMBER: _ClassVar[int]
        STATUS_FIELD_NUMBER: _ClassVar[int]
        STATUS_DETAILS_FIELD_NUMBER: _ClassVar[int]
        SUMMARY_HTML_FIELD_NUMBER: _ClassVar[int]
        properties: _struct_pb2.Struct
        summary_markdown: str
        gitiles_commit: _common_pb2.GitilesCommit
        logs: _containers.RepeatedCompositeFieldContainer[_common_pb2.Log]
        status: _common_pb2.Status
        status_details: _common_pb2.StatusDetails
        summary_html: str
        def __init__(self, properties: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., summary_markdown: _Optional[str] = ..., gitiles_commit: _Optional[_Union[_common_pb2.GitilesCommit, _Mapping]] = ..., logs: _Optional[_Iterable[_Union[_common_pb2.Log, _Mapping]]] = ..., status: _Optional[_Union[_common_pb2.Status, str]] = ..., status_details: _Optional[_Union[_common_pb2.StatusDetails, _Mapping]] = ..., summary_html: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    BUILDER_FIELD_NUMBER: _ClassVar[int]
    BUILDER_INFO_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    VIEW_URL_FIELD_NUMBER: _ClassVar[int]
    CANCELED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    CANCELLATION_MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    CRITICAL_FIELD_NUMBER: _ClassVar[int]
    STATUS_DETAILS_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    INFRA_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    EXE_FIELD_NUMBER: _ClassVar[int]
    CANARY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULING_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    WAIT_FOR_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    CAN_OUTLIVE_PARENT_FIELD_NUMBER: _ClassVar[int]
    ANCESTOR_IDS_FIELD_NUMBER: _ClassVar[int]
    RETRIABLE_FIELD_NUMBER: _ClassVar[int]
    id: int
    builder: _builder_common_pb2.BuilderID
    builder_info: Build.BuilderInfo
    number: int
    created_by: str
    view_url: str
    canceled_by: str
    create_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    cancel_time: _timestamp_pb2.Timestamp
    status: _common_pb2.Status
    summary_markdown: str
    cancellation_markdown: str
    critical: _common_pb2.Trinary
    status_details: _common_pb2.StatusDetails
    input: Build.Input
    output: Build.Output
    steps: _containers.RepeatedCompositeFieldContainer[_step_pb2.Step]
    infra: BuildInfra
    tags: _containers.RepeatedCompositeFieldContainer[_common_pb2.StringPair]
    exe: _common_pb2.Executable
    canary: bool
    scheduling_timeout: _duration_pb2.Duration
    execution_timeout: _duration_pb2.Duration
    grace_period: _duration_pb2.Duration
    wait_for_capacity: bool
    can_outlive_parent: bool
    ancestor_ids: _containers.RepeatedScalarFieldContainer[int]
    retriable: _common_pb2.Trinary
    def __init__(self, id: _Optional[int] = ..., builder: _Optional[_Union[_builder_common_pb2.BuilderID, _Mapping]] = ..., builder_info: _Optional[_Union[Build.BuilderInfo, _Mapping]] = ..., number: _Optional[int] = ..., created_by: _Optional[str] = ..., view_url: _Optional[str] = ..., canceled_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[_common_pb2.Status, str]] = ..., summary_markdown: _Optional[str] = ..., cancellation_markdown: _Optional[str] = ..., critical: _Optional[_Union[_common_pb2.Trinary, str]] = ..., status_details: _Optional[_Union[_common_pb2.StatusDetails, _Mapping]] = ..., input: _Optional[_Union[Build.Input, _Mapping]] = ..., output: _Optional[_Union[Build.Output, _Mapping]] = ..., steps: _Optional[_Iterable[_Union[_step_pb2.Step, _Mapping]]] = ..., infra: _Optional[_Union[BuildInfra, _Mapping]] = ..., tags: _Optional[_Iterable[_Union[_common_pb2.StringPair, _Mapping]]] = ..., exe: _Optional[_Union[_common_pb2.Executable, _Mapping]] = ..., canary: _Optional[bool] = ..., scheduling_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., execution_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., grace_period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., wait_for_capacity: _Optional[bool] = ..., can_outlive_parent: _Optional[bool] = ..., ancestor_ids: _Optional[_Iterable[int]] = ..., retriable: _Optional[_Union[_common_pb2.Trinary, str]] = ...) -> None: ...

class BuildInfra(_message.Message):
    __slots__ = ("buildbucket", "swarming", "logdog", "recipe", "resultdb", "bbagent", "backend", "led")
    class Buildbucket(_message.Message):
        __slots__ = ("service_config_revision", "requested_properties", "requested_dimensions", "hostname", "experiment_reasons", "agent_executable", "agent", "known_public_gerrit_hosts", "build_number")
        class ExperimentReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
            __slots__ = ()
            EXPERIMENT_REASON_UNSET: _ClassVar[BuildInfra.Buildbucket.ExperimentReason]
            EXPERIMENT_REASON_GLOBAL_DEFAULT: _ClassVar[BuildInfra.Buildbucket.ExperimentReason]
            EXPERIMENT_REASON_BUILDER_CONFIG: _ClassVar[BuildInfra.Buildbucket.ExperimentReason]
            EXPERIMENT_REASON_GLOBAL_MINIMUM: _ClassVar[BuildInfra.Buildbucket.ExperimentReason]
            EXPERIMENT_REASON_REQUESTED: _ClassVar[BuildInfra.Buildbucket.ExperimentReason]
            EXPERIMENT_REASON_GLOBAL_INACTIVE: _ClassVar[BuildInfra.Buildbucket.ExperimentReason]
        EXPERIMENT_REASON_UNSET: BuildInfra.Buildbucket.ExperimentReason
        EXPERIMENT_REASON_GLOBAL_DEFAULT: BuildInfra.Buildbucket.ExperimentReason
        EXPERIMENT_REASON_BUILDER_CONFIG: BuildInfra.Buildbucket.ExperimentReason
        EXPERIMENT_REASON_GLOBAL_MINIMUM: BuildInfra.Buildbucket.ExperimentReason
        EXPERIMENT_REASON_REQUESTED: BuildInfra.Buildbucket.ExperimentReason
        EXPERIMENT_REASON_GLOBAL_INACTIVE: BuildInfra.Buildbucket.ExperimentReason
        class ExperimentReasonsEntry(_message.Message):
            __slots__ = ("key", "value")
            KEY_FIELD_NUMBER: _ClassVar[int]
            VALUE_FIELD_NUMBER: _ClassVar[int]
            key: str
            value: BuildInfra.Buildbucket.ExperimentReason
            def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[BuildInfra.Buildbucket.ExperimentReason, str]] = ...) -> None: ...
        class AgentExecutableEntry(_message.Message):
            __slots__ = ("key", "value")
            KEY_FIELD_NUMBER: _ClassVar[int]
            VALUE_FIELD_NUMBER: _ClassVar[int]
            key: str
            value: ResolvedDataRef
            def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ResolvedDataRef, _Mapping]] = ...) -> None: ...
        class Agent(_message.Message):
            __slots__ = ("input", "output", "source", "purposes", "cipd_client_cache", "cipd_packages_cache")
            class Purpose(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
                __slots__ = ()
                PURPOSE_UNSPECIFIED: _ClassVar[BuildInfra.Buildbucket.Agent.Purpose]
                PURPOSE_EXE_PAYLOAD: _ClassVar[BuildInfra.Buildbucket.Agent.Purpose]
                PURPOSE_BBAGENT_UTILITY: _ClassVar[BuildInfra.Buildbucket.Agent.Purpose]
            PURPOSE_UNSPECIFIED: BuildInfra.Buildbucket.Agent.Purpose
            PURPOSE_EXE_PAYLOAD: BuildInfra.Buildbucket.Agent.Purpose
            PURPOSE_BBAGENT_UTILITY: BuildInfra.Buildbucket.Agent.Purpose
            class Source(_message.Message):
                __slots__ = ("cipd",)
                class CIPD(_message.Message):
                    __slots__ = ("package", "version", "server", "resolved_instances")
                    class ResolvedInstancesEntry(_message.Message):
                        __slots__ = ("key", "value")
                        KEY_FIELD_NUMBER: _ClassVar[int]
                        VALUE_FIELD_NUMBER: _ClassVar[int]
                        key: str
                        value: str
                        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
                    PACKAGE_FIELD_NUMBER: _ClassVar[int]
                    VERSION_FIELD_NUMBER: _ClassVar[int]
                    SERVER_FIELD_NUMBER: _ClassVar[int]
                    RESOLVED_INSTANCES_FIELD_NUMBER: _ClassVar[int]
                    package: str
                    version: str
                    server: str
                    resolved_instances: _containers.ScalarMap[str, str]
                    def __init__(self, package: _Optional[str] = ..., version: _Optional[str] = ..., server: _Optional[str] = ..., resolved_instances: _Optional[_Mapping[str, str]] = ...) -> None: ...
                CIPD_FIELD_NUMBER: _ClassVar[int]
                cipd: BuildInfra.Buildbucket.Agent.Source.CIPD
                def __init__(self, cipd: _Optional[_Union[BuildInfra.Buildbucket.Agent.Source.CIPD, _Mapping]] = ...) -> None: ...
            class Input(_message.Message):
                __slots__ = ("data", "cipd_source")
                class DataEntry(_message.Message):
                    __slots__ = ("key", "value")
                    KEY_FIELD_NUMBER: _ClassVar[int]
                    VALUE_FIELD_NUMBER: _ClassVar[int]
                    key: str
                    value: InputDataRef
                    def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[InputDataRef, _Mapping]] = ...) -> None: ...
                class CipdSourceEntry(_message.Message):
                    __slots__ = ("key", "value")
                    KEY_FIELD_NUMBER: _ClassVar[int]
                    VALUE_FIELD_NUMBER: _ClassVar[int]
                    key: str
                    value: InputDataRef
                    def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[InputDataRef, _Mapping]] = ...) -> None: ...
                DATA_FIELD_NUMBER: _ClassVar[int]
                CIPD_SOURCE_FIELD_NUMBER: _ClassVar[int]
                data: _containers.MessageMap[str, InputDataRef]
                cipd_source: _containers.MessageMap[str, InputDataRef]
                def __init__(self, data: _Optional[_Mapping[str, InputDataRef]] = ..., cipd_source: _Optional[_Mapping[str, InputDataRef]] = ...) -> None: ...
            class Output(_message.Message):
                __slots__ = ("resolved_data", "status", "status_details", "summary_html", "agent_platform", "total_duration", "summary_markdown")
                class ResolvedDataEntry(_message.Message):
                    __slots__ = ("key", "value")
                    KEY_FIELD_NUMBER: _ClassVar[int]
                    VALUE_FIELD_NUMBER: _ClassVar[int]
                    key: str
                    value: ResolvedDataRef
                    def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ResolvedDataRef, _Mapping]] = ...) -> None: ...
                RESOLVED_DATA_FIELD_NUMBER: _ClassVar[int]
                STATUS_FIELD_NUMBER: _ClassVar[int]
                STATUS_DETAILS_FIELD_NUMBER: _ClassVar[int]
                SUMMARY_HTML_FIELD_NUMBER: _ClassVar[int]
                AGENT_PLATFORM_FIELD_NUMBER: _ClassVar[int]
                TOTAL_DURATION_FIELD_NUMBER: _ClassVar[int]
                SUMMARY_MARKDOWN_FIELD_NUMBER: _ClassVar[int]
                resolved_data: _containers.MessageMap[str, ResolvedDataRef]
                status: _common_pb2.Status
                status_details: _common_pb2.StatusDetails
                summary_html: str
                agent_platform: str
                total_duration: _duration_pb2.Duration
                summary_markdown: str
                def __init__(self, resolved_data: _Optional[_Mapping[str, ResolvedDataRef]] = ..., status: _Optional[_Union[_common_pb2.Status, str]] = ..., status_details: _Optional[_Union[_common_pb2.StatusDetails, _Mapping]] = ..., summary_html: _Optional[str] = ..., agent_platform: _Optional[str] = ..., total_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., summary_markdown: _Optional[str] = ...) -> None: ...
            class PurposesEntry(_message.Message):
                __slots__ = ("key", "value")
                KEY_FIELD_NUMBER: _ClassVar[int]
                VALUE_FIELD_NUMBER: _ClassVar[int]
                key: str
                value: BuildInfra.Buildbucket.Agent.Purpose
                def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[BuildInfra.Buildbucket.Agent.Purpose, str]] = ...) -> None: ...
            INPUT_FIELD_NUMBER: _ClassVar[int]
            OUTPUT_FIELD_NUMBER: _ClassVar[int]
            SOURCE_FIELD_NUMBER: _ClassVar[int]
            PURPOSES_FIELD_NUMBER: _ClassVar[int]
            CIPD_CLIENT_CACHE_FIELD_NUMBER: _ClassVar[int]
            CIPD_PACKAGES_CACHE_FIELD_NUMBER: _ClassVar[int]
            input: BuildInfra.Buildbucket.Agent.Input
            output: BuildInfra.Buildbucket.Agent.Output
            source: BuildInfra.Buildbucket.Agent.Source
            purposes: _containers.ScalarMap[str, BuildInfra.Buildbucket.Agent.Purpose]
            cipd_client_cache: _common_pb2.CacheEntry
            cipd_packages_cache: _common_pb2.CacheEntry
            def __init__(self, input: _Optional[_Union[BuildInfra.Buildbucket.Agent.Input, _Mapping]] = ..., output: _Optional[_Union[BuildInfra.Buildbucket.Agent.Output, _Mapping]] = ..., source: _Optional[_Union[BuildInfra.Buildbucket.Agent.Source, _Mapping]] = ..., purposes: _Optional[_Mapping[str, BuildInfra.Buildbucket.Agent.Purpose]] = ..., cipd_client_cache: _Optional[_Union[_common_pb2.CacheEntry, _Mapping]] = ..., cipd_packages_cache: _Optional[_Union[_common_pb2.CacheEntry, _Mapping]] = ...) -> None: ...
        SERVICE_CONFIG_REVISION_FIELD_NUMBER: _ClassVar[int]
        REQUESTED_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
        REQUESTED_DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
        HOSTNAME_FIELD_NUMBER: _ClassVar[int]
        EXPERIMENT_REASONS_FIELD_NUMBER: _ClassVar[int]
        AGENT_EXECUTABLE_FIELD_NUMBER: _ClassVar[int]
        AGENT_FIELD_NUMBER: _ClassVar[int]
        KNOWN_PUBLIC_GERRIT_HOSTS_FIELD_NUMBER: _ClassVar[int]
        BUILD_NUMBER_FIELD_NUMBER: _ClassVar[int]
        service_config_revision: str
        requested_properties: _struct_pb2.Struct
        requested_dimensions: _containers.RepeatedCompositeFieldContainer[_common_pb2.RequestedDimension]
        hostname: str
        experiment_reasons: _containers.ScalarMap[str, BuildInfra.Buildbucket.ExperimentReason]
        agent_executable: _containers.MessageMap[str, ResolvedDataRef]
        agent: BuildInfra.Buildbucket.Agent
        known_public_gerrit_hosts: _containers.RepeatedScalarFieldContainer[str]
        build_number: bool
        def __init__(self, service_config_revision: _Optional[str] = ..., requested_properties: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., requested_dimensions: _Optional[_Iterable[_Union[_common_pb2.RequestedDimension, _Mapping]]] = ..., hostname: _Optional[str] = ..., experiment_reasons: _Optional[_Mapping[str, BuildInfra.Buildbucket.ExperimentReason]] = ..., agent_executable: _Optional[_Mapping[str, ResolvedDataRef]] = ..., agent: _Optional[_Union[BuildInfra.Buildbucket.Agent, _Mapping]] = ..., known_public_gerrit_hosts: _Optional[_Iterable[str]] = ..., build_number: _Optional[bool] = ...) -> None: ...
    class Swarming(_message.Message):
        __slots__ = ("hostname", "task_id", "parent_run_id", "task_service_account", "priority", "task_dimensions", "bot_dimensions", "caches")
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
        HOSTNAME_FIELD_NUMBER: _ClassVar[int]
        TASK_ID_FIELD_NUMBER: _ClassVar[int]
        PARENT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
        TASK_SERVICE_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
        PRIORITY_FIELD_NUMBER: _ClassVar[int]
        TASK_DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
        BOT_DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
        CACHES_FIELD_NUMBER: _ClassVar[int]
        hostname: str
        task_id: str
        parent_run_id: str
        task_service_account: str
        priority: int
        task_dimensions: _containers.RepeatedCompositeFieldContainer[_common_pb2.RequestedDimension]
        bot_dimensions: _containers.RepeatedCompositeFieldContainer[_common_pb2.StringPair]
        caches: _containers.RepeatedCompositeFieldContainer[BuildInfra.Swarming.CacheEntry]
        def __init__(self, hostname: _Optional[str] = ..., task_id: _Optional[str] = ..., parent_run_id: _Optional[str] = ..., task_service_account: _Optional[str] = ..., priority: _Optional[int] = ..., task_dimensions: _Optional[_Iterable[_Union[_common_pb2.RequestedDimension, _Mapping]]] = ..., bot_dimensions: _Optional[_Iterable[_Union[_common_pb2.StringPair, _Mapping]]] = ..., caches: _Optional[_Iterable[_Union[BuildInfra.Swarming.CacheEntry, _Mapping]]] = ...) -> None: ...
    class LogDog(_message.Message):
        __slots__ = ("hostname", "project", "prefix")
        HOSTNAME_FIELD_NUMBER: _ClassVar[int]
        PROJECT_FIELD_NUMBER: _ClassVar[int]
        PREFIX_FIELD_NUMBER: _ClassVar[int]
        hostname: str
        project: str
        prefix: str
        def __init__(self, hostname: _Optional[str] = ..., project: _Optional[str] = ..., prefix: _Optional[str] = ...) -> None: ...
    class Recipe(_message.Message):
        __slots__ = ("cipd_package", "name")
        CIPD_PACKAGE_FIELD_NUMBER: _ClassVar[int]
        NAME_FIELD_NUMBER: _ClassVar[int]
        cipd_package: str
        name: str
        def __init__(self, cipd_package: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...
    class ResultDB(_message.Message):
        __slots__ = ("hostname", "invocation", "enable", "bq_exports", "history_options")
        HOSTNAME_FIELD_NUMBER: _ClassVar[int]
        INVOCATION_FIELD_NUMBER: _ClassVar[int]
        ENABLE_FIELD_NUMBER: _ClassVar[int]
        BQ_EXPORTS_FIELD_NUMBER: _ClassVar[int]
        HISTORY_OPTIONS_FIELD_NUMBER: _ClassVar[int]
        hostname: str
        invocation: str
        enable: bool
        bq_exports: _containers.RepeatedCompositeFieldContainer[_invocation_pb2.BigQueryExport]
        history_options: _invocation_pb2.HistoryOptions
        def __init__(self, hostname: _Optional[str] = ..., invocation: _Optional[str] = ..., enable: _Optional[bool] = ..., bq_exports: _Optional[_Iterable[_Union[_invocation_pb2.BigQueryExport, _Mapping]]] = ..., history_options: _Optional[_Union[_invocation_pb2.HistoryOptions, _Mapping]] = ...) -> None: ...
    class Led(_message.Message):
        __slots__ = ("shadowed_bucket",)
        SHADOWED_BUCKET_FIELD_NUMBER: _ClassVar[int]
        shadowed_bucket: str
        def __init__(self, shadowed_bucket: _Optional[str] = ...) -> None: ...
    class BBAgent(_message.Message):
        __slots__ = ("payload_path", "cache_dir", "known_public_gerrit_hosts", "input")
        class Input(_message.Message):
            __slots__ = ("cipd_packages",)
            class CIPDPackage(_message.Message):
                __slots__ = ("name", "version", "server", "path")
                NAME_FIELD_NUMBER: _ClassVar[int]
                VERSION_FIELD_NUMBER: _ClassVar[int]
                SERVER_FIELD_NUMBER: _ClassVar[int]
                PATH_FIELD_NUMBER: _ClassVar[int]
                name: str
                version: str
                server: str
                path: str
                def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., server: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...
            CIPD_PACKAGES_FIELD_NUMBER: _ClassVar[int]
            cipd_packages: _containers.RepeatedCompositeFieldContainer[BuildInfra.BBAgent.Input.CIPDPackage]
            def __init__(self, cipd_packages: _Optional[_Iterable[_Union[BuildInfra.BBAgent.Input.CIPDPackage, _Mapping]]] = ...) -> None: ...
        PAYLOAD_PATH_FIELD_NUMBER: _ClassVar[int]
        CACHE_DIR_FIELD_NUMBER: _ClassVar[int]
        KNOWN_PUBLIC_GERRIT_HOSTS_FIELD_NUMBER: _ClassVar[int]
        INPUT_FIELD_NUMBER: _ClassVar[int]
        payload_path: str
        cache_dir: str
        known_public_gerrit_hosts: _containers.RepeatedScalarFieldContainer[str]
        input: BuildInfra.BBAgent.Input
        def __init__(self, payload_path: _Optional[str] = ..., cache_dir: _Optional[str] = ..., known_public_gerrit_hosts: _Optional[_Iterable[str]] = ..., input: _Optional[_Union[BuildInfra.BBAgent.Input, _Mapping]] = ...) -> None: ...
    class Backend(_message.Message):
        __slots__ = ("config", "task", "caches", "task_dimensions", "hostname")
        CONFIG_FIELD_NUMBER: _ClassVar[int]
        TASK_FIELD_NUMBER: _ClassVar[int]
        CACHES_FIELD_NUMBER: _ClassVar[int]
        TASK_DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
        HOSTNAME_FIELD_NUMBER: _ClassVar[int]
        config: _struct_pb2.Struct
        task: _task_pb2.Task
        caches: _containers.RepeatedCompositeFieldContainer[_common_pb2.CacheEntry]
        task_dimensions: _containers.RepeatedCompositeFieldContainer[_common_pb2.RequestedDimension]
        hostname: str
        def __init__(self, config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., caches: _Optional[_Iterable[_Union[_common_pb2.CacheEntry, _Mapping]]] = ..., task_dimensions: _Optional[_Iterable[_Union[_common_pb2.RequestedDimension, _Mapping]]] = ..., hostname: _Optional[str] = ...) -> None: ...
    BUILDBUCKET_FIELD_NUMBER: _ClassVar[int]
    SWARMING_FIELD_NUMBER: _ClassVar[int]
    LOGDOG_FIELD_NUMBER: _ClassVar[int]
    RECIPE_FIELD_NUMBER: _ClassVar[int]
    RESULTDB_FIELD_NUMBER: _ClassVar[int]
    BBAGENT_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    LED_FIELD_NUMBER: _ClassVar[int]
    buildbucket: BuildInfra.Buildbucket
    swarming: BuildInfra.Swarming
    logdog: BuildInfra.LogDog
    recipe: BuildInfra.Recipe
    resultdb: BuildInfra.ResultDB
    bbagent: BuildInfra.BBAgent
    backend: BuildInfra.Backend
    led: BuildInfra.Led
    def __init__(self, buildbucket: _Optional[_Union[BuildInfra.Buildbucket, _Mapping]] = ..., swarming: _Optional[_Union[BuildInfra.Swarming, _Mapping]] = ..., logdog: _Optional[_Union[BuildInfra.LogDog, _Mapping]] = ..., recipe: _Optional[_Union[BuildInfra.Recipe, _Mapping]] = ..., resultdb: _Optional[_Union[BuildInfra.ResultDB, _Mapping]] = ..., bbagent: _Optional[_Union[BuildInfra.BBAgent, _Mapping]] = ..., backend: _Optional[_Union[BuildInfra.Backend, _Mapping]] = ..., led: _Optional[_Union[BuildInfra.Led, _Mapping]] = ...) -> None: ...

class InputDataRef(_message.Message):
    __slots__ = ("cas", "cipd", "on_path")
    class CAS(_message.Message):
        __slots__ = ("cas_instance", "digest")
        class Digest(_message.Message):
            __slots__ = ("hash", "size_bytes")
            HASH_FIELD_NUMBER: _ClassVar[int]
            SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
            hash: str
            size_bytes: int
            def __init__(self, hash: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...
        CAS_INSTANCE_FIELD_NUMBER: _ClassVar[int]
        DIGEST_FIELD_NUMBER: _ClassVar[int]
        cas_instance: str
        digest: InputDataRef.CAS.Digest
        def __init__(self, cas_instance: _Optional[str] = ..., digest: _Optional[_Union[InputDataRef.CAS.Digest, _Mapping]] = ...) -> None: ...
    class CIPD(_message.Message):
        __slots__ = ("server", "specs")
        class PkgSpec(_message.Message):
            __slots__ = ("package", "version")
            PACKAGE_FIELD_NUMBER: _ClassVar[int]
            VERSION_FIELD_NUMBER: _ClassVar[int]
            package: str
            version: str
            def __init__(self, package: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...
        SERVER_FIELD_NUMBER: _ClassVar[int]
        SPECS_FIELD_NUMBER: _ClassVar[int]
        server: str
        specs: _containers.RepeatedCompositeFieldContainer[InputDataRef.CIPD.PkgSpec]
        def __init__(self, server: _Optional[str] = ..., specs: _Optional[_Iterable[_Union[InputDataRef.CIPD.PkgSpec, _Mapping]]] = ...) -> None: ...
    CAS_FIELD_NUMBER: _ClassVar[int]
    CIPD_FIELD_NUMBER: _ClassVar[int]
    ON_PATH_FIELD_NUMBER: _ClassVar[int]
    cas: InputDataRef.CAS
    cipd: InputDataRef.CIPD
    on_path: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, cas: _Optional[_Union[InputDataRef.CAS, _Mapping]] = ..., cipd: _Optional[_Union[InputDataRef.CIPD, _Mapping]] = ..., on_path: _Optional[_Iterable[str]] = ...) -> None: ...

class ResolvedDataRef(_message.Message):
    __slots__ = ("cas", "cipd")
    class Timing(_message.Message):
        __slots__ = ("fetch_duration", "install_duration")
        FETCH_DURATION_FIELD_NUMBER: _ClassVar[int]
        INSTALL_DURATION_FIELD_NUMBER: _ClassVar[int]
        fetch_duration: _duration_pb2.Duration
        install_duration: _duration_pb2.Duration
        def __init__(self, fetch_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., install_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...
    class CAS(_message.Message):
        __slots__ = ("timing",)
        TIMING_FIELD_NUMBER: _ClassVar[int]
        timing: ResolvedDataRef.Timing
        def __init__(self, timing: _Optional[_Union[ResolvedDataRef.Timing, _Mapping]] = ...) -> None: ...
    class CIPD(_message.Message):
        __slots__ = ("specs",)
        class PkgSpec(_message.Message):
            __slots__ = ("skipped", "package", "version", "was_cached", "timing")
            SKIPPED_FIELD_NUMBER: _ClassVar[int]
            PACKAGE_FIELD_NUMBER: _ClassVar[int]
            VERSION_FIELD_NUMBER: _ClassVar[int]
            WAS_CACHED_FIELD_NUMBER: _ClassVar[int]
            TIMING_FIELD_NUMBER: _ClassVar[int]
            skipped: bool
            package: str
            version: str
            was_cached: _common_pb2.Trinary
            timing: ResolvedDataRef.Timing
            def __init__(self, skipped: _Optional[bool] = ..., package: _Optional[str] = ..., version: _Optional[str] = ..., was_cached: _Optional[_Union[_common_pb2.Trinary, str]] = ..., timing: _Optional[_Union[ResolvedDataRef.Timing, _Mapping]] = ...) -> None: ...
        SPECS_FIELD_NUMBER: _ClassVar[int]
        specs: _containers.RepeatedCompositeFieldContainer[ResolvedDataRef.CIPD.PkgSpec]
        def __init__(self, specs: _Optional[_Iterable[_Union[ResolvedDataRef.CIPD.PkgSpec, _Mapping]]] = ...) -> None: ...
    CAS_FIELD_NUMBER: _ClassVar[int]
    CIPD_FIELD_NUMBER: _ClassVar[int]
    cas: ResolvedDataRef.CAS
    cipd: ResolvedDataRef.CIPD
    def __init__(self, cas: _Optional[_Union[ResolvedDataRef.CAS, _Mapping]] = ..., cipd: _Optional[_Union[ResolvedDataRef.CIPD, _Mapping]] = ...) -> None: ...
