"""FetchActiveRuns: the runs CQDaemon should work on, each CL served from the run's snapshot.

Behaviour of upstream's 2021-06-22 "F" server (shared/reference/migration_behaviour.md §2.6):
RUNNING runs of the project without a verdict or a delayed cancel, newest first; each CL as
frozen when the run started, with its trigger and deps; deps outside the run as `fyi_deps`,
from the current CL. Through a live cvsite, with binary and JSON bodies.
"""

from datetime import timedelta

from django.utils import timezone

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.gerrit import gerrit_pb2
from cvproto.migration import migration_pb2 as migration_pb
from cvproto.times import to_timestamp
from migration_api.tests.rpc_support import (
    HOST,
    T0,
    _numbers,
    add_cl,
    add_run_cl,
    assert_calls,
    change_info,
    live,
    make_run_with_cls,
    mark_verified,
    rpc_error,
)
from prpc.codes import Code
from runs.models import RunEvent, RunStatus
from runs.tests.factories import make_run


@live
def test_fetch_active_runs_returns_running_unverified_runs_of_the_project_newest_first(api):
    older, _ = make_run_with_cls()
    newer, _ = make_run_with_cls(mode="FULL_RUN")
    verified, _ = make_run_with_cls()
    mark_verified(verified)
    make_run_with_cls(delay_cancel_until=timezone.now() + timedelta(minutes=3))
    for status in (
        RunStatus.PENDING,
        RunStatus.WAITING_FOR_SUBMISSION,
        RunStatus.SUBMITTING,
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
        RunStatus.CANCELLED,
    ):
        make_run_with_cls(status=status)
    make_run_with_cls("v8")
    assert newer.id < older.id

    response = api.FetchActiveRuns(migration_pb.FetchActiveRunsRequest(luci_project="chromium"))

    assert [r.id for r in response.active_runs] == [newer.id, older.id]
    assert [len(r.cls) for r in response.active_runs] == [2, 2]
    assert [r.cls[0].gc.mode for r in response.active_runs] == [bq_pb.FULL_RUN, bq_pb.DRY_RUN]
    assert RunEvent.objects.count() == 0
    assert_calls(("FetchActiveRuns", "OK"))


@live
def test_fetch_active_runs_serves_each_cl_from_the_run_snapshot_exactly(api):
    run = make_run(mode="QUICK_DRY_RUN")
    trigger = run.create_time - timedelta(seconds=30, microseconds=7)
    votes = [(42, 1)]
    message = gerrit_pb2.ChangeMessageInfo(
        id="m1",
        author=gerrit_pb2.AccountInfo(account_id=42),
        real_author=gerrit_pb2.AccountInfo(account_id=42),
        date=to_timestamp(T0),
        message="Patch Set 2: Commit-Queue+1",
    )
    infos = {}
    cls = []
    for number in (next(_numbers), next(_numbers), next(_numbers)):
        infos[number] = change_info(number, patchset=2, messages=[message], cq_votes=votes)
        # The CL's current snapshot moved on since the run started: it must not be served.
        cls.append(add_cl(number, patchset=3, min_equivalent=3, files=["new.txt"]))
    a, b, c = cls
    # Run order differs from CLID order; a depends on b (hard) and c (soft).
    add_run_cl(run, b, 0, info=infos[b.change], patchset=2, files=["b.txt"], trigger_time=trigger)
    add_run_cl(
        run,
        a,
        1,
        info=infos[a.change],
        patchset=2,
        min_equivalent=1,
        files=["x/a.txt", "y.txt"],
        trigger_time=trigger,
        deps=[(b, True), (c, False)],
    )
    add_run_cl(
        run, c, 2, info=infos[c.change], patchset=2, files=[], trigger_time=trigger, email=""
    )

    response = api.FetchActiveRuns(migration_pb.FetchActiveRunsRequest(luci_project="chromium"))

    def expected(cl, *, min_equivalent=1, files, email="voter@example.com", deps=()):
        return migration_pb.RunCL(
            id=cl.id,
            gc=bq_pb.GerritChange(
                host=HOST,
                project="chromium/src",
                change=cl.change,
                patchset=2,
                earliest_equivalent_patchset=min_equivalent,
                mode=bq_pb.QUICK_DRY_RUN,
            ),
            info=infos[cl.change],
            files=files,
            trigger=migration_pb.RunCL.Trigger(
                time=to_timestamp(trigger), account_id=42, email=email
            ),
            deps=[migration_pb.RunCL.Dep(id=d.id, hard=hard) for d, hard in deps],
        )

    assert response == migration_pb.FetchActiveRunsResponse(
        active_runs=[
            migration_pb.ActiveRun(
                id=run.id,
                cls=[
                    expected(b, min_equivalent=1, files=["b.txt"]),
                    expected(a, files=["x/a.txt", "y.txt"], deps=[(b, True), (c, False)]),
                    expected(c, files=[], email=""),
                ],
            )
        ]
    )
    served = response.active_runs[0].cls[1]
    assert not served.gc.HasField("trigger_time")
    assert served.gc.submit_status == bq_pb.GerritChange.SUBMIT_STATUS_UNSPECIFIED
    assert served.trigger.time.nanos % 1000 == 0 and served.trigger.time.nanos > 0


@live
def test_fetch_active_runs_lists_deps_outside_the_run_as_fyi_deps_from_the_current_cl(api):
    run = make_run()
    outside_info = change_info(900001, patchset=4, project="chromium/deps")
    outside = add_cl(900001, patchset=4, min_equivalent=2, files=["d.txt"], info=outside_info)
    other_host = add_cl(900001, host="other-review.example.com", patchset=1)
    a, b = add_cl(), add_cl()
    add_run_cl(run, a, 0, deps=[(b, True), (outside, True), (other_host, False)])
    add_run_cl(run, b, 1, deps=[(outside, False)])  # the same dep once only

    [active] = api.FetchActiveRuns(
        migration_pb.FetchActiveRunsRequest(luci_project="chromium")
    ).active_runs

    assert [cl.id for cl in active.cls] == [a.id, b.id]
    assert sorted(active.fyi_deps, key=lambda cl: cl.id) == [
        migration_pb.RunCL(
            id=outside.id,
            gc=bq_pb.GerritChange(
                host=HOST,
                project="chromium/deps",
                change=900001,
                patchset=4,
                earliest_equivalent_patchset=2,
            ),
            info=outside_info,
            files=["d.txt"],
        ),
        migration_pb.RunCL(
            id=other_host.id,
            gc=bq_pb.GerritChange(
                host="other-review.example.com",
                project="chromium/src",
                change=900001,
                patchset=1,
                earliest_equivalent_patchset=1,
            ),
            info=change_info(900001, patchset=1),
            files=["a.txt"],
        ),
    ]
    for fyi in active.fyi_deps:
        assert not fyi.HasField("trigger") and not fyi.deps and fyi.gc.mode == 0
    # Every dep is among cls or fyi_deps, as CQDaemon checks.
    known = {cl.id for cl in active.cls} | {cl.id for cl in active.fyi_deps}
    assert {d.id for cl in active.cls for d in cl.deps} <= known


@live
def test_fetch_active_runs_of_a_project_without_runs_is_empty(api):
    make_run_with_cls("v8")
    response = api.FetchActiveRuns(migration_pb.FetchActiveRunsRequest(luci_project="chromium"))
    assert response == migration_pb.FetchActiveRunsResponse()
    assert_calls(("FetchActiveRuns", "OK"))


@live
def test_fetch_active_runs_requires_the_project(api):
    error = rpc_error(
        Code.INVALID_ARGUMENT, api.FetchActiveRuns, migration_pb.FetchActiveRunsRequest()
    )
    assert error.message == "luci_project is required"
    assert_calls(("FetchActiveRuns", "INVALID_ARGUMENT"))
