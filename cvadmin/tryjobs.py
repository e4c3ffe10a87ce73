"""Read-only admin for tryjobs, execution states and their log; the executor's run actions.

`set_requirement_action` and `run_executor_action` are the Run admin's actions (cvadmin/runs.py
calls them, and offers them only to holders of DRIVE_PERMISSION): operators drive the executor
of a run, as `manage.py set_requirement` and `manage.py run_executor` do.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from google.protobuf import text_format

from cvadmin.base import ReadOnlyAdmin, ReadOnlyInline, as_text, operator
from runs.errors import ActionError
from tryjobs import operations, serializers
from tryjobs.models import (
    Execution,
    ExecutionAttempt,
    ExecutionLogEntry,
    ExecutionState,
    Tryjob,
)
from tryjobs.requirements import parse_requirement

DRIVE_PERMISSION = "tryjobs.change_executionstate"
MAX_RUNS_PER_ACTION = 100

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


# Run actions -----------------------------------------------------------------------------------


def _selected_runs(modeladmin, request, queryset):
    runs = list(queryset.order_by("id")[: MAX_RUNS_PER_ACTION + 1])
    if len(runs) > MAX_RUNS_PER_ACTION:
        modeladmin.message_user(
            request, f"Select at most {MAX_RUNS_PER_ACTION} runs at a time.", messages.ERROR
        )
        return None
    return runs


def _report(modeladmin, request, run_id: str, call) -> None:
    try:
        result = call()
    except ActionError as e:
        modeladmin.message_user(request, f"run {run_id}: {e.message}", messages.ERROR)
        return
    modeladmin.message_user(request, result.summary(), messages.SUCCESS)


def run_executor_action(modeladmin, request, queryset):
    """One executor pass per selected run, over the latest state of its tryjobs."""
    for run in _selected_runs(modeladmin, request, queryset) or ():
        _report(
            modeladmin,
            request,
            run.id,
            lambda run=run: operations.run_executor(run.id, operator(request)),
        )


def set_requirement_action(modeladmin, request, queryset, action: str = "set_tryjob_requirement"):
    """An intermediate page with the requirement (prefilled with the first run's current
    one); applying it sets it on every selected run and runs their executor."""
    runs = _selected_runs(modeladmin, request, queryset)
    if not runs:
        return None
    text = request.POST.get("requirement", "")
    fmt = request.POST.get("format") or None
    error = ""
    if request.POST.get("apply"):
        try:
            requirement = parse_requirement(text, fmt, "requirement")
        except ActionError as e:
            error = e.message
        else:
            for run in runs:
                _report(
                    modeladmin,
                    request,
                    run.id,
                    lambda run=run: operations.set_requirement(
                        run.id, requirement, operator(request)
                    ),
                )
            return None
    else:
        state, _ = serializers.load_execution_state(runs[0].id)
        if state is not None and state.HasField("requirement"):
            text = text_format.MessageToString(state.requirement)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Set the tryjob requirement",
        "opts": modeladmin.model._meta,
        "runs": runs,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "requirement": text,
        "format": fmt or "",
        "error": error,
    }
    return TemplateResponse(request, "admin/tryjobs/set_requirement.html", context)
