"""`manage.py seed_scale`: consistent rows that the admin and the Migration API serve like any
other, appended without touching what is there, the same for the same seed.

Runs on the suite's database: SQLite (executemany) by default, PostgreSQL (binary COPY) with
DATABASE_URL=postgres://...; the database checks every constraint as the rows arrive.
"""

import threading
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from cvproto.migration import migration_pb2 as migration_pb
from importers import seed_scale
from importers.seed_scale import ahead_in_thread
from migration_api.models import ApiCall, ApiToken
from migration_api.tests.rpc_support import post_binary
from runs import queries, serializers
from runs.ids import RunID
from runs.models import (
    CL,
    FinishedCQDRun,
    ProjectVerifier,
    ReportedRun,
    Run,
    RunCL,
    RunCLDep,
    RunEvent,
    RunStatus,
    VerifiedCQDRun,
    Verifier,
)
from tryjobs.models import (
    ExecutionAttempt,
    ExecutionLogEntry,
    ExecutionState,
    Tryjob,
    TryjobStatus,
)
from tryjobs.serializers import load_execution_state, log_entries_from_rows

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="only PostgreSQL seeds drop and build indexes"
)
RUNS = 600


def seed(runs: int = RUNS) -> None:
    call_command(
        "seed_scale",
        f"--runs={runs}",
        "--projects=3",
        "--days=2",
        "--seed=1",
        f"--now={NOW.isoformat()}",
        "--batch-size=250",
        verbosity=0,
    )


@pytest.fixture
def seeded(db):
    seed()


def test_rows_of_every_kind_are_written(seeded):
    assert Run.objects.count() == RUNS
    assert ApiCall.objects.count() == 2 * RUNS
    for model in (CL, RunCL, RunCLDep, RunEvent, VerifiedCQDRun, FinishedCQDRun, ReportedRun):
        assert model.objects.exists(), model
    for model in (Tryjob, ExecutionState, ExecutionAttempt, ExecutionLogEntry):
        assert model.objects.exists(), model
    statuses = set(Run.objects.values_list("status", flat=True))
    assert set(RunStatus.ended()) <= statuses
    assert RunStatus.RUNNING in statuses
    modes = set(Run.objects.values_list("mode", flat=True))
    assert {"DRY_RUN", "FULL_RUN"} <= modes
    # Every run has its CLs, created within the window, its ID in the real format.
    assert not Run.objects.filter(run_cls__isnull=True).exists()
    assert not Run.objects.filter(create_time__gt=NOW).exists()
    for run in Run.objects.all()[:50]:
        run.full_clean()  # the ID parses, and names the project and attempt key
        assert RunID.parse(run.id).project == run.project
    # The CQDaemon-verified projects have verdicts, the cvsite-verified one execution states.
    cvsite = set(ProjectVerifier.objects.filter(verifier=Verifier.CVSITE).values_list("project"))
    assert cvsite == {("v8",)}
    assert not ExecutionState.objects.exclude(run__project="v8").exists()
    assert not VerifiedCQDRun.objects.filter(run__project="v8").exists()


def test_served_messages_are_what_the_rows_say(seeded):
    for run_cl in RunCL.objects.select_related("cl").prefetch_related("deps")[:200]:
        served = migration_pb.RunCL.FromString(bytes(run_cl.served_message))
        assert served == serializers.run_cl_message(run_cl)


def test_execution_states_read_back_whole(seeded):
    for state in ExecutionState.objects.all()[:20]:
        message, version = load_execution_state(state.run_id)
        assert len(message.executions) == state.executions.count() and version == state.eversion
        log = log_entries_from_rows(ExecutionLogEntry.objects.filter(run_id=state.run_id))
        assert log.entries[0].WhichOneof("kind") == "requirement_changed"
    ended = Tryjob.objects.filter(status=TryjobStatus.ENDED)
    assert ended.exists() and not ended.filter(result_status__isnull=True).exists()


def test_the_admin_shows_seeded_rows(seeded, admin_client):
    pages = [
        reverse("admin:runs_run_changelist"),
        reverse("admin:runs_run_change", args=[Run.objects.filter(project="v8").first().id]),
        reverse("admin:runs_run_change", args=[VerifiedCQDRun.objects.first().run_id]),
        reverse("admin:runs_cl_change", args=[CL.objects.first().id]),
        reverse("admin:tryjobs_tryjob_change", args=[Tryjob.objects.first().id]),
        reverse("admin:migration_api_apicall_changelist"),
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
    run = Run.objects.filter(project="v8").first()
    response = admin_client.get(reverse("admin:runs_run_change", args=[run.id]))
    assert run.id in response.content.decode()


def test_fetch_active_runs_serves_the_seeded_active_runs(seeded, client):
    project = "chromium"
    expected = queries.runs_for_cqdaemon(project).run_ids
    assert expected, "the seed leaves some runs of the project running"
    _, token = ApiToken.issue("cqdaemon-test", [project])
    request = migration_pb.FetchActiveRunsRequest(luci_project=project)
    response = migration_pb.FetchActiveRunsResponse.FromString(
        post_binary(client, token, "FetchActiveRuns", request)
    )
    assert [r.id for r in response.active_runs] == expected
    for active in response.active_runs:
        run_cls = RunCL.objects.filter(run_id=active.id).order_by("position")
        assert [cl.id for cl in active.cls] == [rc.cl_id for rc in run_cls]
    reported = set(ReportedRun.objects.filter(snapshot__project=project).values_list("run_id"))
    assert reported == {(run_id,) for run_id in expected}


def test_seeding_again_appends(seeded):
    before = set(Run.objects.values_list("id", flat=True))
    cls_before = CL.objects.count()
    seed(runs=200)
    after = set(Run.objects.values_list("id", flat=True))
    assert before < after and len(after) == RUNS + 200
    assert CL.objects.count() > cls_before


def test_the_same_seed_gives_the_same_runs(db):
    def seeded_runs() -> list[tuple]:
        with transaction.atomic():
            seed(runs=300)
            rows = list(
                Run.objects.order_by("id").values_list(
                    "id", "status", "mode", "create_time", "end_time", "owner"
                )
            )
            transaction.set_rollback(True)
        return rows

    assert seeded_runs() == seeded_runs()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--runs=-1"], "runs must be an integer of at least 0"),
        (["--runs=5", "--projects=0"], "projects must be an integer of at least 1"),
        (["--runs=5", "--now=2026-01-01T00:00:00"], "names no time zone"),
        (["--runs=5", "--now=yesterday"], "not an ISO 8601 date and time"),
    ],
)
def test_bad_options_are_named(db, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_scale", *options, verbosity=0)


def test_batches_built_ahead_hand_over_errors_and_stop_with_their_consumer():
    def failing():
        yield 1
        yield 2
        raise ValueError("broken batch")

    received = []
    with pytest.raises(ValueError, match="broken batch"):
        for item in ahead_in_thread(failing()):
            received.append(item)
    assert received == [1, 2]

    built = []

    def endless():
        while True:
            built.append(len(built))
            yield built[-1]

    ahead = ahead_in_thread(endless())
    assert [next(ahead) for _ in range(3)] == [0, 1, 2]
    ahead.close()  # joins the thread: it builds at most one item past the queue's
    assert len(built) <= 6
    assert not [t for t in threading.enumerate() if t.name == "seed_scale batches"]


def indexes() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        )
        return set(cursor.fetchall())


def foreign_keys() -> set[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f'"
        )
        return set(cursor.fetchall())


@postgres_only
def test_a_large_seed_adds_again_the_indexes_and_foreign_keys_it_dropped(db, monkeypatch):
    before = indexes(), foreign_keys()
    monkeypatch.setattr(seed_scale, "LARGE_SEED", 100)
    while_writing = []
    write = seed_scale.Seeder.write

    def spied(seeder, batch, summary):
        while_writing.append(foreign_keys())
        write(seeder, batch, summary)

    monkeypatch.setattr(seed_scale.Seeder, "write", spied)
    seed()
    assert len(while_writing[0]) < len(before[1])
    assert (indexes(), foreign_keys()) == before
    assert Run.objects.count() == RUNS


@postgres_only
def test_foreign_keys_added_again_check_the_rows_written_without_them(db, monkeypatch):
    monkeypatch.setattr(seed_scale, "LARGE_SEED", 100)
    write = seed_scale.Seeder.write

    def orphaning(seeder, batch, summary):
        batch.rows[RunEvent] = [(f"x/{i}", *row[1:]) for i, row in enumerate(batch.rows[RunEvent])]
        write(seeder, batch, summary)

    monkeypatch.setattr(seed_scale.Seeder, "write", orphaning)
    with pytest.raises(IntegrityError, match="runs_runevent"):
        seed()


@postgres_only
def test_an_interrupted_large_seed_builds_its_indexes_again(db, monkeypatch):
    before = indexes()
    keys = foreign_keys()
    monkeypatch.setattr(seed_scale, "LARGE_SEED", 100)
    while_writing = []

    def interrupted(seeder, batch, summary):
        while_writing.append(indexes())
        raise KeyboardInterrupt

    monkeypatch.setattr(seed_scale.Seeder, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        seed()
    assert len(while_writing[0]) < len(before)
    assert indexes() == before
    assert foreign_keys() == keys


@postgres_only
def test_a_seed_smaller_than_the_stored_runs_keeps_the_indexes(seeded, monkeypatch):
    monkeypatch.setattr(seed_scale, "LARGE_SEED", 100)
    kept = indexes()
    write = seed_scale.Seeder.write
    while_writing = []

    def spied(seeder, batch, summary):
        while_writing.append(indexes())
        write(seeder, batch, summary)

    monkeypatch.setattr(seed_scale.Seeder, "write", spied)
    seed(runs=200)
    assert while_writing and all(found == kept for found in while_writing)
