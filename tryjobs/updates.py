"""A backend's news about tryjobs (§7.4): stored, and the runs that watch them woken.

Above tryjobs.tasks: every run that watches a changed tryjob gets its event and its task in
the transaction that stores the change.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from cvproto.codes import Code
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.validation import InvalidMessage
from runs import clock
from runs.errors import ActionError
from tryjobs import serializers, tasks
from tryjobs.changes import save_changed_tryjobs
from tryjobs.models import Tryjob

__all__ = ["TryjobUpdate", "record_tryjob_update", "record_tryjob_updates"]

Result = tryjob_pb.Result


@dataclass(frozen=True)
class TryjobUpdate:
    """A backend's news about the tryjob with `external_id`."""

    external_id: str
    status: int
    result: Result | None = None


def record_tryjob_update(external_id: str, status: int, result: Result | None = None) -> bool:
    """Stores one tryjob's new status and result; True if it changed (runs are woken)."""
    return bool(record_tryjob_updates([TryjobUpdate(external_id, status, result)]))


def record_tryjob_updates(updates: Sequence[TryjobUpdate]) -> list[int]:
    """Stores tryjobs' new statuses and results in one transaction; returns the changed IDs.

    An update older than what is stored (both `result.update_time`s set, the stored one
    later) or equal to it changes nothing. Like upstream, a final status is not protected: a
    tryjob mirrors what its backend says last. Every run that watches a changed tryjob and
    has not ended gets one event per tryjob and one task (per run, for the whole batch).
    """
    for i, update in enumerate(updates):
        try:
            serializers.check_tryjob_status(
                update.status, update.external_id, update.result, f"updates[{i}]"
            )
            serializers.result_columns(update.result, f"updates[{i}].result")
        except InvalidMessage as e:
            raise ActionError(Code.INVALID_ARGUMENT, str(e)) from e
    now = clock.now()
    changed: dict[int, Tryjob] = {}
    with transaction.atomic():
        rows = {
            row.external_id: row
            for row in Tryjob.objects.select_for_update(no_key=True)
            .with_external_ids(u.external_id for u in updates)
            .order_by("id")
        }
        for update in updates:
            row = rows.get(update.external_id)
            if row is None:
                raise ActionError(
                    Code.NOT_FOUND, f"unknown Tryjob with ExternalID {update.external_id}"
                )
            stored = serializers.result_from_row(row)
            if (
                stored is not None
                and update.result is not None
                and stored.HasField("update_time")
                and update.result.HasField("update_time")
                and stored.update_time.ToDatetime() > update.result.update_time.ToDatetime()
            ):
                continue  # older news than what is stored
            if row.status == update.status and stored == update.result:
                continue
            row.status = update.status
            for name, value in serializers.result_columns(update.result).items():
                setattr(row, name, value)
            row.untriggered_reason = ""
            changed[row.id] = row
        tasks.wake_runs(save_changed_tryjobs(list(changed.values()), now))
    return list(changed)
