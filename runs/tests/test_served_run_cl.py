"""RunCL.served_message: FetchActiveRuns serves it, so every way a RunCL is written must leave
it equal to the row's own migration.RunCL (without deps), and the database refuses a row
without one."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.gerrit import gerrit_pb2
from cvproto.migration import migration_pb2 as migration_pb
from importers.tests.backfill.conftest import run as run_command
from runs import queries, serializers
from runs.ids import RunID
from runs.models import DepKind, RunCL, RunCLDep
from runs.tests.constraints import db_rejects
from runs.tests.factories import BASE_TIME, make_cl, make_run

pytestmark = pytest.mark.django_db


def info(change: int) -> gerrit_pb2.ChangeInfo:
    msg = gerrit_pb2.ChangeInfo(number=change, project="chromium/src", current_revision="ab12")
    msg.revisions["ab12"].number = 4
    msg.owner.email = "owner@example.com"
    return msg


def run_cl_fields(run, cl, position=0, **overrides) -> dict:
    fields = {
        "run": run,
        "cl": cl,
        "position": position,
        "trigger_time": BASE_TIME + timedelta(seconds=position),
        "trigger_mode": "FULL_RUN",
        "trigger_account_id": 77,
        "trigger_email": "voter@example.com",
        **serializers.change_snapshot_columns(
            info(cl.change), patchset=4, min_equivalent_patchset=2, files=["a.cc", "b/c.h"]
        ),
    }
    fields.update(overrides)
    return fields


def served(row: RunCL) -> migration_pb.RunCL:
    row.refresh_from_db()
    return migration_pb.RunCL.FromString(bytes(row.served_message))


def expected(row: RunCL) -> migration_pb.RunCL:
    """The row's message rebuilt from its columns and its stored deps."""
    return serializers.run_cl_message(row, list(row.deps.order_by("position")))


def test_run_cl_rows_encode_the_message_they_validated_with_its_deps():
    run, first, second = make_run(mode="FULL_RUN"), make_cl(), make_cl()
    rows = []
    for position, (cl, deps) in enumerate([(first, []), (second, [first])]):
        fields = run_cl_fields(run, cl, position)
        message = serializers.run_cl_message(RunCL(**fields), deps=[])
        message.deps.extend(migration_pb.RunCL.Dep(id=d.id, hard=True) for d in deps)
        row, dep_rows = serializers.run_cl_rows(
            run.id, position, message, cl, [first.id, second.id]
        )
        row.save()
        RunCLDep.objects.bulk_create(dep_rows)
        rows.append((row, message))

    for row, message in rows:
        assert served(row) == expected(row) == message
    second_served = served(rows[1][0])
    assert [(d.id, d.hard) for d in second_served.deps] == [(first.id, True)]
    assert second_served.gc.mode == bq_pb.FULL_RUN and second_served.trigger.account_id == 77
    assert list(second_served.files) == ["a.cc", "b/c.h"]
    assert second_served.info.number == second.change


def test_the_database_refuses_a_run_cl_without_a_served_message():
    run = make_run()
    with db_rejects("runcl_served_message_set"):
        RunCL.objects.create(**run_cl_fields(run, make_cl()))
    row = serializers.set_served_message(RunCL(**run_cl_fields(run, make_cl())))
    row.save()
    with db_rejects("runcl_served_message_set"):
        RunCL.objects.filter(pk=row.pk).update(served_message=b"")


def test_imported_attempts_get_the_message_of_what_cqdaemon_reported(tmp_path):
    attempt = {
        "key": "abcdef0123456789",
        "luci_project": "chromium",
        "start_time": "2026-01-05T12:00:05Z",
        "status": "STARTED",
        "gerrit_changes": [
            {
                "host": "chromium-review.googlesource.com",
                "project": "chromium/src",
                "change": 4242,
                "patchset": 3,
                "earliest_equivalent_patchset": 2,
                "trigger_time": "2026-01-05T12:00:00Z",
                "mode": "DRY_RUN",
            }
        ],
    }
    path = tmp_path / "attempts.jsonl"
    path.write_text(json.dumps(attempt) + "\n")
    assert run_command("import_attempts", path).status == 0

    row = RunCL.objects.get()
    message = served(row)
    assert message == expected(row)
    assert (message.gc.change, message.gc.patchset, message.gc.project) == (4242, 3, "chromium/src")


@pytest.mark.django_db(transaction=True)
def test_the_migration_encodes_the_run_cls_written_before_it():
    executor = MigrationExecutor(connection)
    before, after = [("runs", "0004_backfill")], [("runs", "0005_run_cl_served_message")]
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Run, CL, OldRunCL = (apps.get_model("runs", name) for name in ("Run", "CL", "RunCL"))
    key = "00000000000000aa"
    old_run = Run.objects.create(  # the model as 0004 had it (later ones add columns)
        id=str(RunID.new("chromium", BASE_TIME, key)),
        project="chromium",
        cqd_attempt_key=key,
        status=2,
        mode="DRY_RUN",
        create_time=BASE_TIME,
        start_time=BASE_TIME,
    )
    OldRunCLDep = apps.get_model("runs", "RunCLDep")
    rows, cls = [], []
    for position in range(3):
        cls.append(
            CL.objects.create(
                host="chromium-review.googlesource.com",
                change=5000 + position,
                patchset=4,
                min_equivalent_patchset=2,
                info=b"",
            )
        )
        row = OldRunCL.objects.create(**run_cl_fields(old_run, cls[-1], position))
        for i, dep in enumerate(cls[:-1]):
            OldRunCLDep.objects.create(run_cl=row, depends_on=dep, kind=1 + i % 2, position=i)
        rows.append(row.pk)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    try:
        for position, pk in enumerate(rows):
            row = RunCL.objects.get(pk=pk)
            assert served(row) == expected(row)
            assert len(served(row).deps) == position
    finally:
        # The later tests need every later migration back.
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_fetch_active_runs_answer_is_the_encoding_of_the_whole_message():
    snapshot = serializers.change_snapshot_columns(
        info(990001), patchset=4, min_equivalent_patchset=2, files=["dep.txt"]
    )
    outside = make_cl(change=990001, **snapshot)
    outside_message = migration_pb.RunCL(
        id=outside.id,
        gc=bq_pb.GerritChange(
            host=outside.host,
            project="chromium/src",
            change=990001,
            patchset=4,
            earliest_equivalent_patchset=2,
        ),
        info=info(990001),
        files=["dep.txt"],
    )
    expected_runs = []
    for _ in range(2):
        run = make_run()
        cls = [make_cl(), make_cl()]
        messages = []
        for position, cl in enumerate(cls):
            row = RunCL(**run_cl_fields(run, cl, position))
            deps = [RunCLDep(run_cl=row, depends_on=outside, kind=DepKind.SOFT, position=0)]
            if position:
                deps.append(RunCLDep(run_cl=row, depends_on=cls[0], kind=DepKind.HARD, position=1))
            serializers.set_served_message(row, deps).save()
            RunCLDep.objects.bulk_create(deps)
            messages.append(serializers.run_cl_message(row, deps))
        expected_runs.append(
            migration_pb.ActiveRun(id=run.id, cls=messages, fyi_deps=[outside_message])
        )
    expected_runs.sort(key=lambda r: r.id)
    with CaptureQueriesContext(connection) as captured:
        runs = queries.runs_for_cqdaemon("chromium")
    # Running runs with their verdict flags (and the project's verifier), run CLs, deps, outside
    # CLs.
    assert len(captured) == 4
    assert sum('"served_message"' in query["sql"] for query in captured) == 1

    answer = serializers.active_runs_response(
        runs.run_ids, runs.cls, runs.fyi_deps, runs.outside_cls
    )

    # Both runs depend on the outside CL, whose ChangeInfo holds a map (revisions).
    expected = migration_pb.FetchActiveRunsResponse(active_runs=expected_runs)
    assert answer == expected.SerializeToString(deterministic=True)
    assert expected.active_runs[0].fyi_deps[0].info.revisions["ab12"].number == 4
