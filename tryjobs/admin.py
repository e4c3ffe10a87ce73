"""Read-only admin for tryjobs, execution states and their log."""

from django.contrib import admin

from runs.admin import ReadOnlyAdmin, ReadOnlyInline, as_text
from tryjobs import serializers
from tryjobs.models import (
    Execution,
    ExecutionAttempt,
    ExecutionLogEntry,
    ExecutionState,
    Tryjob,
)

DEFINITION_FIELDS = ["builder", "equivalent_builder", "critical", "optional", "disable_reuse"]


@admin.register(Tryjob)
class TryjobAdmin(ReadOnlyAdmin):
    list_display = ["id", "external_id", "status", "result_status", "builder", "launched_by"]
    list_filter = ["status", "result_status", "builder_project"]
    search_fields = ["=id", "=external_id", "=reuse_key"]
    list_select_related = ["launched_by"]
    exclude = ["result_output", "build_infra"]
    readonly_fields = ["result_message"]

    @admin.display(description="Result")
    def result_message(self, obj):
        result = serializers.result_from_row(obj)
        return as_text(result) if result is not None else "-"


class ExecutionInline(ReadOnlyInline):
    model = Execution
    fields = ["position", *DEFINITION_FIELDS, "used_quota"]
    readonly_fields = fields


@admin.register(ExecutionState)
class ExecutionStateAdmin(ReadOnlyAdmin):
    list_display = ["run", "status", "requirement_version", "end_time", "update_time"]
    list_filter = ["status"]
    search_fields = ["=run__id"]
    readonly_fields = ["state_message"]
    inlines = [ExecutionInline]

    @admin.display(description="ExecutionState")
    def state_message(self, obj):
        rows = serializers.load_execution_state_rows(obj.run_id)
        return as_text(serializers.execution_state_from_rows(rows))


class ExecutionAttemptInline(ReadOnlyInline):
    model = ExecutionAttempt
    fields = ["position", "tryjob", "external_id", "status", "result_status", "reused"]
    readonly_fields = fields


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdmin):
    list_display = ["state", "position", *DEFINITION_FIELDS, "used_quota"]
    search_fields = ["=state__run__id"]
    inlines = [ExecutionAttemptInline]


@admin.register(ExecutionLogEntry)
class ExecutionLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["run", "time", "kind", "state_version"]
    list_filter = ["kind"]
    search_fields = ["=run__id"]
    exclude = ["detail"]
    readonly_fields = ["entry_message"]

    @admin.display(description="Entry")
    def entry_message(self, obj):
        return as_text(serializers.log_entry_from_row(obj))
