"""FetchRunStatus: the CQ status event of an ended run, which CQDaemon pushes on.

Behaviour of upstream's 2021-06-22 "F" server (shared/reference/migration_behaviour.md §2.4):
the attempt key is checked before the project, a run ID wins over the attempt key, an active
run is FAILED_PRECONDITION, and the event and extra follow the table by status and mode.
Through a live cvsite, with binary and JSON bodies.
"""

import pytest

from cvproto.migration import migration_pb2 as migration_pb
from migration_api.tests.rpc_support import (
    UNKNOWN_KEY,
    UNKNOWN_RUN_ID,
    assert_calls,
    live,
    rpc_error,
)
from prpc.codes import Code
from runs.models import RunEvent, RunStatus
from runs.tests.factories import make_run


@live
@pytest.mark.parametrize("by", ["cv_id", "attempt_key"])
@pytest.mark.parametrize(
    "status, mode, event, extra",
    [
        (RunStatus.SUCCEEDED, "FULL_RUN", "patch_committed", ""),
        (RunStatus.SUCCEEDED, "DRY_RUN", "patch_ready_to_commit", ""),
        (RunStatus.SUCCEEDED, "QUICK_DRY_RUN", "patch_ready_to_commit", ""),
        (RunStatus.SUCCEEDED, "NEW_PATCHSET_RUN", "patch_ready_to_commit", ""),
        (RunStatus.FAILED, "FULL_RUN", "patch_failed", ""),
        (RunStatus.FAILED, "DRY_RUN", "patch_failed", ""),
        (RunStatus.CANCELLED, "FULL_RUN", "patch_failed", "CQ bit was unchecked."),
        (RunStatus.CANCELLED, "QUICK_DRY_RUN", "patch_failed", "CQ bit was unchecked."),
    ],
)
def test_fetch_run_status_of_an_ended_run(api, by, status, mode, event, extra):
    run = make_run(mode=mode, status=status)
    request = migration_pb.FetchRunStatusRequest(
        luci_project="chromium",
        cv_id=run.id if by == "cv_id" else "",
        attempt_key=run.cqd_attempt_key,
    )

    response = api.FetchRunStatus(request)

    assert response == migration_pb.FetchRunStatusResponse(event=event, extra=extra)
    assert (response.event, response.extra) == (event, extra)
    assert RunEvent.objects.count() == 0
    assert_calls(("FetchRunStatus", "OK"))


@live
@pytest.mark.parametrize(
    "status",
    [
        RunStatus.PENDING,
        RunStatus.RUNNING,
        RunStatus.WAITING_FOR_SUBMISSION,
        RunStatus.SUBMITTING,
    ],
)
def test_fetch_run_status_of_an_active_run_is_a_failed_precondition(api, status):
    run = make_run(status=status)
    request = migration_pb.FetchRunStatusRequest(
        luci_project="chromium", attempt_key=run.cqd_attempt_key
    )
    error = rpc_error(Code.FAILED_PRECONDITION, api.FetchRunStatus, request)
    assert error.message == f"Run {run.id!r} is not final yet ({RunStatus(status).name})"
    assert_calls(("FetchRunStatus", "FAILED_PRECONDITION"))


@live
def test_fetch_run_status_of_an_unknown_run_is_not_found(api):
    run = make_run(status=RunStatus.SUCCEEDED)
    for request, message in (
        (
            migration_pb.FetchRunStatusRequest(luci_project="chromium", attempt_key=UNKNOWN_KEY),
            f"no run has attempt key {UNKNOWN_KEY!r}",
        ),
        # The ID wins over the key of an existing run.
        (
            migration_pb.FetchRunStatusRequest(
                luci_project="chromium", cv_id=UNKNOWN_RUN_ID, attempt_key=run.cqd_attempt_key
            ),
            f"Run {UNKNOWN_RUN_ID!r} does not exist",
        ),
    ):
        error = rpc_error(Code.NOT_FOUND, api.FetchRunStatus, request)
        assert error.message == message
    assert_calls(("FetchRunStatus", "NOT_FOUND"), ("FetchRunStatus", "NOT_FOUND"))


@live
@pytest.mark.parametrize(
    "request_, message",
    [
        (migration_pb.FetchRunStatusRequest(), "attempt_key is required"),
        (migration_pb.FetchRunStatusRequest(cv_id=UNKNOWN_RUN_ID), "attempt_key is required"),
        (migration_pb.FetchRunStatusRequest(luci_project="v8"), "attempt_key is required"),
        (migration_pb.FetchRunStatusRequest(attempt_key=UNKNOWN_KEY), "luci_project is required"),
    ],
)
def test_fetch_run_status_validates_the_key_then_the_project(api, request_, message):
    error = rpc_error(Code.INVALID_ARGUMENT, api.FetchRunStatus, request_)
    assert error.message == message
    assert_calls(("FetchRunStatus", "INVALID_ARGUMENT"))
