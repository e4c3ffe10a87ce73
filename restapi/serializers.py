"""JSON of runs, CLs and tryjobs: plain fields from the rows, protobuf parts as proto3 JSON.

The protobuf parts are the messages runs/serializers.py and tryjobs/serializers.py build from
the rows (the same the Migration API serves), rendered by protobuf's own proto3 JSON mapping:
lowerCamelCase names, enums by name, 64-bit integers as strings, RFC 3339 times.
"""

from drf_spectacular.utils import extend_schema_field
from google.protobuf import json_format
from rest_framework import serializers

from restapi.access import ProjectScope
from restapi.enums import member_names
from runs.models import CL, GerritChangeStatus, Run, RunCL, RunStatus
from runs.serializers import run_cl_message
from tryjobs.models import ResultStatus, Tryjob, TryjobStatus
from tryjobs.serializers import definition_from_row, result_from_row


def proto_json(message) -> dict | None:
    return None if message is None else json_format.MessageToDict(message)


class EnumNameField(serializers.ChoiceField):
    """An integer enumeration column, shown by member name."""

    def __init__(self, enum, **kwargs):
        self.enum = enum
        super().__init__(choices=member_names(enum), read_only=True, **kwargs)

    def to_representation(self, value):
        return None if value is None else self.enum(value).name


@extend_schema_field({"type": "object", "additionalProperties": True, "description": "proto3 JSON"})
class ProtoJSONField(serializers.Field):
    """A protobuf message built from the row by `build(row)`, as proto3 JSON (null when none)."""

    def __init__(self, build, **kwargs):
        self.build = build
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, row):
        return proto_json(self.build(row))


def visible_run_id(scope: ProjectScope, run_id: str | None) -> str | None:
    """`run_id` if the caller may see its run (a run ID starts with `<project>/`), else None."""
    if run_id is None or not scope.allows(run_id.partition("/")[0]):
        return None
    return run_id


class CLSummarySerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True, help_text="The change on Gerrit.")

    class Meta:
        model = CL
        fields = ["id", "host", "change", "url"]


class RunCLSerializer(serializers.ModelSerializer):
    """A CL of a run: the CL, and the snapshot the run started with as migration.RunCL."""

    cl = CLSummarySerializer(read_only=True)
    run_cl = ProtoJSONField(
        run_cl_message,
        help_text="migration.RunCL as the Migration API serves it (proto3 JSON).",
    )

    class Meta:
        model = RunCL
        fields = ["position", "cl", "patchset", "trigger_mode", "trigger_time", "run_cl"]


class RunSerializer(serializers.ModelSerializer):
    status = EnumNameField(RunStatus)
    attempt_key = serializers.CharField(source="cqd_attempt_key", read_only=True)
    cls = serializers.SerializerMethodField(help_text="The run's CLs, in run order.")

    class Meta:
        model = Run
        fields = [
            "id",
            "project",
            "status",
            "mode",
            "attempt_key",
            "owner",
            "config_group",
            "create_time",
            "start_time",
            "end_time",
            "end_reason",
            "finalized_by_cqd",
            "cls",
        ]

    @extend_schema_field(CLSummarySerializer(many=True))
    def get_cls(self, run):
        return CLSummarySerializer([rc.cl for rc in run.run_cls.all()], many=True).data


class TryjobSerializer(serializers.ModelSerializer):
    status = EnumNameField(TryjobStatus)
    result_status = EnumNameField(ResultStatus, allow_null=True)
    builder = serializers.CharField(read_only=True, help_text="project/bucket/builder.")
    definition = ProtoJSONField(
        definition_from_row, help_text="cv.internal.tryjob.Definition (proto3 JSON)."
    )
    result = ProtoJSONField(
        result_from_row,
        help_text="cv.internal.tryjob.Result (proto3 JSON); null before the tryjob has one.",
        allow_null=True,
    )
    launched_by = serializers.SerializerMethodField(
        help_text="The run that launched it; null if none, or if it is outside your projects."
    )
    reused_by = serializers.SerializerMethodField(
        help_text="Runs of your projects that reused it, oldest first."
    )

    class Meta:
        model = Tryjob
        fields = [
            "id",
            "external_id",
            "status",
            "result_status",
            "builder",
            "build_id",
            "create_time",
            "update_time",
            "untriggered_reason",
            "definition",
            "result",
            "launched_by",
            "reused_by",
        ]

    def get_launched_by(self, tryjob) -> str | None:
        return visible_run_id(self.context["scope"], tryjob.launched_by_id)

    def get_reused_by(self, tryjob) -> list[str]:
        # Prefetched by the view, already limited to the caller's projects.
        return [run.id for run in tryjob.visible_reused_by]


class RunTryjobSerializer(TryjobSerializer):
    """A tryjob in a run's page: how the run came by it instead of who else did."""

    reused = serializers.SerializerMethodField(help_text="The run reused it, not launched it.")

    class Meta(TryjobSerializer.Meta):
        fields = [f for f in TryjobSerializer.Meta.fields if f not in ("launched_by", "reused_by")]
        fields.append("reused")

    def get_reused(self, tryjob) -> bool:
        return tryjob.launched_by_id != self.context["run_id"]


class RunDetailSerializer(RunSerializer):
    cls = RunCLSerializer(source="run_cls", many=True, read_only=True)
    tryjobs = serializers.SerializerMethodField(help_text="Tryjobs it launched or reused.")
    execution_state = serializers.SerializerMethodField(
        help_text="cv.internal.tryjob.ExecutionState (proto3 JSON); null before the run has one."
    )
    execution_state_version = serializers.SerializerMethodField(
        help_text="Bumped on every save of the execution state; 0 when there is none."
    )
    execution_log = serializers.SerializerMethodField(
        help_text="cv.internal.tryjob.ExecutionLogEntry list (proto3 JSON), oldest first."
    )

    class Meta(RunSerializer.Meta):
        fields = [
            *RunSerializer.Meta.fields,
            "tryjobs",
            "execution_state",
            "execution_state_version",
            "execution_log",
        ]

    @extend_schema_field(RunTryjobSerializer(many=True))
    def get_tryjobs(self, run):
        context = {**self.context, "run_id": run.id}
        return RunTryjobSerializer(run.tryjobs, many=True, context=context).data

    @extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
    def get_execution_state(self, run):
        return proto_json(run.execution_state_message)

    def get_execution_state_version(self, run) -> int:
        return run.execution_state_version

    @extend_schema_field(
        {"type": "array", "items": {"type": "object", "additionalProperties": True}}
    )
    def get_execution_log(self, run):
        return [proto_json(entry) for entry in run.execution_log_messages]


class CLSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True, help_text="The change on Gerrit.")
    change_status = EnumNameField(GerritChangeStatus)

    class Meta:
        model = CL
        fields = [
            "id",
            "host",
            "change",
            "url",
            "luci_project",
            "gerrit_project",
            "owner_email",
            "patchset",
            "min_equivalent_patchset",
            "change_status",
            "external_update_time",
            "update_time",
        ]


class CLDetailSerializer(CLSerializer):
    runs = serializers.SerializerMethodField(
        help_text="Its newest runs in your projects (at most 100); /api/v1/runs/?cl=<host>/"
        "<change> lists them all."
    )

    class Meta(CLSerializer.Meta):
        fields = [*CLSerializer.Meta.fields, "runs"]

    @extend_schema_field(RunSerializer(many=True))
    def get_runs(self, cl):
        return RunSerializer(cl.visible_runs, many=True, context=self.context).data


class BuilderStatsQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(
        choices=["24h", "7d", "30d"], default="7d", help_text="How far back from now."
    )
    recent = serializers.IntegerField(
        min_value=0, max_value=100, default=20, help_text="How many of the newest ended tryjobs."
    )


class RecentTryjobSerializer(serializers.ModelSerializer):
    result_status = EnumNameField(ResultStatus)
    end_time = serializers.DateTimeField(
        source="result_update_time", read_only=True, help_text="When its result last changed."
    )
    launched_by = serializers.SerializerMethodField(
        help_text="The run that launched it; null if none, or if it is outside your projects."
    )

    class Meta:
        model = Tryjob
        fields = [
            "id",
            "external_id",
            "build_id",
            "result_status",
            "create_time",
            "end_time",
            "launched_by",
        ]

    def get_launched_by(self, tryjob) -> str | None:
        return visible_run_id(self.context["scope"], tryjob.launched_by_id)


class BuilderStatsSerializer(serializers.Serializer):
    builder = serializers.CharField(help_text="project/bucket/builder.")
    window = serializers.CharField()
    since = serializers.DateTimeField(help_text="Start of the window (inclusive).")
    until = serializers.DateTimeField(help_text="End of the window (exclusive): now.")
    ended = serializers.IntegerField(
        help_text="Tryjobs of the builder created in the window that have ENDED (a final result)."
    )
    results = serializers.DictField(
        child=serializers.IntegerField(), help_text="Ended tryjobs by result status name."
    )
    failure_rate = serializers.FloatField(
        allow_null=True,
        help_text="Ended tryjobs that FAILED_PERMANENTLY, FAILED_TRANSIENTLY or TIMEOUT, over "
        "ended tryjobs; null when none ended.",
    )
    runs = serializers.IntegerField(
        help_text="Runs that launched at least one ended tryjob of the builder in the window."
    )
    flaky_runs = serializers.IntegerField(
        help_text="Of those, runs in which the builder failed (as above) and then a tryjob of "
        "it created later succeeded: failed, then succeeded on retry in the same run."
    )
    flake_rate = serializers.FloatField(
        allow_null=True, help_text="flaky_runs / runs; null when runs is 0."
    )
    recent = RecentTryjobSerializer(many=True, help_text="The newest ended tryjobs.")
