"""FetchExcludedCLs: the CLs of verified active runs, which CQDaemon must leave alone.

Behaviour of upstream's 2021-06-22 "F" server (shared/reference/migration_behaviour.md §2.7):
the CLs of the project's RUNNING, WAITING_FOR_SUBMISSION and SUBMITTING runs that have a
verdict, once each in CLID order, with only host and change set. Through a live cvsite, with
binary and JSON bodies.
"""

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.migration import migration_pb2 as migration_pb
from migration_api.tests.rpc_support import (
    HOST,
    add_cl,
    add_run_cl,
    assert_calls,
    live,
    make_run_with_cls,
    mark_verified,
    rpc_error,
)
from prpc.codes import Code
from runs.models import RunStatus
from runs.tests.factories import make_run


@live
def test_fetch_excluded_cls_lists_cls_of_active_verified_runs_once_by_clid(api):
    shared = add_cl()
    cls = [add_cl() for _ in range(4)]
    expected_cls = []
    for status, cl in zip(
        (RunStatus.RUNNING, RunStatus.WAITING_FOR_SUBMISSION, RunStatus.SUBMITTING),
        cls,
        strict=False,
    ):
        run = make_run(status=status, mode="FULL_RUN")
        # Run order puts the shared (lowest CLID) CL last.
        add_run_cl(run, cl, 0)
        add_run_cl(run, shared, 1)
        mark_verified(run)
        expected_cls.append(cl)
    not_shown = [add_cl() for _ in range(5)]
    unverified = make_run()  # RUNNING without a verdict
    add_run_cl(unverified, not_shown[0], 0)
    for status, cl in zip(
        (RunStatus.PENDING, RunStatus.SUCCEEDED, RunStatus.FAILED), not_shown[1:], strict=False
    ):
        run = make_run(status=status)
        add_run_cl(run, cl, 0)
        mark_verified(run)
    v8_run = make_run("v8")
    add_run_cl(v8_run, not_shown[4], 0)
    mark_verified(v8_run)

    response = api.FetchExcludedCLs(migration_pb.FetchExcludedCLsRequest(luci_project="chromium"))

    assert response == migration_pb.FetchExcludedCLsResponse(
        cls=[
            bq_pb.GerritChange(host=HOST, change=cl.change)
            for cl in sorted([shared, *expected_cls], key=lambda cl: cl.id)
        ]
    )
    for change in response.cls:
        assert change.ListFields() == [
            (bq_pb.GerritChange.DESCRIPTOR.fields_by_name["host"], HOST),
            (bq_pb.GerritChange.DESCRIPTOR.fields_by_name["change"], change.change),
        ]
    assert_calls(("FetchExcludedCLs", "OK"))


@live
def test_fetch_excluded_cls_of_a_project_without_verified_runs_is_empty(api):
    make_run_with_cls()
    response = api.FetchExcludedCLs(migration_pb.FetchExcludedCLsRequest(luci_project="chromium"))
    assert response == migration_pb.FetchExcludedCLsResponse()


@live
def test_fetch_excluded_cls_requires_the_project(api):
    error = rpc_error(
        Code.INVALID_ARGUMENT, api.FetchExcludedCLs, migration_pb.FetchExcludedCLsRequest()
    )
    assert error.message == "luci_project is required"
    assert_calls(("FetchExcludedCLs", "INVALID_ARGUMENT"))
