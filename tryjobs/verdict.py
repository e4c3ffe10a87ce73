"""A run follows its execution state once it ends (§3.2), and the words for why it failed.

SUCCEEDED: a full run waits for submission (its submit task is queued), any other run
SUCCEEDED; FAILED: the run FAILED with `failure_message` as its end reason. Either way the
result is posted on the run's CLs (runs.actions.announce_result).
"""

from collections.abc import Iterable, Sequence

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.validation import enum_name
from runs import tasks as run_tasks
from runs.actions import announce_result
from runs.lifecycle import set_status
from runs.models import Run, RunMode, RunStatus
from runs.posts import VERIFIED_OK_MESSAGE
from runs.side_effects import enqueue_after_commit
from tryjobs import serializers
from tryjobs.external_id import ExternalIDError, external_id_url
from tryjobs.models import ExecutionLogEntry, LogKind, TryjobStatus

__all__ = ["SUCCEEDED_REASON", "failure_message", "follow_state"]

State = tryjob_pb.ExecutionState
LogEntry = tryjob_pb.ExecutionLogEntry
Result = tryjob_pb.Result

SUCCEEDED_REASON = "all required tryjobs succeeded"


def follow_state(
    run: Run, state: State | None, entries: Sequence[LogEntry], version: int, actor: str
) -> None:
    """Moves a locked RUNNING run on once its execution state (saved as `version`, with
    `entries` logged by this pass) has ended (§3.2); otherwise nothing."""
    if state is None or run.status != RunStatus.RUNNING:
        return
    if state.status == State.SUCCEEDED:
        if run.mode == RunMode.FULL_RUN:
            set_status(run, RunStatus.WAITING_FOR_SUBMISSION, actor, SUCCEEDED_REASON)
            enqueue_after_commit(run_tasks.submit_run, run.id)
        else:
            set_status(run, RunStatus.SUCCEEDED, actor, SUCCEEDED_REASON)
            announce_result(run, VERIFIED_OK_MESSAGE)
    elif state.status == State.FAILED:
        denials = [e.retry_denied for e in entries if e.WhichOneof("kind") == "retry_denied"]
        if not entries:  # a repair pass: the pass that failed the state logged the denials
            denials = [
                serializers.log_entry_from_row(row).retry_denied
                for row in ExecutionLogEntry.objects.filter(
                    run_id=run.id, state_version=version, kind=LogKind.RETRY_DENIED
                )
            ]
        message = failure_message(state, denials)
        set_status(run, RunStatus.FAILED, actor, message)
        announce_result(run, message)


_RESULT_WORDS = {
    Result.FAILED_PERMANENTLY: "failed",
    Result.FAILED_TRANSIENTLY: "failed (infra or transient failure)",
    Result.TIMEOUT: "timed out",
}
_SUMMARY_LINES = 10


def failure_message(state: State, denials: Iterable[LogEntry.RetryDenied] = ()) -> str:
    """Why a FAILED state failed, for the run's end reason (and so for people).

    Unsuccessful tryjobs are preferred over launch failures (§3.2). Each failed tryjob is
    named by the builder that ran (or its definition's), with its link and the start of its
    summary; a definition with RESTRICTED result visibility shows only the link. The reasons
    retries were denied follow.
    """
    failures = state.failures
    latest: dict[int, tuple[tryjob_pb.Definition, State.Execution.Attempt]] = {}
    for definition, execution in zip(state.requirement.definitions, state.executions, strict=True):
        for attempt in execution.attempts:
            latest[attempt.tryjob_id] = (definition, attempt)
    lines: list[str] = []
    if failures.unsuccessful_results:
        count = len(failures.unsuccessful_results)
        lines.append(f"{count} tryjob{'s' if count > 1 else ''} failed:")
        for unsuccessful in failures.unsuccessful_results:
            lines.extend(_describe_unsuccessful(unsuccessful.tryjob_id, latest))
        reasons = list(dict.fromkeys(d.reason for d in denials if d.reason))
        if reasons:
            lines.append(f"Not retried: {'; '.join(reasons)}.")
    elif failures.launch_failures:
        count = len(failures.launch_failures)
        lines.append(f"Failed to launch {count} tryjob{'s' if count > 1 else ''}:")
        for failure in failures.launch_failures:
            name = (
                "a tryjob"
                if _restricted(failure.definition)
                else _builder_name(failure.definition.buildbucket.builder)
            )
            lines.append(f"* {name}: {failure.reason}")
    else:
        lines.append("The tryjobs failed (no details were recorded).")
    return "\n".join(lines)


def _restricted(definition: tryjob_pb.Definition) -> bool:
    return definition.result_visibility == 2  # cv.config.COMMENT_LEVEL_RESTRICTED


def _builder_name(builder) -> str:
    return f"{builder.project}/{builder.bucket}/{builder.builder}"


def _describe_unsuccessful(tryjob_id: int, latest) -> list[str]:
    if tryjob_id not in latest:
        return [f"* tryjob {tryjob_id} failed"]
    definition, attempt = latest[tryjob_id]
    try:
        link = external_id_url(attempt.external_id) if attempt.external_id else ""
    except ExternalIDError:
        link = attempt.external_id
    where = f": {link}" if link else ""
    if _restricted(definition):
        return [f"* a tryjob failed{where}"]
    result = attempt.result if attempt.HasField("result") else None
    if result is not None and result.buildbucket.HasField("builder"):
        name = _builder_name(result.buildbucket.builder)
    else:
        name = _builder_name(definition.buildbucket.builder)
    if attempt.status == TryjobStatus.CANCELLED:
        verdict = "was cancelled"
    else:
        status = result.status if result is not None else 0
        verdict = _RESULT_WORDS.get(status, f"ended {enum_name(Result.Status, status)}")
    lines = [f"* {name} {verdict}{where}"]
    summary = result.buildbucket.summary_markdown.strip() if result is not None else ""
    if summary:
        summary_lines = summary.splitlines()
        lines.extend(f"  {line}" for line in summary_lines[:_SUMMARY_LINES])
        if len(summary_lines) > _SUMMARY_LINES:
            lines.append("  ...")
    return lines
