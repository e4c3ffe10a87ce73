"""ReportRuns: the attempts CQDaemon is working on, reported on each of its loops.

Upstream's 2021-06-22 "F" server ignored the call (shared/reference/migration_behaviour.md
§2.1). cvsite keeps the last report of each reported project as a snapshot, linking the runs it
knows; an empty report clears the snapshot only when the token names a single project.
Through a live cvsite, with binary and JSON bodies.
"""

from django.utils import timezone
from google.protobuf import empty_pb2

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.migration import migration_pb2 as migration_pb
from cvproto.times import to_timestamp
from migration_api.tests.rpc_support import (
    ACTOR,
    HOST,
    T0,
    UNKNOWN_KEY,
    UNKNOWN_RUN_ID,
    assert_calls,
    live,
    rpc_error,
)
from prpc.codes import Code
from runs import serializers
from runs.models import ReportedRun, ReportedRunsSnapshot, RunEvent
from runs.tests.factories import make_run


def reported(key: str, *, project: str = "", run_id: str = "", change: int = 1):
    return migration_pb.ReportedRun(
        id=run_id,
        attempt=bq_pb.Attempt(
            key=key,
            luci_project=project,
            status=bq_pb.STARTED,
            start_time=to_timestamp(T0),
            gerrit_changes=[
                bq_pb.GerritChange(host=HOST, change=change, patchset=2, mode=bq_pb.DRY_RUN)
            ],
            config_group="main",
        ),
    )


def snapshot_rows(project: str) -> list[tuple]:
    snapshot = ReportedRunsSnapshot.objects.get(project=project)
    return [
        (r.position, r.reported_id, r.run_id, serializers.reported_run_from_row(r))
        for r in snapshot.runs.order_by("position")
    ]


@live
def test_report_runs_stores_a_snapshot_per_project_and_links_known_runs(both_api):
    known = make_run("chromium")
    v8_known = make_run("v8")
    runs = [
        reported(known.cqd_attempt_key, run_id=known.id),  # project from the run ID
        reported(UNKNOWN_KEY, project="chromium", run_id=UNKNOWN_RUN_ID),
        reported("a" * 16, project="v8"),
        reported(v8_known.cqd_attempt_key, project="v8", run_id=v8_known.id),
    ]
    before = timezone.now()

    response = both_api.ReportRuns(migration_pb.ReportRunsRequest(runs=runs))

    assert response == empty_pb2.Empty()
    chromium = ReportedRunsSnapshot.objects.get(project="chromium")
    v8 = ReportedRunsSnapshot.objects.get(project="v8")
    for snapshot in (chromium, v8):
        assert snapshot.reported_by == ACTOR
        assert before <= snapshot.reported_at <= timezone.now()
    assert snapshot_rows("chromium") == [
        (0, known.id, known.id, runs[0]),
        (1, UNKNOWN_RUN_ID, None, runs[1]),
    ]
    assert snapshot_rows("v8") == [(0, "", None, runs[2]), (1, v8_known.id, v8_known.id, runs[3])]
    row = chromium.runs.get(position=1)
    assert (row.attempt_key, row.attempt_project, row.attempt_status) == (
        UNKNOWN_KEY,
        "chromium",
        bq_pb.STARTED,
    )
    assert (row.attempt_start_time, row.attempt_config_group) == (T0, "main")
    assert RunEvent.objects.count() == 0  # nothing happened to a run
    assert_calls(("ReportRuns", "OK"))


@live
def test_a_reported_id_of_another_projects_run_is_not_linked(api):
    # A chromium snapshot naming a v8 run's ID keeps the bare ID, as for an unknown run.
    v8_run = make_run("v8")
    api.ReportRuns(
        migration_pb.ReportRunsRequest(
            runs=[reported(v8_run.cqd_attempt_key, project="chromium", run_id=v8_run.id)]
        )
    )
    assert [(reported_id, linked) for _, reported_id, linked, _ in snapshot_rows("chromium")] == [
        (v8_run.id, None)
    ]


@live
def test_report_runs_replaces_the_snapshot_of_each_reported_project_only(both_api):
    both_api.ReportRuns(
        migration_pb.ReportRunsRequest(
            runs=[
                reported("a" * 16, project="chromium"),
                reported("b" * 16, project="chromium"),
                reported("c" * 16, project="v8"),
            ]
        )
    )
    v8_before = ReportedRunsSnapshot.objects.get(project="v8")
    replacement = reported("d" * 16, project="chromium", change=7)

    both_api.ReportRuns(migration_pb.ReportRunsRequest(runs=[replacement]))

    assert snapshot_rows("chromium") == [(0, "", None, replacement)]
    assert ReportedRunsSnapshot.objects.get(project="v8").reported_at == v8_before.reported_at
    assert [r[3].attempt.key for r in snapshot_rows("v8")] == ["c" * 16]
    assert ReportedRun.objects.count() == 2
    assert ReportedRunsSnapshot.objects.count() == 2


@live
def test_an_empty_report_from_a_single_project_token_clears_its_snapshot(api):
    api.ReportRuns(migration_pb.ReportRunsRequest(runs=[reported("a" * 16, project="chromium")]))
    first = ReportedRunsSnapshot.objects.get(project="chromium").reported_at

    assert api.ReportRuns(migration_pb.ReportRunsRequest()) == empty_pb2.Empty()

    snapshot = ReportedRunsSnapshot.objects.get(project="chromium")
    assert snapshot.runs.count() == 0 and ReportedRun.objects.count() == 0
    assert snapshot.reported_at > first
    assert_calls(("ReportRuns", "OK"), ("ReportRuns", "OK"))


@live
def test_an_empty_report_from_a_multi_project_token_changes_nothing(both_api):
    both_api.ReportRuns(
        migration_pb.ReportRunsRequest(runs=[reported("a" * 16, project="chromium")])
    )
    before = ReportedRunsSnapshot.objects.get(project="chromium").reported_at

    both_api.ReportRuns(migration_pb.ReportRunsRequest())

    assert ReportedRunsSnapshot.objects.get(project="chromium").reported_at == before
    assert ReportedRun.objects.count() == 1


@live
def test_report_runs_refuses_a_run_without_a_determinable_project(api):
    request = migration_pb.ReportRunsRequest(
        runs=[reported("a" * 16, project="chromium"), reported("b" * 16)]
    )
    error = rpc_error(Code.INVALID_ARGUMENT, api.ReportRuns, request)
    assert error.message.startswith("runs[1]: give attempt.luci_project")
    assert ReportedRunsSnapshot.objects.count() == ReportedRun.objects.count() == 0
    assert_calls(("ReportRuns", "INVALID_ARGUMENT"))


@live
def test_report_runs_refuses_a_run_without_an_attempt_key(api):
    request = migration_pb.ReportRunsRequest(
        runs=[migration_pb.ReportedRun(attempt=bq_pb.Attempt(luci_project="chromium"))]
    )
    error = rpc_error(Code.INVALID_ARGUMENT, api.ReportRuns, request)
    assert "runs[0].attempt.key" in error.message
    assert ReportedRunsSnapshot.objects.count() == 0
    assert_calls(("ReportRuns", "INVALID_ARGUMENT"))
