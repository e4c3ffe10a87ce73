"""Factories for run-side rows: valid by construction, overridable per test."""

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

from runs.ids import RunID
from runs.models import CL, RUN_ENDED_MASK, Run, RunStatus

_counter = itertools.count(1)
BASE_TIME = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def make_run(project: str = "chromium", **overrides) -> Run:
    n = next(_counter)
    create_time = overrides.pop("create_time", BASE_TIME + timedelta(minutes=n))
    attempt_key = hashlib.sha256(f"{project}-{n}".encode()).hexdigest()[:16]
    status = overrides.pop("status", RunStatus.RUNNING)
    fields = {
        "id": str(RunID.new(project, create_time, attempt_key)),
        "project": project,
        "cqd_attempt_key": attempt_key,
        "status": status,
        "mode": "DRY_RUN",
        "create_time": create_time,
        "start_time": create_time,
        "end_time": create_time + timedelta(hours=1) if status & RUN_ENDED_MASK else None,
    }
    fields.update(overrides)
    return Run.objects.create(**fields)


def make_cl(host: str = "chromium-review.googlesource.com", **overrides) -> CL:
    fields = {
        "host": host,
        "change": 1000 + next(_counter),
        "patchset": 1,
        "min_equivalent_patchset": 1,
        "info": b"",
    }
    fields.update(overrides)
    return CL.objects.create(**fields)


def make_run_of_changes(gerrit, changes, *, project="chromium", mode="FULL_RUN", status=None):
    """A run over changes of a (fake) Gerrit, with CL and RunCL snapshots fetched from it.

    `changes` are change numbers; a change's `depends_on` in the fake becomes a HARD dep.
    """
    from gerrit.client import client_for_host
    from runs import serializers
    from runs.ids import AttemptKeyCL, attempt_key
    from runs.models import DepKind, RunCL, RunCLDep

    with client_for_host(gerrit.host) as client:
        infos = [client.get_change(number) for number in changes]
    trigger_time = BASE_TIME + timedelta(minutes=next(_counter))
    key = attempt_key(
        AttemptKeyCL(gerrit.host, i.number, i.current_revision, trigger_time, mode, 1)
        for i in infos
    )
    run = make_run(
        project,
        id=str(RunID.new(project, trigger_time, key)),
        cqd_attempt_key=key,
        mode=mode,
        create_time=trigger_time,
        status=status or RunStatus.RUNNING,
    )
    snapshots, cls = {}, {}
    for info in infos:
        patchset = info.revisions[info.current_revision].number
        snapshots[info.number] = serializers.change_snapshot_columns(
            info, patchset=patchset, min_equivalent_patchset=patchset, files=["a.txt"]
        )
        cls[info.number], _ = CL.objects.update_or_create(
            host=gerrit.host, change=info.number, defaults=snapshots[info.number]
        )
    for position, number in enumerate(changes):
        run_cl = RunCL(
            run=run,
            cl=cls[number],
            position=position,
            trigger_time=trigger_time,
            trigger_mode=mode,
            trigger_account_id=1,
            **snapshots[number],
        )
        in_run = [dep for dep in gerrit.depends_on.get(number, ()) if dep in cls]
        deps = [
            RunCLDep(run_cl=run_cl, depends_on=cls[dep], kind=DepKind.HARD, position=i)
            for i, dep in enumerate(in_run)
        ]
        serializers.set_served_message(run_cl, deps).save()
        RunCLDep.objects.bulk_create(deps)
    return run
