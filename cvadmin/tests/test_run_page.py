"""The run page says what happened and why, in a constant number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cvadmin import gantt
from cvadmin.tests.demo_rows import cl_with_two_runs
from runs.models import CL, GerritPost, Run, RunCL, RunEvent, RunStatus
from tryjobs.models import ExecutionAttempt, ExecutionLogEntry, Tryjob


def run_page(client, run_id: str):
    return client.get(reverse("admin:runs_run_change", args=[run_id]))


def failed_cvsite_run() -> Run:
    return Run.objects.filter(status=RunStatus.FAILED, execution_state__isnull=False).first()


def test_a_failed_run_says_why(operator_client):
    run = failed_cvsite_run()
    page = run_page(operator_client, run.id).content.decode()
    assert "Why it ended failed" in page
    assert run.end_reason.splitlines()[0] in page
    assert 'class="chip outcome-' in page
    assert "https://cr-buildbucket.appspot.com/build/" in page
    assert "<svg" in page and "gantt-bar" in page
    assert "launched " in page  # the execution log, in words
    assert "Pending → Running" in page  # the run's events
    assert "cv.internal.tryjob.ExecutionState as JSON" in page


def test_every_demo_run_page_renders(operator_client):
    for run_id in Run.objects.values_list("id", flat=True):
        assert run_page(operator_client, run_id).status_code == 200, run_id


def test_an_unknown_run_is_a_404(operator_client):
    assert run_page(operator_client, "chromium/none-1-0000000000000000").status_code == 404


def test_the_cl_table_links_the_previous_and_next_run_of_a_cl(operator_client):
    _, newer, older = cl_with_two_runs()
    page = run_page(operator_client, older).content.decode()
    assert reverse("admin:runs_run_change", args=[newer]) in page


def _multiply_rows(run: Run, times: int) -> None:
    """Ten times the CLs, tryjobs, attempts, log entries, events and posts of the run."""
    run_cl = RunCL.objects.filter(run=run).select_related("cl").first()
    for i in range(1, times):
        cl = run_cl.cl
        cl.pk, cl.change = None, cl.change + 100000 * i
        cl.save()
        copy = RunCL.objects.get(pk=run_cl.pk)
        copy.pk, copy.cl, copy.position = None, cl, run_cl.position + i * 10
        copy.save()
        GerritPost.objects.create(
            run=run,
            cl=cl,
            purpose="cqd_message",
            message_digest=str(i),
            message=f"m{i}",
            revision="r",
            created_at=run.create_time,
        )
    for row in list(ExecutionLogEntry.objects.filter(run=run)) * (times - 1):
        row.pk = None
        row.save()
    for row in list(RunEvent.objects.filter(run=run)) * (times - 1):
        row.pk = None
        row.save()
    attempts = list(ExecutionAttempt.objects.filter(execution__state__run=run))
    for i in range(1, times):
        for attempt in attempts:
            attempt.pk, attempt.position = None, attempt.position + 100 * i
            attempt.save()
    tryjob = Tryjob.objects.filter(launched_by=run).first()
    for i in range(1, times):
        tryjob.pk, tryjob.external_id = (
            None,
            f"buildbucket/cr-buildbucket.appspot.com/{9e15 + i:.0f}",
        )
        tryjob.launched_by = None
        tryjob.save()
        tryjob.reused_by.add(run)


def test_the_run_page_takes_constant_queries(operator_client):
    run = failed_cvsite_run()
    counts = []
    for times in (1, 10):
        if times > 1:
            _multiply_rows(run, times)
        with CaptureQueriesContext(connection) as queries:
            assert run_page(operator_client, run.id).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert CL.objects.filter(run_cls__run=run).count() >= 10


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "+0s"), (59, "+59s"), (252, "+4m12s"), (3723, "+1h02m03s"), (-20, "-20s")],
)
def test_offsets_are_written_short(seconds, text):
    assert gantt.short_duration(timedelta(seconds=seconds)) == text


def test_a_cl_page_lists_its_runs_with_a_gerrit_link(operator_client):
    run_cl = RunCL.objects.select_related("cl").first()
    page = operator_client.get(reverse("admin:runs_cl_change", args=[run_cl.cl_id]))
    text = page.content.decode()
    assert run_cl.cl.url in text
    assert reverse("admin:runs_run_change", args=[run_cl.run_id]) in text


def test_a_tryjob_page_links_its_build_and_runs_and_sanitises_its_summary(operator_client):
    tryjob = Tryjob.objects.exclude(launched_by=None).exclude(build_id=None).first()
    tryjob.build_summary_markdown = "**red**<script>alert(1)</script>[x](javascript:alert(2))"
    tryjob.save()
    text = operator_client.get(reverse("admin:tryjobs_tryjob_change", args=[tryjob.pk]))
    text = text.content.decode()
    assert "<strong>red</strong>" in text
    assert "<script>alert" not in text and 'href="javascript:' not in text
    assert f"https://cr-buildbucket.appspot.com/build/{tryjob.build_id}" in text
    assert reverse("admin:runs_run_change", args=[tryjob.launched_by_id]) in text


def test_exact_search_fields_match_exactly_and_refuse_what_no_column_holds(operator_client):
    run_cl = RunCL.objects.first()
    url = reverse("admin:runs_runcl_changelist")
    assert run_cl.run_id in operator_client.get(url, {"q": run_cl.run_id}).content.decode()
    upper = operator_client.get(url, {"q": run_cl.run_id.upper()}).content.decode()
    assert reverse("admin:runs_runcl_change", args=[run_cl.pk]) not in upper
    for text in ("x\x00y", "9" * 30):
        assert (
            operator_client.get(reverse("admin:tryjobs_tryjob_changelist"), {"q": text}).status_code
            == 200
        )


def test_cl_and_tryjob_pages_take_constant_queries(operator_client):
    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert operator_client.get(url).status_code == 200
        return len(captured)

    many_runs, _, _ = cl_with_two_runs()
    one_run = RunCL.objects.exclude(cl_id=many_runs).values_list("cl_id", flat=True).first()
    assert queries(reverse("admin:runs_cl_change", args=[one_run])) == queries(
        reverse("admin:runs_cl_change", args=[many_runs])
    )
    reused = Tryjob.objects.filter(reused_by__isnull=False).first() or Tryjob.objects.last()
    lonely = Tryjob.objects.filter(reused_by__isnull=True, launched_by=None).first()
    assert queries(reverse("admin:tryjobs_tryjob_change", args=[reused.pk])) == queries(
        reverse("admin:tryjobs_tryjob_change", args=[(lonely or reused).pk])
    )


def test_the_retry_quota_used_is_shown_against_the_quota_allowed(operator_client):
    run = Run.objects.filter(execution_state__retry_single_quota__isnull=False).first()
    state = run.execution_state
    used = state.executions.order_by("-used_quota").first().used_quota
    page = run_page(operator_client, run.id).content.decode()
    assert f"retry quota used: {used} of {state.retry_single_quota}" in page
