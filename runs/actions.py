"""Every change to a run's state, one function each (what happens on ReportVerifiedRun, ...).

Each action runs in one transaction, writes a RunEvent for what it changed, and leaves side
effects (Gerrit posts and submissions) as durable tasks that run only if that transaction
commits (runs.side_effects), so a crash loses neither the state change nor the work it implies.
Errors are ActionError with a gRPC-style code, which adapters (the Migration API) pass on to
their callers.
"""

from collections.abc import Collection
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.codes import Code
from cvproto.migration import migration_pb2 as migration_pb
from cvproto.times import to_datetime
from cvproto.validation import InvalidMessage
from gerrit import messages as gerrit_messages
from gerrit.errors import GerritError
from runs import clock, rollups, serializers, tasks
from runs.errors import ActionError, invalid
from runs.lifecycle import lock_run, record_event, set_status
from runs.models import (
    CL,
    FinishedCQDRun,
    GerritPost,
    GerritPostPurpose,
    NetrcToken,
    ProjectVerifier,
    ProjectVerifierChange,
    ReportedRun,
    ReportedRunsSnapshot,
    Run,
    RunEventKind,
    RunMode,
    RunStatus,
    VerifiedCQDRun,
    Verifier,
    VerifyAction,
    holds_nul,
)
from runs.posts import (
    REQUEST_SLOTS,
    PostInFlight,
    deliver_once,
    message_digest,
    queue_result_message,
)
from runs.side_effects import enqueue_after_commit

# Lookups ---------------------------------------------------------------------------------------


def find_run(run_id: str, attempt_key: str, projects: Collection[str] | None = None) -> Run | None:
    """The run named by ID, else by CQDaemon attempt key (the first by ID: the newest), among
    the runs of `projects` (all when None): a run outside them is not found."""
    return Run.objects.in_projects(projects).named(run_id, attempt_key).first()


def find_run_to_verify(
    run_id: str, attempt_key: str, projects: Collection[str] | None = None
) -> Run | None:
    """The run find_run finds, locked for the rest of the caller's transaction (as
    lifecycle.lock_run locks it)."""
    locked = Run.objects.select_for_update(no_key=True)
    return locked.in_projects(projects).named(run_id, attempt_key).first()


# ReportVerifiedRun -----------------------------------------------------------------------------


def report_verified_run(
    run: Run, request: migration_pb.ReportVerifiedRunRequest, actor: str
) -> None:
    """CQDaemon's verdict on a run cvsite manages. The first report wins; later ones are no-ops.

    `run` is locked in the caller's transaction (find_run_to_verify or lock_run), which this
    action's writes join: an ActionError is raised before the first one. SUBMIT (full runs)
    starts submission; DRY_RUN_OK (other modes) and FAIL post their message to every CL, then
    end the run. A verdict that does not fit the run stores nothing.
    """
    row = None
    if not run.is_ended:
        _check_action_fits(run, request)
        try:
            row = serializers.verified_run_row(run.id, request)
        except InvalidMessage as e:
            raise invalid(e) from e
    with transaction.atomic(savepoint=False):
        # A statement of its own, after the lock: under READ COMMITTED each statement sees what
        # committed before it began, so a caller that waited for the lock sees the verdict its
        # holder wrote (a join in the locking statement would show the row as it was before).
        if VerifiedCQDRun.objects.filter(run_id=run.id).exists():
            return  # the first report won
        if run.is_ended:
            # Nothing left to decide (CQDaemon reports late, e.g. after a cancel); keep a trace.
            action = migration_pb.ReportVerifiedRunRequest.Action
            name = action.Name(request.action) if request.action in action.values() else None
            record_event(
                run,
                RunEventKind.CQD_VERIFIED,
                actor,
                f"ignored {name or f'action {request.action}'}",
            )
            return
        row.update_time = clock.now()
        row.save(force_insert=True)
        record_event(run, RunEventKind.CQD_VERIFIED, actor, f"{VerifyAction(row.action).name}")
        if row.action == VerifyAction.SUBMIT:
            set_status(run, RunStatus.WAITING_FOR_SUBMISSION, actor)
            enqueue_after_commit(tasks.submit_run, run.id)
        else:
            # The task writes the messages' outbox rows: this call stays short, and the task
            # runs once this commits.
            enqueue_after_commit(tasks.finish_verified_run, run.id)


def _check_action_fits(run: Run, request: migration_pb.ReportVerifiedRunRequest) -> None:
    action = request.action
    if action == VerifyAction.SUBMIT and run.mode != RunMode.FULL_RUN:
        raise ActionError(
            Code.FAILED_PRECONDITION, f"ACTION_SUBMIT needs a FULL_RUN; run {run.id} is {run.mode}"
        )
    if action == VerifyAction.DRY_RUN_OK and run.mode == RunMode.FULL_RUN:
        raise ActionError(
            Code.FAILED_PRECONDITION, f"ACTION_DRY_RUN_OK needs a dry run; run {run.id} is FULL_RUN"
        )


def announce_result(run: Run, message: str) -> None:
    """Posts an ended run's result message on its CLs, durably (for cvsite-verified runs)."""
    queue_result_message(run, message)
    enqueue_after_commit(tasks.post_result_messages, run.id)


# ReportFinishedRun -----------------------------------------------------------------------------

FINAL_STATUS_BY_ATTEMPT = {
    bq_pb.ABORTED: RunStatus.CANCELLED,
    bq_pb.FAILURE: RunStatus.FAILED,
    bq_pb.INFRA_FAILURE: RunStatus.FAILED,
    bq_pb.SUCCESS: RunStatus.SUCCEEDED,
}


def report_finished_run(run: Run | None, reported: migration_pb.ReportedRun, actor: str) -> None:
    """Stores what CQDaemon finalized (upsert by attempt key) and ends the linked run from it."""
    attempt = reported.attempt
    if attempt.status not in FINAL_STATUS_BY_ATTEMPT:
        raise ActionError(
            Code.INVALID_ARGUMENT,
            f"run.attempt.status: {bq_pb.AttemptStatus.Name(attempt.status)} is not final; "
            "report SUCCESS, ABORTED, FAILURE or INFRA_FAILURE"
            if attempt.status in bq_pb.AttemptStatus.values()
            else f"run.attempt.status: {attempt.status} is not an attempt status",
        )
    stored = migration_pb.ReportedRun()
    stored.CopyFrom(reported)
    if run is not None:
        stored.id = run.id
    try:
        columns = serializers.reported_run_columns(stored)
    except InvalidMessage as e:
        raise invalid(e) from e
    columns.update(run=run, update_time=clock.now())
    with transaction.atomic():
        locked = lock_run(run.id) if run is not None else None
        _upsert_finished_run(columns)
        if locked is not None:
            record_event(
                locked,
                RunEventKind.CQD_FINISHED,
                actor,
                f"attempt {attempt.key}: {bq_pb.AttemptStatus.Name(attempt.status)}",
            )
            if not locked.is_ended:
                _finalize_from_attempt(locked, attempt, actor)
            else:
                # cvsite ended it first: CQDaemon's word may now disagree with it.
                rollups.note_cqdaemon_word(locked)


def _upsert_finished_run(columns: dict) -> None:
    key = columns["attempt_key"]
    updated = FinishedCQDRun.objects.filter(attempt_key=key).update(**columns)
    if updated:
        return
    try:
        with transaction.atomic():
            FinishedCQDRun.objects.create(**columns)
    except IntegrityError:
        # A concurrent identical report inserted it first: last write wins, as upstream.
        FinishedCQDRun.objects.filter(attempt_key=key).update(**columns)


def _finalize_from_attempt(run: Run, attempt: bq_pb.Attempt, actor: str) -> None:
    status = FINAL_STATUS_BY_ATTEMPT[attempt.status]
    reason = f"CQDaemon finished the attempt: {bq_pb.AttemptStatus.Name(attempt.status)}"
    if status == RunStatus.SUCCEEDED and run.mode == RunMode.FULL_RUN:
        submitted = {
            (gc.host, gc.change)
            for gc in attempt.gerrit_changes
            if gc.submit_status == bq_pb.GerritChange.SUCCESS
        }
        missing = [
            f"{rc.cl.host}/{rc.cl.change}"
            for rc in run.run_cls.select_related("cl")
            if (rc.cl.host, rc.cl.change) not in submitted
        ]
        if missing:
            status = RunStatus.FAILED
            reason = "CQDaemon reported SUCCESS but did not submit " + ", ".join(missing)
    end_time = to_datetime(attempt.end_time) if attempt.HasField("end_time") else None
    run.finalized_by_cqd = True
    run.save(update_fields=["finalized_by_cqd"])
    set_status(run, status, actor, reason, end_time=end_time)


# FetchRunStatus --------------------------------------------------------------------------------


def run_status_event(run: Run) -> tuple[str, str]:
    """(event, extra) CQDaemon forwards to the CQ status app for an ended run."""
    if not run.is_ended:
        raise ActionError(
            Code.FAILED_PRECONDITION,
            f"Run {run.id!r} is not final yet ({RunStatus(run.status).name})",
        )
    if run.status == RunStatus.SUCCEEDED:
        return ("patch_committed" if run.mode == RunMode.FULL_RUN else "patch_ready_to_commit"), ""
    if run.status == RunStatus.FAILED:
        return "patch_failed", ""
    if run.status == RunStatus.CANCELLED:
        return "patch_failed", "CQ bit was unchecked."
    return "patch_unexpected_cv_status", RunStatus(run.status).name


# PostGerritMessage -----------------------------------------------------------------------------


def post_gerrit_message(
    run: Run, cl: CL, request: migration_pb.PostGerritMessageRequest, actor: str
) -> None:
    """Posts CQDaemon's comment on a CL of an active run, once: repeats are answered OK.

    Called outside any transaction. The intent (the post, keyed by its de-duplication digest)
    is committed first; then Gerrit is called holding no transaction or lock, for at most
    MIGRATION_GERRIT_WAIT_SECONDS. Gerrit's refusals (403, 404, 409, 412) in that time are
    raised with their codes, as upstream's callers expect. A post that cannot finish in time
    (Gerrit slow, failing or down, or already busy with MIGRATION_GERRIT_CALLS_PER_HOST calls
    from this process) is finished by a durable task, and the call answers OK.
    """
    if run.is_ended:
        raise ActionError(
            Code.FAILED_PRECONDITION,
            f"Run {run.id!r} is already finished ({RunStatus(run.status).name})",
        )
    text = gerrit_messages.prepare_message(request.comment)
    for field, column, value in (
        ("comment", "message", text),
        ("revision", "revision", request.revision),
    ):
        try:
            serializers.check_columns_fit(GerritPost, {column: value}, "request")
        except InvalidMessage as e:
            raise ActionError(Code.INVALID_ARGUMENT, f"{field}: {e.reason}") from e
    info = serializers.change_info_from_row(cl)
    if gerrit_messages.already_posted(info.messages, request.comment, run.create_time):
        return
    digest = message_digest(GerritPostPurpose.CQD_MESSAGE, text)
    notification = gerrit_messages.review_notification(request.send_email, run.mode, info)
    with transaction.atomic():
        post, _ = GerritPost.objects.select_related("run", "cl").get_or_create(
            run=run,
            cl=cl,
            message_digest=digest,
            defaults={
                "project": run.project,
                "purpose": GerritPostPurpose.CQD_MESSAGE,
                "message": text,
                "revision": request.revision,
                "notify": notification.notify,
                "notify_accounts": list(notification.details.get("TO", ())),
                "created_at": clock.now(),
            },
        )
    if post.posted_at is not None:
        return
    calls = settings.MIGRATION_GERRIT_CALLS_PER_HOST
    with REQUEST_SLOTS.slot(cl.host, calls) as free:
        if not free:
            why = f"{calls} calls to {cl.host} already in flight"
        else:
            try:
                deliver_once(post, actor, timeout=settings.MIGRATION_GERRIT_WAIT_SECONDS)
                return
            except PostInFlight:
                why = "another call is sending it"
            except GerritError as e:
                if not e.transient:
                    raise ActionError(e.code, str(e)) from e
                why = str(e)
    record_event(
        run, RunEventKind.SIDE_EFFECT_FAILED, actor, f"{why}; the post continues as a task"
    )
    enqueue_after_commit(tasks.finish_gerrit_post, post.pk)


# Who verifies a project ------------------------------------------------------------------------


def set_project_verifier(project: str, verifier: str, actor: str) -> bool:
    """Switches who verifies `project`'s runs; returns False when it already was `verifier`."""
    if verifier not in Verifier.values:
        raise ActionError(
            Code.INVALID_ARGUMENT, f"verifier {verifier!r} is not one of {Verifier.values}"
        )
    if not project or "/" in project or len(project) > 100:
        raise ActionError(Code.INVALID_ARGUMENT, f"{project!r} is not a LUCI project name")
    with transaction.atomic():
        row = ProjectVerifier.objects.select_for_update().filter(project=project).first()
        current = row.verifier if row else Verifier.CQDAEMON
        if current == verifier:
            return False
        now = clock.now()
        ProjectVerifier.objects.update_or_create(
            project=project,
            defaults={"verifier": verifier, "changed_at": now, "changed_by": actor},
        )
        ProjectVerifierChange.objects.create(
            project=project, time=now, actor=actor, from_verifier=current, to_verifier=verifier
        )
    return True


# ReportRuns ------------------------------------------------------------------------------------


def report_runs(
    snapshots: dict[str, list[migration_pb.ReportedRun]], actor: str, now: datetime | None = None
) -> None:
    """Replaces each project's snapshot of what CQDaemon works on."""
    now = now or clock.now()
    rows_by_project = {}
    for project, runs in snapshots.items():
        try:
            serializers.check_columns_fit(ReportedRunsSnapshot, {"project": project}, "runs")
        except InvalidMessage as e:
            raise invalid(e) from e
        rows = []
        for i, reported in enumerate(runs):
            try:
                columns = serializers.reported_run_columns(reported, f"runs[{i}]")
            except InvalidMessage as e:
                raise invalid(e) from e
            rows.append(ReportedRun(position=i, **columns))
        rows_by_project[project] = rows
    with transaction.atomic():
        for project, rows in rows_by_project.items():
            snapshot, _ = ReportedRunsSnapshot.objects.update_or_create(
                project=project, defaults={"reported_at": now, "reported_by": actor}
            )
            snapshot.runs.all().delete()
            # Only the project's own runs are linked: a reported ID naming another project's
            # run stays a bare ID, as for a run cvsite does not know.
            known = set(
                Run.objects.filter(
                    project=project, id__in=[r.reported_id for r in rows if r.reported_id]
                ).values_list("id", flat=True)
            )
            for row in rows:
                row.snapshot = snapshot
                row.run_id = row.reported_id if row.reported_id in known else None
            ReportedRun.objects.bulk_create(rows)


# ReportUsedNetrc -------------------------------------------------------------------------------


def report_used_netrc(projects: Collection[str], gerrit_host: str, access_token: str) -> None:
    """Stores (last write wins) the legacy token a CQDaemon uses for a Gerrit host, encrypted,
    for each of `projects` (NetrcToken.ALL_PROJECTS: the host's default)."""
    if not gerrit_host or not access_token:
        raise ActionError(Code.INVALID_ARGUMENT, "access_token and gerrit_host required")
    if len(gerrit_host) > 255 or holds_nul(gerrit_host):
        raise ActionError(
            Code.INVALID_ARGUMENT, "gerrit_host is not a host name (at most 255 characters)"
        )
    if len(access_token) > NetrcToken.MAX_TOKEN_LENGTH:
        raise ActionError(
            Code.INVALID_ARGUMENT,
            f"access_token is longer than {NetrcToken.MAX_TOKEN_LENGTH} characters",
        )
    token = NetrcToken(gerrit_host=gerrit_host)
    token.set_access_token(access_token)
    with transaction.atomic():
        for project in sorted(projects):
            NetrcToken.objects.update_or_create(
                project=project,
                gerrit_host=gerrit_host,
                defaults={"encrypted_access_token": token.encrypted_access_token},
            )


# Starting and cancelling -----------------------------------------------------------------------


def start_run(run_id: str, actor: str) -> None:
    """Starts a PENDING run: RUNNING from now on."""
    with transaction.atomic():
        run = lock_run(run_id)
        if run.status != RunStatus.PENDING:
            raise ActionError(
                Code.FAILED_PRECONDITION,
                f"run {run.id} is {RunStatus(run.status).name}: only a PENDING run starts",
            )
        run.start_time = clock.now()
        run.save(update_fields=["start_time"])
        set_status(run, RunStatus.RUNNING, actor)


def cancel_run(run_id: str, actor: str, reason: str) -> bool:
    """Ends an active run as CANCELLED (its vote was removed, a new run replaced it, an
    operator stopped it); False when it had already ended."""
    with transaction.atomic():
        run = lock_run(run_id)
        if run.is_ended:
            return False
        set_status(run, RunStatus.CANCELLED, actor, reason)
    return True


def cancel_run_by_operator(run_id: str, actor: str, reason: str) -> bool:
    """An operator stops an active run: CANCELLED, with who and why recorded and posted on its
    CLs; False when it had already ended."""
    if not reason.strip():
        raise ActionError(Code.INVALID_ARGUMENT, "reason: a cancellation needs a reason")
    with transaction.atomic():
        run = lock_run(run_id)
        if run.is_ended:
            return False
        set_status(run, RunStatus.CANCELLED, actor, f"cancelled by {actor}: {reason}")
        announce_result(run, f"This CQ run was cancelled by an operator: {reason}")
    return True
