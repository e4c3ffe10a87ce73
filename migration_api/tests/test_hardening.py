"""What a hostile or broken client cannot do to the Migration API (issue 12's findings).

Each test names the finding it covers. The slow-body finding is tested against the
production serving recipe in cvsite/tests/test_serving.py.
"""

import pytest
from django.db import OperationalError

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.migration import migration_pb2 as migration_pb
from migration_api import service
from migration_api.models import ApiCall
from prpc.client import RpcError
from prpc.codes import Code
from runs.models import FinishedCQDRun, ReportedRun, RunStatus, VerifiedCQDRun
from runs.tests.factories import make_run

live = pytest.mark.django_db(transaction=True)

YEAR_10000 = 253_402_300_800  # 10000-01-01T00:00:00Z, one second past a Timestamp's range


def attempt(run, **fields) -> bq_pb.Attempt:
    message = bq_pb.Attempt(key=run.cqd_attempt_key, luci_project=run.project, **fields)
    message.gerrit_changes.add(host="chromium-review.googlesource.com", change=1, patchset=1)
    return message


def refused(code: Code, call, *args) -> RpcError:
    with pytest.raises(RpcError) as raised:
        call(*args)
    assert raised.value.code == code, raised.value
    return raised.value


@live
def test_finding_5_a_timestamp_past_year_9999_is_invalid_argument_in_every_rpc(make_api):
    api = make_api()
    run = make_run()
    late = attempt(run, status=bq_pb.SUCCESS)
    late.end_time.seconds = YEAR_10000
    requests = {
        "ReportRuns": migration_pb.ReportRunsRequest(
            runs=[migration_pb.ReportedRun(id=run.id, attempt=late)]
        ),
        "ReportFinishedRun": migration_pb.ReportFinishedRunRequest(
            run=migration_pb.ReportedRun(id=run.id, attempt=late)
        ),
        "ReportVerifiedRun": migration_pb.ReportVerifiedRunRequest(
            run=migration_pb.ReportedRun(id=run.id, attempt=late),
            action=migration_pb.ReportVerifiedRunRequest.ACTION_FAIL,
            final_message="no",
        ),
    }
    for method, request in requests.items():
        error = refused(Code.INVALID_ARGUMENT, getattr(api, method), request)
        assert "attempt.end_time: seconds 253402300800 is outside" in error.message, method
        assert error.http_status == 400
    assert not ReportedRun.objects.exists()
    assert not FinishedCQDRun.objects.exists()
    assert not VerifiedCQDRun.objects.exists()
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


@live
def test_finding_7_a_body_over_its_methods_limit_is_refused_naming_the_limit(make_api, settings):
    settings.MIGRATION_MAX_REQUEST_BYTES = 2_000
    settings.MIGRATION_MAX_REPORT_RUNS_BYTES = 50_000
    api = make_api()
    run = make_run()
    verdict = migration_pb.ReportVerifiedRunRequest(
        run=migration_pb.ReportedRun(id=run.id, attempt=attempt(run)),
        action=migration_pb.ReportVerifiedRunRequest.ACTION_FAIL,
        final_message="x" * 3_000,
    )
    error = refused(Code.INVALID_ARGUMENT, api.ReportVerifiedRun, verdict)
    assert "exceeds the limit of 2000 bytes" in error.message
    assert not VerifiedCQDRun.objects.exists()
    # ReportRuns lists a project's every active run: it has a limit of its own.
    many = migration_pb.ReportRunsRequest(
        runs=[migration_pb.ReportedRun(id=run.id, attempt=attempt(run)) for _ in range(40)]
    )
    assert 2_000 < many.ByteSize() < 50_000
    api.ReportRuns(many)
    too_many = migration_pb.ReportRunsRequest(runs=list(many.runs) * 20)
    error = refused(Code.INVALID_ARGUMENT, api.ReportRuns, too_many)
    assert "exceeds the limit of 50000 bytes" in error.message


@live
def test_finding_6_a_database_error_is_unavailable_and_logged_in_one_line(
    make_api, monkeypatch, caplog
):
    api = make_api()
    run = make_run(status=RunStatus.SUCCEEDED)

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(service.actions, "run_status_event", database_gone)
    request = migration_pb.FetchRunStatusRequest(
        luci_project=run.project, attempt_key=run.cqd_attempt_key
    )
    with caplog.at_level("WARNING"):
        error = refused(Code.UNAVAILABLE, api.FetchRunStatus, request)
    assert error.http_status == 503
    assert not [r for r in caplog.records if r.exc_info]
    assert ApiCall.objects.get().code == "UNAVAILABLE"


@live
def test_finding_7_a_final_message_has_a_limit_named_in_the_error(make_api, settings):
    settings.MIGRATION_MAX_REQUEST_BYTES = 1024 * 1024
    api = make_api()
    run = make_run()
    verdict = migration_pb.ReportVerifiedRunRequest(
        run=migration_pb.ReportedRun(id=run.id, attempt=attempt(run)),
        action=migration_pb.ReportVerifiedRunRequest.ACTION_FAIL,
        final_message="x" * (VerifiedCQDRun.MAX_FINAL_MESSAGE_LENGTH + 1),
    )
    error = refused(Code.INVALID_ARGUMENT, api.ReportVerifiedRun, verdict)
    assert error.message == "final_message: is longer than 65536 characters"
    assert not VerifiedCQDRun.objects.exists()
