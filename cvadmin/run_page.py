"""One run on one page: what happened and why, read in a constant number of queries.

`load(run_id)` reads every row the page shows (about a dozen queries, whatever the number of
CLs, tryjobs, attempts and log entries) and turns them into plain values the template prints.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import OuterRef, Prefetch, Subquery
from django.urls import reverse
from django.utils import timezone
from google.protobuf.json_format import MessageToJson

from cvadmin import gantt
from runs import serializers as run_serializers
from runs.models import (
    DepKind,
    FinishedCQDRun,
    GerritPost,
    ReportedRun,
    Run,
    RunCL,
    RunCLDep,
    RunEvent,
    RunStatus,
    VerifiedCQDRun,
)
from tryjobs import serializers
from tryjobs.external_id import InvalidExternalIDError, external_id_url
from tryjobs.models import ExecutionAttempt, ResultStatus, Tryjob, TryjobStatus

RESULT_WORDS = {
    ResultStatus.SUCCEEDED: "succeeded",
    ResultStatus.FAILED_PERMANENTLY: "failed",
    ResultStatus.FAILED_TRANSIENTLY: "failed transiently",
    ResultStatus.TIMEOUT: "timed out",
    ResultStatus.UNKNOWN: "result unknown",
}
OUTCOMES = {
    ResultStatus.SUCCEEDED: "succeeded",
    ResultStatus.FAILED_PERMANENTLY: "failed",
    ResultStatus.FAILED_TRANSIENTLY: "transient",
    ResultStatus.TIMEOUT: "timeout",
}
DEP_KIND_WORDS = {DepKind.HARD: "hard", DepKind.SOFT: "soft"}
RUN_STATUS_CLASSES = {
    RunStatus.SUCCEEDED: "succeeded",
    RunStatus.FAILED: "failed",
    RunStatus.CANCELLED: "cancelled",
}


def status_class(run_status: int) -> str:
    """The CSS class that colours a run status."""
    return RUN_STATUS_CLASSES.get(run_status, "active")


def build_url(external_id: str | None) -> str:
    if not external_id:
        return ""
    try:
        return external_id_url(external_id)
    except InvalidExternalIDError:
        return ""  # a kind cvsite cannot link to: the ID is still shown


def build_label(external_id: str | None) -> str:
    return f"build {external_id.rsplit('/', 1)[-1]}" if external_id else "not launched"


def tryjob_url(tryjob_id: int) -> str:
    return reverse("admin:tryjobs_tryjob_change", args=[tryjob_id])


def run_url(run_id: str) -> str:
    return reverse("admin:runs_run_change", args=[run_id])


def outcome(status: int, result_status: int | None) -> str:
    if status in (TryjobStatus.PENDING, TryjobStatus.TRIGGERED):
        return "running"
    return OUTCOMES.get(result_status, "other")


def status_words(status: int, result_status: int | None) -> str:
    if status == TryjobStatus.ENDED:
        return RESULT_WORDS.get(result_status, "ended")
    return TryjobStatus(status).label.lower()


@dataclass
class Chip:
    label: str
    outcome: str
    marks: list[str]
    build_url: str
    tryjob_url: str
    title: str


@dataclass
class ChipGroup:
    builder: str
    flags: list[str]
    used_quota: int | None
    chips: list[Chip]
    # The retry quota one definition may use (the requirement's single quota), when it has one.
    quota_allowed: int | None = None


@dataclass
class TimelineLine:
    time: datetime
    offset: str
    source: str
    text: str
    url: str = ""


@dataclass
class CLRow:
    run_cl: RunCL
    gerrit_url: str
    subject: str
    previous_run: str | None
    next_run: str | None
    deps: list[str] = field(default_factory=list)


def _definition_builder(definition) -> str:
    builder = definition.buildbucket.builder
    return f"{builder.project}/{builder.bucket}/{builder.builder}"


def _snapshot_words(snapshot) -> str:
    builder = _definition_builder(snapshot.definition)
    result = snapshot.result.status if snapshot.HasField("result") else None
    words = status_words(snapshot.status, result)
    return f"{builder} {words} ({build_label(snapshot.external_id)})"


def describe_log_entry(entry) -> str:
    """An execution log entry (cv.internal.tryjob.ExecutionLogEntry) in words."""
    kind = entry.WhichOneof("kind")
    detail = getattr(entry, kind)
    if kind == "requirement_changed":
        return "tryjob requirement changed"
    if kind == "tryjobs_launched":
        return "launched " + "; ".join(
            f"{_definition_builder(t.definition)} ({build_label(t.external_id)})"
            for t in detail.tryjobs
        )
    if kind == "tryjobs_reused":
        return "reused " + "; ".join(_snapshot_words(t) for t in detail.tryjobs)
    if kind == "tryjobs_ended":
        return "; ".join(_snapshot_words(t) for t in detail.tryjobs)
    if kind == "tryjobs_launch_failed":
        return "failed to launch " + "; ".join(
            f"{_definition_builder(t.definition)}: {t.reason}" for t in detail.tryjobs
        )
    if kind == "tryjob_discarded":
        return f"discarded {_snapshot_words(detail.snapshot)}: {detail.reason}"
    if kind == "retry_denied":
        builders = ", ".join(_definition_builder(t.definition) for t in detail.tryjobs)
        return f"retry of {builders} denied: {detail.reason}"
    return kind.replace("_", " ")


def describe_event(event: RunEvent) -> str:
    words = event.get_kind_display()
    if event.to_status is not None:
        words = f"{RunStatus(event.from_status).label if event.from_status else '?'} → " + (
            RunStatus(event.to_status).label
        )
    detail = f": {event.detail}" if event.detail else ""
    return f"{words} by {event.actor}{detail}"


@dataclass
class RunPage:
    run: Run
    status_class: str
    duration: timedelta | None
    verifier: str
    end_reason: str
    cls: list[CLRow]
    chip_groups: list[ChipGroup]
    gantt_svg: str
    timeline: list[TimelineLine]
    state: object  # tryjobs.serializers.ExecutionStateRows, or None
    state_json: str
    failures: list[str]
    cqd_verified: VerifiedCQDRun | None
    cqd_finished: FinishedCQDRun | None

    @property
    def triggered_by(self) -> str:
        voters = (
            row.run_cl.trigger_email or str(row.run_cl.trigger_account_id) for row in self.cls
        )
        return ", ".join(dict.fromkeys(voters)) or "—"

    @property
    def duration_text(self) -> str:
        return "" if self.duration is None else gantt.elapsed(self.duration)


def first_line(text: str) -> str:
    return text.split("\n", 1)[0]


def change_subject(info) -> str:
    """The first line of the current revision's commit message (the snapshot has no subject)."""
    revision = info.revisions.get(info.current_revision)
    return first_line(revision.commit.message) if revision is not None else ""


def _cl_rows(run: Run) -> list[CLRow]:
    same_cl = RunCL.objects.filter(cl_id=OuterRef("cl_id"))
    # Run IDs of one project sort newest first: a smaller ID is a later run.
    rows = (
        RunCL.objects.filter(run=run)
        .select_related("cl")
        .prefetch_related(Prefetch("deps", queryset=RunCLDep.objects.select_related("depends_on")))
        .annotate(
            previous_run=Subquery(
                same_cl.filter(run_id__gt=OuterRef("run_id"))
                .order_by("run_id")
                .values("run_id")[:1]
            ),
            next_run=Subquery(
                same_cl.filter(run_id__lt=OuterRef("run_id"))
                .order_by("-run_id")
                .values("run_id")[:1]
            ),
        )
        .order_by("position")
    )
    result = []
    for run_cl in rows:
        cl = run_cl.cl
        project = run_cl.gerrit_project or cl.gerrit_project
        url = (
            f"https://{cl.host}/c/{project}/+/{cl.change}/{run_cl.patchset}"
            if project
            else f"https://{cl.host}/{cl.change}"
        )
        deps = [f"{dep.depends_on} ({DEP_KIND_WORDS[dep.kind]})" for dep in run_cl.deps.all()]
        subject = change_subject(run_serializers.change_info_from_row(run_cl))
        result.append(CLRow(run_cl, url, subject, run_cl.previous_run, run_cl.next_run, deps))
    return result


def _attempt_chip(attempt: ExecutionAttempt, position: int, retried: bool) -> Chip:
    marks = []
    if attempt.reused:
        marks.append("reused")
    if retried:
        marks.append(f"retry {position}")
    words = status_words(attempt.status, attempt.result_status)
    return Chip(
        label=build_label(attempt.external_id),
        outcome=outcome(attempt.status, attempt.result_status),
        marks=marks,
        build_url=build_url(attempt.external_id),
        tryjob_url=tryjob_url(attempt.tryjob_id),
        title=f"{words}; {attempt.external_id or 'no build'}",
    )


def _flags(definition) -> list[str]:
    flags = ["critical" if definition.critical else "non-critical"]
    if definition.optional:
        flags.append("optional")
    if definition.experiments:
        flags.append("experimental")
    return flags


def _from_execution_state(
    rows, run_end: datetime | None
) -> tuple[list[ChipGroup], list[gantt.GanttRow]]:
    groups, gantt_rows = [], []
    allowed = rows.state.retry_single_quota
    for execution, attempts in zip(rows.executions, rows.attempts, strict=True):
        chips = [_attempt_chip(a, i, i > 0 and not a.reused) for i, a in enumerate(attempts)]
        groups.append(
            ChipGroup(execution.builder, _flags(execution), execution.used_quota, chips, allowed)
        )
        bars = [
            gantt.GanttBar(
                start=a.result_create_time,
                # An attempt still open when the run ended is drawn up to the run's end.
                end=a.result_update_time if a.status == TryjobStatus.ENDED else run_end,
                outcome=outcome(a.status, a.result_status),
                reused=a.reused,
                title=f"{execution.builder} {build_label(a.external_id)}: "
                f"{status_words(a.status, a.result_status)}" + (" (reused)" if a.reused else ""),
            )
            for a in attempts
            if a.result_create_time is not None
        ]
        gantt_rows.append(gantt.GanttRow(execution.builder, bars))
    return groups, gantt_rows


def _from_tryjobs(tryjobs: list[Tryjob], run: Run) -> list[ChipGroup]:
    """Tryjobs the run launched or reused, when it has no execution state (CQDaemon's runs)."""
    groups: dict[str, ChipGroup] = {}
    for tryjob in tryjobs:
        group = groups.setdefault(
            tryjob.builder, ChipGroup(tryjob.builder, _flags(tryjob), None, [])
        )
        group.chips.append(
            Chip(
                label=build_label(tryjob.external_id),
                outcome=outcome(tryjob.status, tryjob.result_status),
                marks=[] if tryjob.launched_by_id == run.id else ["reused"],
                build_url=build_url(tryjob.external_id),
                tryjob_url=tryjob_url(tryjob.id),
                title=status_words(tryjob.status, tryjob.result_status),
            )
        )
    return list(groups.values())


def _failures(rows, tryjobs_by_id: dict[int, Tryjob]) -> list[str]:
    failures = [f"{f.builder}: launch failed: {f.reason}" for f in rows.launch_failures]
    for unsuccessful in rows.unsuccessful_results:
        tryjob = tryjobs_by_id.get(unsuccessful.tryjob_id)
        if tryjob is None:
            failures.append(f"tryjob {unsuccessful.tryjob_id} did not succeed")
        else:
            failures.append(
                f"{tryjob.builder} {status_words(tryjob.status, tryjob.result_status)} "
                f"({build_label(tryjob.external_id)})"
            )
    return failures


def load(run_id: str) -> RunPage | None:
    run = (
        Run.objects.filter(id=run_id)
        .select_related("cqd_verified", "execution_state", "config_version")
        .first()
    )
    if run is None:
        return None
    now = timezone.now()
    start = run.start_time or run.create_time

    def offset(moment: datetime) -> str:
        return gantt.short_duration(moment - start)

    cls = _cl_rows(run)
    state_rows = serializers.load_execution_state_rows(run.id)
    failed_ids = [u.tryjob_id for u in state_rows.unsuccessful_results] if state_rows else []
    # One index path each, in one query: an OR across the reuse join would scan every tryjob.
    reused = Tryjob.reused_by.through.objects.filter(run=run).values("tryjob_id")
    found = (
        Tryjob.objects.filter(launched_by=run)
        .order_by()
        .union(
            Tryjob.objects.filter(id__in=reused).order_by(),
            Tryjob.objects.filter(id__in=failed_ids).order_by(),
            all=True,
        )
    )
    tryjobs = sorted({t.id: t for t in found}.values(), key=lambda t: t.id)
    if state_rows is not None:
        chip_groups, gantt_rows = _from_execution_state(state_rows, run.end_time)
        failures = _failures(state_rows, {t.id: t for t in tryjobs})
        state_json = MessageToJson(serializers.execution_state_from_rows(state_rows), indent=2)
    else:
        chip_groups, gantt_rows, failures, state_json = _from_tryjobs(tryjobs, run), [], [], ""

    timeline = []
    for event in RunEvent.objects.filter(run=run).order_by("id"):
        timeline.append(TimelineLine(event.time, offset(event.time), "run", describe_event(event)))
    for row in run.execution_log.order_by("id"):
        entry = serializers.log_entry_from_row(row)
        timeline.append(
            TimelineLine(row.time, offset(row.time), "executor", describe_log_entry(entry))
        )
    for post in GerritPost.objects.filter(run=run).select_related("cl").order_by("id"):
        moment = post.posted_at or post.created_at
        state = "posted" if post.posted_at else f"queued ({post.attempts} attempts)"
        timeline.append(
            TimelineLine(
                moment,
                offset(moment),
                "gerrit",
                f"message {state} on {post.cl}: {first_line(post.message)}"
                + (f" — last error: {post.last_error}" if post.last_error else ""),
            )
        )
    cqd_verified = getattr(run, "cqd_verified", None)
    if cqd_verified is not None:
        timeline.append(
            TimelineLine(
                cqd_verified.update_time,
                offset(cqd_verified.update_time),
                "CQDaemon",
                f"verified: {cqd_verified.get_action_display()}"
                + (f": {cqd_verified.final_message}" if cqd_verified.final_message else ""),
            )
        )
    cqd_finished = FinishedCQDRun.objects.filter(attempt_key=run.cqd_attempt_key).first()
    if cqd_finished is not None:
        timeline.append(
            TimelineLine(
                cqd_finished.update_time,
                offset(cqd_finished.update_time),
                "CQDaemon",
                f"finished the attempt itself: {cqd_finished.get_attempt_status_display()}",
            )
        )
    for reported in ReportedRun.objects.filter(attempt_key=run.cqd_attempt_key).select_related(
        "snapshot"
    ):
        moment = reported.snapshot.reported_at
        timeline.append(
            TimelineLine(
                moment,
                offset(moment),
                "CQDaemon",
                f"reports it working on the attempt: {reported.get_attempt_status_display()}",
            )
        )
    timeline.sort(key=lambda line: line.time)

    execution_state = getattr(run, "execution_state", None)
    verifier = (
        "cvsite's tryjob executor"
        if execution_state is not None
        else ("CQDaemon" if not run.finalized_by_cqd else "CQDaemon (finalized it)")
    )
    return RunPage(
        run=run,
        status_class=status_class(run.status),
        duration=(run.end_time - start) if run.end_time else None,
        verifier=verifier,
        end_reason=run.end_reason,
        cls=cls,
        chip_groups=chip_groups,
        gantt_svg=gantt.render(gantt_rows, start, run.end_time, now),
        timeline=timeline,
        state=state_rows,
        state_json=state_json,
        failures=failures,
        cqd_verified=cqd_verified,
        cqd_finished=cqd_finished,
    )
