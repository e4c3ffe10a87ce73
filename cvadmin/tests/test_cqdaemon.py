"""CQDaemon's latest report beside cvsite's active runs."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cvadmin import cqdaemon
from runs.models import AttemptStatus, ReportedRun, ReportedRunsSnapshot, Run


def report(project: str, rows: list[tuple[str, int]]) -> ReportedRunsSnapshot:
    snapshot, _ = ReportedRunsSnapshot.objects.update_or_create(
        project=project, defaults={"reported_at": timezone.now(), "reported_by": "cqd"}
    )
    ReportedRun.objects.filter(snapshot=snapshot).delete()
    ReportedRun.objects.bulk_create(
        ReportedRun(snapshot=snapshot, position=i, attempt_key=key, attempt_status=status)
        for i, (key, status) in enumerate(rows)
    )
    return snapshot


def test_runs_on_one_side_only_and_disagreements_are_named(operator_client):
    active = list(Run.objects.active().filter(project="chromium").order_by("id"))
    ended = Run.objects.ended().filter(project="chromium").first()
    snapshot = report(
        "chromium",
        [
            (active[0].cqd_attempt_key, AttemptStatus.STARTED),
            ("00000000deadbeef", AttemptStatus.STARTED),
            (ended.cqd_attempt_key, AttemptStatus.STARTED),
        ],
    )
    result = cqdaemon.compare(snapshot)
    assert result.agreeing == 1
    assert [r.attempt_key for r in result.only_cqdaemon] == ["00000000deadbeef"]
    assert result.only_cvsite == active[1:]
    assert [d.run for d in result.disagreements] == [ended]
    page = operator_client.get(
        reverse("admin:runs_reportedrunssnapshot_change", args=[snapshot.pk])
    ).content.decode()
    assert "00000000deadbeef" in page and "CQDaemon says Started" in page


def test_the_comparison_takes_constant_queries(db):
    snapshot = report("chromium", [])
    counts = []
    for size in (1, 50):
        report("chromium", [(f"{i:016x}", AttemptStatus.STARTED) for i in range(size)])
        with CaptureQueriesContext(connection) as queries:
            cqdaemon.compare(snapshot)
        counts.append(len(queries))
    assert counts[0] == counts[1]
