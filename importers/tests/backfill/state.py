"""Everything the backfill commands write, by natural keys, to compare two databases.

Surrogate IDs (CLIDs, tryjob IDs, and reuse keys, which hash CLIDs) are replaced by what
identifies the row (host/change, external ID), and wall-clock bookkeeping (update_time,
imported_at, event times) is left out, so an import killed and resumed can be compared with
one run straight through, even when PostgreSQL's sequences skipped the IDs a killed
transaction had taken.

`python -m importers.tests.backfill.state` prints the state of the database DATABASE_URL names.
"""

import json
import sys
from datetime import datetime


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


def _rows(queryset, *fields) -> list[list]:
    return sorted([_plain(v) for v in row] for row in queryset.values_list(*fields))


def _served_without_clid(row: list) -> list:
    """A run CL row ending in (CLID, served_message hex), with the served message's CLID
    checked against the row's and then left out, like the CLID itself."""
    from cvproto.migration import migration_pb2

    *kept, clid, served = row
    message = migration_pb2.RunCL.FromString(bytes.fromhex(served))
    assert message.id == clid, f"served_message names CL {message.id}, the row CL {clid}"
    message.ClearField("id")
    return [*kept, message.SerializeToString(deterministic=True).hex()]


def dump_state() -> dict[str, list]:
    from django.db.models import Q

    from runs.models import CL, ImportedAttempt, Run, RunCL, RunEvent
    from tryjobs.models import Tryjob, TryjobCLPatchset

    run_fields = [f.attname for f in Run._meta.concrete_fields if f.name != "update_time"]
    cl_fields = [f.attname for f in CL._meta.concrete_fields if f.name not in ("id", "update_time")]
    run_cl_fields = [
        "run_id",
        "cl__host",
        "cl__change",
        *(
            f.attname
            for f in RunCL._meta.concrete_fields
            if f.name not in ("id", "run", "cl", "served_message")
        ),
        "cl_id",
        "served_message",
    ]
    attempt_fields = [
        f.attname
        for f in ImportedAttempt._meta.concrete_fields
        if f.name not in ("id", "imported_at")
    ]
    tryjob_fields = [
        f.attname
        for f in Tryjob._meta.concrete_fields
        if f.name not in ("id", "create_time", "update_time", "reuse_key")
    ]
    return {
        "runs": _rows(Run.objects.all(), *run_fields),
        "cls": _rows(CL.objects.all(), *cl_fields),
        "run_cls": sorted(
            _served_without_clid(row) for row in _rows(RunCL.objects.all(), *run_cl_fields)
        ),
        "events": _rows(
            RunEvent.objects.all(), "run_id", "actor", "kind", "from_status", "to_status", "detail"
        ),
        "attempts": _rows(ImportedAttempt.objects.all(), *attempt_fields),
        # A reuse key hashes CLIDs, which differ between databases: only whether it is set.
        "tryjobs": _rows(
            Tryjob.objects.annotate(has_reuse_key=~Q(reuse_key="")),
            *tryjob_fields,
            "has_reuse_key",
        ),
        "reused_by": _rows(Tryjob.reused_by.through.objects.all(), "tryjob__external_id", "run_id"),
        "tryjob_cls": _rows(
            TryjobCLPatchset.objects.all(),
            "tryjob__external_id",
            "cl__host",
            "cl__change",
            "patchset",
        ),
    }


def main() -> None:
    import django

    django.setup()
    json.dump(dump_state(), sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
