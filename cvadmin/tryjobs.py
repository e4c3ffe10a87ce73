"""Read-only admin for tryjobs, execution states and their log; the executor's run actions.

`set_requirement_action` and `run_executor_action` are the Run admin's actions (cvadmin/runs.py
calls them, and offers them only to holders of DRIVE_PERMISSION): operators drive the executor
of a run, as `manage.py set_requirement` and `manage.py run_executor` do.
"""

import nh3
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from google.protobuf import text_format
from markdown_it import MarkdownIt

from cvadmin.base import KeysetAdmin, ReadOnlyInline, as_text, operator
from cvadmin.gantt import elapsed
from cvadmin.run_page import build_label, build_url, run_url
from runs.errors import ActionError
from runs.models import Run
from tryjobs import operations, serializers
from tryjobs.models import (
    Execution,
    ExecutionAttempt,
    ExecutionLogEntry,
    ExecutionState,
    Tryjob,
)
from tryjobs.requirements import parse_requirement

# CommonMark with raw HTML off: nh3 then keeps only harmless tags and attributes.
MARKDOWN = MarkdownIt("commonmark", {"html": False})
DRIVE_PERMISSION = "tryjobs.change_executionstate"
MAX_RUNS_PER_ACTION = 100

DEFINITION_FIELDS = ["builder", "equivalent_builder", "critical", "optional", "disable_reuse"]


@admin.register(Tryjob)
class TryjobAdmin(KeysetAdmin):
    """A builder's tryjobs are this list filtered by builder (the search box's builder form)."""

    list_display = ["id", "build", "builder", "status", "result_status", "duration"]
    # A builder's tryjobs: ?builder_project=&builder_bucket=&builder_name= (the search box's
    # builder form), not a filter whose choices would be read from every tryjob.
    list_filter = ["status", "result_status"]
    search_fields = ["=id", "=external_id", "=reuse_key"]
    ordering = ["-id"]
    fieldsets = [
        (None, {"fields": ["build_link", "builder", "status", "result_status", "duration"]}),
        ("Build summary", {"fields": ["summary"]}),
        ("Runs that launched or reused it", {"fields": ["runs"]}),
        (
            "Rows",
            {
                "classes": ["collapse"],
                "fields": [
                    "external_id",
                    "reuse_key",
                    "critical",
                    "optional",
                    "disable_reuse",
                    "untriggered_reason",
                    "create_time",
                    "update_time",
                    "result_message",
                ],
            },
        ),
    ]
    readonly_fields = ["build_link", "builder", "duration", "summary", "runs", "result_message"]

    @admin.display(description="build")
    def build_link(self, obj):
        url = build_url(obj.external_id)
        return format_html('<a href="{0}" class="build-link">{0}</a>', url) if url else "-"

    @admin.display(description="build", ordering="external_id")
    def build(self, obj):
        url = build_url(obj.external_id)
        return format_html('<a href="{}">{}</a>', url, build_label(obj.external_id)) if url else "-"

    @admin.display(description="took")
    def duration(self, obj):
        if obj.result_create_time is None or obj.result_update_time is None or not obj.is_ended:
            return "-"
        return elapsed(obj.result_update_time - obj.result_create_time)

    @admin.display(description="summary")
    def summary(self, obj):
        return render_markdown(obj.build_summary_markdown) or "-"

    @admin.display(description="runs")
    def runs(self, obj):
        # One index path each, in one query: an OR across the reuse join would scan every run.
        reusing = Tryjob.reused_by.through.objects.filter(tryjob=obj).values("run_id")
        found = (
            Run.objects.filter(id=obj.launched_by_id)
            .order_by()
            .union(Run.objects.filter(id__in=reusing).order_by(), all=True)
        )
        runs = sorted({run.id: run for run in found}.values(), key=lambda run: run.id)
        return (
            format_html_join(
                ", ",
                '<a href="{}" class="tryjob-run">{}</a> ({})',
                (
                    (
                        run_url(run.id),
                        run.id,
                        "launched" if run.id == obj.launched_by_id else "reused",
                    )
                    for run in runs[:MAX_RUNS_PER_ACTION]
                ),
            )
            or "-"
        )

    @admin.display(description="Result")
    def result_message(self, obj):
        result = serializers.result_from_row(obj)
        return as_text(result) if result is not None else "-"


def render_markdown(text: str) -> str:
    """A build's summary markdown as HTML that cannot run script or restyle the page."""
    return mark_safe(nh3.clean(MARKDOWN.render(text))) if text else ""


class ExecutionInline(ReadOnlyInline):
    model = Execution
    fields = ["position", *DEFINITION_FIELDS, "used_quota"]
    readonly_fields = fields


@admin.register(ExecutionState)
class ExecutionStateAdmin(KeysetAdmin):
    list_display = ["run", "status", "requirement_version", "end_time", "update_time"]
    list_filter = ["status"]
    search_fields = ["=run__id"]
    readonly_fields = ["state_message"]
    inlines = [ExecutionInline]
    keyset_ordering = ("run",)

    @admin.display(description="ExecutionState")
    def state_message(self, obj):
        rows = serializers.load_execution_state_rows(obj.run_id)
        return as_text(serializers.execution_state_from_rows(rows))


class ExecutionAttemptInline(ReadOnlyInline):
    model = ExecutionAttempt
    fields = ["position", "tryjob", "external_id", "status", "result_status", "reused"]
    readonly_fields = fields


@admin.register(Execution)
class ExecutionAdmin(KeysetAdmin):
    list_display = ["state", "position", *DEFINITION_FIELDS, "used_quota"]
    search_fields = ["=state__run__id"]
    inlines = [ExecutionAttemptInline]


@admin.register(ExecutionLogEntry)
class ExecutionLogEntryAdmin(KeysetAdmin):
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
