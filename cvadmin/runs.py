"""Read-only admin for runs, CLs and CQDaemon reports: operators browse, they do not edit."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from cvadmin import cqdaemon, dashboards, run_page, search
from cvadmin.base import (
    CVModelAdmin,
    KeysetAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    as_text,
    operator,
)
from cvadmin.filters import choices_filter, project_filter
from cvadmin.gantt import elapsed
from cvadmin.tryjobs import (
    DRIVE_PERMISSION,
    MAX_RUNS_PER_ACTION,
    run_executor_action,
    set_requirement_action,
)
from runs import actions, rollups, serializers
from runs.models import (
    CL,
    FinishedCQDRun,
    NetrcToken,
    ProjectVerifier,
    ProjectVerifierChange,
    ReportedRunsSnapshot,
    Run,
    RunCL,
    RunCLDep,
    RunMode,
    VerifiedCQDRun,
)

MAX_RUNS_LISTED = 200
DEFAULT_WINDOW = "7d"


@admin.register(Run)
class RunAdmin(KeysetAdmin):
    list_display = ["id", "coloured_status", "mode", "created", "took"]
    list_filter = [
        "status",
        choices_filter("mode", "mode", RunMode.choices),
        project_filter("project"),
    ]
    # Shown as the search box; `get_search_results` does the searching (cvadmin.search).
    search_fields = ["id"]
    search_help_text = (
        "A run ID, attempt key, CL URL or change number, build URL or ID, "
        "buildbucket/<host>/<id>, or project/bucket/builder."
    )
    ordering = ["-create_time", "id"]
    actions = ["set_tryjob_requirement", "run_tryjob_executor", "cancel_runs"]

    def get_keyset_ordering(self, request):
        # Within a project, run IDs sort newest first (and index with the project's filters).
        return ("id",) if request.GET.get("project") else ("-create_time", "id")

    def get_urls(self):
        dashboard = path(
            "dashboard/",
            self.admin_site.admin_view(self.dashboard_view),
            name="runs_run_dashboard",
        )
        return [dashboard, *super().get_urls()]

    def dashboard_view(self, request):
        """A project's (?project=) or every project's health over a window (?window=)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        project = request.GET.get("project", "").strip() or None
        window_name = request.GET.get("window", DEFAULT_WINDOW)
        if window_name not in rollups.WINDOWS:
            return HttpResponseBadRequest(
                f"window: {window_name[:40]!r} is not one of {', '.join(rollups.WINDOWS)}",
                content_type="text/plain",
            )
        if project is not None and (len(project) > 100 or "/" in project or "\x00" in project):
            return HttpResponseBadRequest(
                "project: not a LUCI project name (at most 100 characters, no '/')",
                content_type="text/plain",
            )
        board = dashboards.load(project, rollups.window(window_name, timezone.now()))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Dashboard: {board.scope}",
            "opts": self.model._meta,
            "board": board,
            "windows": list(rollups.WINDOWS),
        }
        return TemplateResponse(request, "admin/runs/run/dashboard.html", context)

    def changelist_view(self, request, extra_context=None):
        text = request.GET.get("q", "")
        if text:
            outcome = request.run_search = search.resolve(text)
            if outcome.redirect:
                return HttpResponseRedirect(outcome.redirect)
            if outcome.message:
                self.message_user(request, outcome.message, outcome.level)
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return queryset, False
        # changelist_view resolved it already (request.run_search); its conditions are
        # subqueries, so no run is found twice.
        outcome = getattr(request, "run_search", None) or search.resolve(search_term)
        return queryset.filter(outcome.runs), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The run page: what happened and why, instead of the stock form of its columns."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])  # runs change through actions only
        page = run_page.load(unquote(object_id))
        if page is None:
            raise Http404(f"No run {unquote(object_id)!r}.")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Run {page.run.id}",
            "opts": self.model._meta,
            "page": page,
        }
        return TemplateResponse(request, "admin/runs/run/run_page.html", context)

    @admin.display(description="status", ordering="status")
    def coloured_status(self, obj):
        return format_html(
            '<span class="status status-{}">{}</span>',
            run_page.status_class(obj.status),
            obj.get_status_display(),
        )

    @admin.display(description="created (UTC)", ordering="create_time")
    def created(self, obj):
        return f"{obj.create_time:%Y-%m-%d %H:%M:%S}"

    @admin.display(description="took")
    def took(self, obj):
        if obj.end_time is None:
            return "-"
        return elapsed(obj.end_time - (obj.start_time or obj.create_time))

    def has_drive_executor_permission(self, request) -> bool:
        return request.user.has_perm(DRIVE_PERMISSION)

    def has_cancel_permission(self, request) -> bool:
        return request.user.is_superuser  # ends runs and posts on their CLs: superusers only

    @admin.action(
        description="Set the tryjob requirement (cvsite executor)", permissions=["drive_executor"]
    )
    def set_tryjob_requirement(self, request, queryset):
        return set_requirement_action(self, request, queryset, "set_tryjob_requirement")

    @admin.action(
        description="Run the tryjob executor (cvsite executor)", permissions=["drive_executor"]
    )
    def run_tryjob_executor(self, request, queryset):
        return run_executor_action(self, request, queryset)

    @admin.action(description="Cancel the selected runs (reason required)", permissions=["cancel"])
    def cancel_runs(self, request, queryset):
        """An intermediate page asks for the reason; the runs end CANCELLED with it, and it is
        posted on their CLs."""
        runs = list(queryset.active().order_by("id")[: MAX_RUNS_PER_ACTION + 1])
        if len(runs) > MAX_RUNS_PER_ACTION:
            self.message_user(
                request, f"Select at most {MAX_RUNS_PER_ACTION} runs.", messages.ERROR
            )
            return None
        if not runs:
            self.message_user(request, "None of the selected runs is active.", messages.WARNING)
            return None
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("apply") and reason:
            cancelled = [
                run.id
                for run in runs
                if actions.cancel_run_by_operator(run.id, operator(request), reason)
            ]
            self.message_user(
                request,
                f"Cancelled {len(cancelled)} run(s): {', '.join(cancelled)}.",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel runs",
            "opts": self.model._meta,
            "runs": runs,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "error": "A cancellation needs a reason." if request.POST.get("apply") else "",
        }
        return TemplateResponse(request, "admin/runs/cancel_runs.html", context)


@admin.register(CL)
class CLAdmin(KeysetAdmin):
    """Newest first; found by change number or CLID (the search box takes CL URLs)."""

    list_display = ["id", "host", "change", "patchset", "gerrit_project", "owner_email"]
    search_fields = ["=change", "=id"]
    fieldsets = [
        (None, {"fields": ["gerrit_link", "gerrit_project", "owner_email", "patchset"]}),
        ("Runs of this CL, newest first", {"fields": ["runs_over_time"]}),
        (
            "Latest snapshot",
            {
                "classes": ["collapse"],
                "fields": [
                    "host",
                    "change",
                    "min_equivalent_patchset",
                    "current_revision",
                    "change_status",
                    "external_update_time",
                    "update_time",
                    "change_info",
                ],
            },
        ),
    ]
    readonly_fields = ["gerrit_link", "runs_over_time", "change_info"]

    @admin.display(description="Gerrit")
    def gerrit_link(self, obj):
        return format_html('<a href="{0}" class="gerrit-link">{0}</a>', obj.url)

    @admin.display(description="runs")
    def runs_over_time(self, obj):
        run_cls = (
            RunCL.objects.filter(cl=obj)
            .select_related("run")
            .only(
                "patchset",
                "trigger_mode",
                "run__id",
                "run__status",
                "run__mode",
                "run__create_time",
            )
            .order_by("run_id")[:MAX_RUNS_LISTED]
        )
        rows = format_html_join(
            "",
            '<tr><td><a href="{}" class="cl-run">{}</a></td><td><span class="status status-{}">'
            "{}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    run_page.run_url(rc.run.id),
                    rc.run.id,
                    run_page.status_class(rc.run.status),
                    rc.run.get_status_display(),
                    rc.run.mode,
                    rc.patchset,
                    f"{rc.run.create_time:%Y-%m-%d %H:%M:%S} UTC",
                )
                for rc in run_cls
            ),
        )
        return format_html(
            '<table class="cl-runs"><thead><tr><th>run</th><th>status</th><th>mode</th>'
            "<th>patchset</th><th>created</th></tr></thead><tbody>{}</tbody></table>",
            rows or mark_safe('<tr><td colspan="5">none</td></tr>'),
        )

    @admin.display(description="Gerrit ChangeInfo snapshot")
    def change_info(self, obj):
        return as_text(serializers.change_info_from_row(obj))


class RunCLDepInline(ReadOnlyInline):
    model = RunCLDep
    fk_name = "run_cl"
    fields = ["depends_on", "kind"]
    readonly_fields = fields
    show_change_link = False


@admin.register(RunCL)
class RunCLAdmin(KeysetAdmin):
    list_display = ["run", "cl", "position", "patchset", "trigger_mode", "trigger_time"]
    list_select_related = ["run", "cl"]
    search_fields = ["=run__id"]
    exclude = ["info"]
    readonly_fields = ["change_info"]
    inlines = [RunCLDepInline]

    @admin.display(description="Gerrit ChangeInfo at run start")
    def change_info(self, obj):
        return as_text(serializers.change_info_from_row(obj))


class AttemptAdmin(KeysetAdmin):
    exclude = ["attempt"]
    readonly_fields = ["attempt_message"]

    @admin.display(description="bigquery.Attempt")
    def attempt_message(self, obj):
        return as_text(serializers.attempt_from_row(obj))


@admin.register(FinishedCQDRun)
class FinishedCQDRunAdmin(AttemptAdmin):
    list_display = ["attempt_key", "attempt_project", "attempt_status", "run", "update_time"]
    list_select_related = ["run"]
    list_filter = ["attempt_status", project_filter("attempt_project")]
    search_fields = ["=attempt_key", "=run__id"]


@admin.register(VerifiedCQDRun)
class VerifiedCQDRunAdmin(AttemptAdmin):
    list_display = ["run", "action", "attempt_key", "update_time"]
    list_select_related = ["run"]
    list_filter = ["action"]
    search_fields = ["=attempt_key", "=run__id"]
    keyset_ordering = ("-update_time", "run")


@admin.register(ReportedRunsSnapshot)
class ReportedRunsSnapshotAdmin(ReadOnlyAdmin):
    """Per project: what CQDaemon last said it works on, against cvsite's active runs."""

    list_display = ["project", "reported_at", "age", "reported_by"]
    fields = ["project", "reported_at", "age", "reported_by", "comparison"]
    readonly_fields = ["age", "comparison"]

    @admin.display(description="age")
    def age(self, obj):
        return elapsed(timezone.now() - obj.reported_at) + " ago"

    @admin.display(description="CQDaemon vs cvsite")
    def comparison(self, obj):
        result = cqdaemon.compare(obj)

        def run_links(runs):
            return (
                format_html_join(
                    ", ", '<a href="{}">{}</a>', ((run_page.run_url(r.id), r.id) for r in runs)
                )
                or "none"
            )

        only_cqd = (
            format_html_join(
                ", ",
                "{} ({})",
                (
                    (r.reported_id or r.attempt_key, r.get_attempt_status_display())
                    for r in result.only_cqdaemon
                ),
            )
            or "none"
        )
        disagreements = format_html_join(
            "",
            '<li><a href="{}">{}</a>: {}</li>',
            ((run_page.run_url(d.run.id), d.run.id, d.words) for d in result.disagreements),
        ) or mark_safe("<li>none</li>")
        return format_html(
            '<dl class="cqd-comparison"><dt>Agreeing</dt><dd>{}</dd>'
            "<dt>Only CQDaemon reports</dt><dd>{}</dd>"
            "<dt>Only cvsite has active</dt><dd>{}</dd>"
            "<dt>Status disagreements</dt><dd><ul>{}</ul></dd></dl>",
            result.agreeing,
            only_cqd,
            run_links(result.only_cvsite),
            disagreements,
        )


@admin.register(NetrcToken)
class NetrcTokenAdmin(ReadOnlyAdmin):
    """Shows which projects have a legacy token for which Gerrit host (`*`: the host's default,
    `(unscoped)`: reported before tokens had projects, never used); the token is never shown."""

    secret_fields = ("encrypted_access_token",)
    list_display = ["project", "gerrit_host", "update_time"]
    list_filter = ["project"]
    fields = ["project", "gerrit_host", "update_time"]
    readonly_fields = fields


@admin.register(ProjectVerifier)
class ProjectVerifierAdmin(CVModelAdmin):
    """Operators switch who verifies a project's runs; each switch is recorded."""

    list_display = ["project", "verifier", "changed_at", "changed_by"]
    fields = ["project", "verifier"]

    def get_readonly_fields(self, request, obj=None):
        return ["project"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False  # switch back to CQDaemon instead, so the history says who did it

    def save_model(self, request, obj, form, change):
        actions.set_project_verifier(obj.project, obj.verifier, operator(request))


@admin.register(ProjectVerifierChange)
class ProjectVerifierChangeAdmin(ReadOnlyAdmin):
    list_display = ["time", "project", "from_verifier", "to_verifier", "actor"]
    list_filter = ["project"]
