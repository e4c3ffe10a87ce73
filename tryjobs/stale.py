"""§5: tryjobs of a CL's superseded patchsets that no running run watches are cancelled.

`cancel_stale_tryjobs` is the work of the `tryjobs.tasks.cancel_stale_tryjobs` task, which
`tryjobs.tasks.schedule_stale_tryjob_cancellation` enqueues when a CL's equivalent patchset moves.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction

from runs import clock
from runs.models import CL
from tryjobs import executor, serializers
from tryjobs.backend import BackendError, get_backend
from tryjobs.changes import footer_values, save_changed_tryjobs, watched_by_running_run
from tryjobs.models import Tryjob, TryjobStatus

__all__ = ["STALE_SUMMARY", "StaleCancellation", "cancel_stale_tryjobs"]

# What the backend is told, as upstream tells Buildbucket (reference buildbucket.md §2.7).
STALE_SUMMARY = "LUCI CV no longer needs this Tryjob"
DO_NOT_CANCEL_FOOTER = "cq-do-not-cancel-tryjobs"


@dataclass
class StaleCancellation:
    """What one stale-tryjob pass did; `retry_in` set when it must run again."""

    cancelled: list[int] = field(default_factory=list)
    still_watched: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    kept_by_footer: bool = False
    retry_in: timedelta | None = None


def _keeps_tryjobs(cl: CL) -> bool:
    return any(v.lower() == "true" for v in footer_values(cl, DO_NOT_CANCEL_FOOTER))


def cancel_stale_tryjobs(cl_id: int, previous: int, current: int) -> StaleCancellation:
    """Cancels the tryjobs cvsite launched for patchsets [previous, current) of the CL.

    Kept: tryjobs without an external ID, already ended, not launched by cvsite, of a
    definition with skip_stale_check, or still watched by a run that has not ended (those
    are tried again later, `retry_in`); all of them when the CL's current revision has the
    footer `Cq-Do-Not-Cancel-Tryjobs: true`. The backend is asked outside any transaction;
    then, in its own, the tryjob is locked, checked again and CANCELLED (its result dropped:
    the rows keep none for a CANCELLED tryjob). Runs are not woken: none watches it.
    """
    report = StaleCancellation()
    cl = CL.objects.filter(id=cl_id).first()
    if cl is None or _keeps_tryjobs(cl):
        report.kept_by_footer = cl is not None
        return report
    candidates = list(
        Tryjob.objects.of_patchsets(cl_id, previous, current)
        .not_ended()
        .filter(external_id__isnull=False, launched_by__isnull=False, skip_stale_check=False)
        .order_by("id")
        .values_list("id", flat=True)
    )
    backend = get_backend()
    retriable_failure = False
    for tryjob_id in candidates:
        row = Tryjob.objects.not_ended().filter(id=tryjob_id).select_related("launched_by").first()
        if row is None:
            continue  # ended meanwhile
        if watched_by_running_run(tryjob_id):
            report.still_watched.append(tryjob_id)
            continue
        # Asked without any transaction: no lock is held while the backend answers.
        try:
            backend.cancel(row.external_id, STALE_SUMMARY, project=row.launched_by.project)
        except BackendError as e:
            report.failed[tryjob_id] = executor.launch_failure_reason(
                e.code, e.message, backend.kind
            )
            retriable_failure |= e.code is not None and executor.is_retriable_launch_code(e.code)
            continue
        with transaction.atomic():
            row = (
                Tryjob.objects.select_for_update(no_key=True)
                .not_ended()
                .filter(id=tryjob_id)
                .first()
            )
            # Ended meanwhile, or reused by a run meanwhile: the build's own update (CANCELED)
            # tells what happened, to the runs that watch it.
            if row is None or watched_by_running_run(tryjob_id):
                continue
            row.status = TryjobStatus.CANCELLED
            for name, value in serializers.NO_RESULT_COLUMNS.items():
                setattr(row, name, value)
            save_changed_tryjobs([row], clock.now(), notify=False)
            report.cancelled.append(tryjob_id)
    if report.still_watched or retriable_failure:
        report.retry_in = timedelta(seconds=10)
    return report
