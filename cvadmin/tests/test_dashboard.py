"""The dashboards: every number equals what the rows say, the rollups the actions keep equal a
rebuild, and the page costs the same queries whatever the data."""

import math
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cvadmin import dashboards
from cvadmin.operators import OPERATORS
from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.migration import migration_pb2 as migration_pb
from runs import actions, rollups
from runs.ids import RunID
from runs.models import (
    CL,
    CQDDisagreement,
    FinishedCQDRun,
    GerritPost,
    Run,
    RunCL,
    RunStatus,
    VerifiedCQDRun,
)
from tryjobs import rollups as tryjob_rollups
from tryjobs.models import (
    ExecutionAttempt,
    ExecutionLogEntry,
    ExecutionState,
    ExecutionStatus,
    LogKind,
    Tryjob,
    TryjobMetric,
    TryjobStatus,
)
from tryjobs.serializers import log_entry_from_row
from tryjobs.stats import builder_stats
from tryjobs.tests.rollup_support import rollup_snapshot

URL = reverse("admin:runs_run_dashboard")


def test_the_rollups_the_actions_keep_equal_a_rebuild(demo, db):
    kept = rollup_snapshot()
    counted = {metric for _, _, _, metric, _, _ in kept[1]}
    assert kept[0], "the demo's ended runs were not counted"
    assert {
        TryjobMetric.BUILDER_ENDED,
        TryjobMetric.BUILDER_FAILED,
        TryjobMetric.BUILDER_RUNS,
        TryjobMetric.EXECUTIONS_ENDED,
        TryjobMetric.ATTEMPTS,
        TryjobMetric.QUOTA_SPENT,
        TryjobMetric.LAUNCH_LATENCY,
        TryjobMetric.LAUNCH_FAILURES,
    } <= counted, counted
    call_command("rebuild_rollups", verbosity=0)
    assert rollup_snapshot() == kept


def test_a_rebuild_since_a_day_keeps_the_older_rows(demo, db):
    kept = rollup_snapshot()
    since = timezone.now() - timedelta(days=1)
    call_command("rebuild_rollups", "--since", f"{since:%Y-%m-%d}", verbosity=0)
    assert rollup_snapshot() == kept


def test_rebuild_rollups_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="not a date like"):
        call_command("rebuild_rollups", "--since", "yesterday")


def exact_percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(q * len(ordered)) - 1]


@pytest.mark.parametrize("project", [None, "chromium", "webrtc", "pdfium", "angle"])
def test_every_number_equals_the_rows(demo, db, project):
    window = rollups.window("30d", timezone.now())
    board = dashboards.load(project, window)
    runs = Run.objects.ended().filter(end_time__gte=window.since)
    if project:
        runs = runs.filter(project=project)

    by_day = Counter((f"{r.end_time:%Y-%m-%d}", r.status) for r in runs)
    statuses = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED]
    for day, column, total in board.period_rows:
        assert column == [by_day[(day, s)] for s in statuses]
        assert total == sum(column)
    assert sum(total for *_, total in board.period_rows) == runs.count()

    durations = defaultdict(list)
    for r in runs:
        durations[r.mode].append(rollups.run_duration(r.create_time, r.start_time, r.end_time))
    assert {q.label: q.count for q in board.durations} == {m: len(v) for m, v in durations.items()}
    for quantiles in board.durations:
        values = durations[quantiles.label]
        histogram = Counter(rollups.duration_bucket(v) for v in values)
        for (_, q), words in zip(dashboards.QUANTILES, quantiles.values, strict=True):
            estimate = rollups.percentile(histogram, q)
            exact = exact_percentile(values, q)
            assert words == dashboards.seconds_in_words(estimate)
            if exact >= 1:
                assert abs(estimate - exact) <= 0.095 * exact

    active = Run.objects.active().in_projects(None if project is None else [project])
    assert sum(n for _, n in board.active) == active.count()

    for line in board.failing:
        stats = builder_stats(*line.builder.split("/"), window.since, window.until, 0)
        assert (line.numerator, line.denominator) == (
            stats.ended - stats.results["SUCCEEDED"],
            stats.ended,
        )
    for line in board.flaky:
        stats = builder_stats(*line.builder.split("/"), window.since, window.until, 0)
        assert (line.numerator, line.denominator) == (stats.flaky_runs, stats.runs)
    ended_tryjobs = Tryjob.objects.filter(status=TryjobStatus.ENDED, create_time__gte=window.since)
    if project:
        ended_tryjobs = ended_tryjobs.filter(builder_project=project)
    failed_builders = {
        t.builder for t in ended_tryjobs if t.result_status in tryjob_rollups.FAILED_RESULTS
    }
    assert {line.builder for line in board.failing} <= failed_builders
    assert len(board.failing) == min(dashboards.TOP, len(failed_builders))

    states = ExecutionState.objects.exclude(status=ExecutionStatus.RUNNING).filter(
        end_time__gte=window.since
    )
    if project:
        states = states.filter(run__project=project)
    attempts = ExecutionAttempt.objects.filter(execution__state__in=states)
    assert board.executions["runs whose tryjob execution ended"] == states.count()
    assert board.executions["attempts of those executions"] == attempts.count()
    reused = attempts.filter(reused=True).count()
    assert board.executions["attempts that reused a tryjob"] == reused
    if attempts.exists():
        assert board.reuse_rate == f"{100 * reused / attempts.count():.1f} %"
    spent = [sum(e.used_quota for e in s.executions.all()) for s in states]
    assert board.executions["retry quota those executions used"] == sum(spent)
    assert board.executions["executions that used retry quota"] == sum(1 for q in spent if q)

    latencies = []
    for state in states:
        launched = Tryjob.objects.filter(launched_by_id=state.run_id).order_by("create_time")
        triggers = RunCL.objects.filter(run_id=state.run_id).order_by("trigger_time")
        if launched.exists():
            latencies.append((launched[0].create_time - triggers[0].trigger_time).total_seconds())
    assert board.latency.count == len(latencies)

    failures = Counter()
    entries = ExecutionLogEntry.objects.filter(
        kind=LogKind.TRYJOBS_LAUNCH_FAILED, time__gte=window.since
    )
    if project:
        entries = entries.filter(run__project=project)
    for row in entries:
        for failed in log_entry_from_row(row).tryjobs_launch_failed.tryjobs:
            failures[tryjob_rollups.reason_label(failed.reason)] += 1
    assert dict(board.launch_failures) == dict(
        sorted(failures.items(), key=lambda i: (-i[1], i[0]))[: dashboards.TOP]
    )

    posts = (
        GerritPost.objects.all()
        if project is None
        else GerritPost.objects.filter(run__project=project)
    )
    waiting = posts.filter(posted_at__isnull=True)
    assert board.backlog.waiting == waiting.count()
    assert board.backlog.failing == waiting.exclude(last_error="").count()
    failing = Counter(
        p.last_error for p in posts.filter(created_at__gte=window.since).exclude(last_error="")
    )
    assert (
        board.post_failures
        == sorted(failing.items(), key=lambda i: (-i[1], i[0]))[: dashboards.TOP]
    )

    expected = set()
    for run in runs:
        verdict = VerifiedCQDRun.objects.filter(run=run).values_list("action", flat=True).first()
        finished = (
            FinishedCQDRun.objects.filter(run=run)
            .order_by("-update_time")
            .values_list("attempt_status", flat=True)
            .first()
        )
        word = rollups.cqdaemon_word(verdict, finished)
        if word is not None and word[1] != run.status:
            expected.add(run.id)
    assert board.disagreement_count == len(expected)
    assert {d.run_id for d in board.disagreements} <= expected


def test_a_late_cqdaemon_report_is_a_disagreement(demo, db):
    run = Run.objects.filter(status=RunStatus.CANCELLED, finalized_by_cqd=False).first()
    assert run is not None, "the demo has no run cvsite cancelled"
    reported = migration_pb.ReportedRun(
        id=run.id,
        attempt=bq_pb.Attempt(
            key=run.cqd_attempt_key, luci_project=run.project, status=bq_pb.FAILURE
        ),
    )
    actions.report_finished_run(run, reported, "cqdaemon-test")
    row = CQDDisagreement.objects.get(run=run)
    assert (row.status, row.expected_status) == (RunStatus.CANCELLED, RunStatus.FAILED)
    assert row.cqdaemon_said == "ReportFinishedRun FAILURE"
    kept = rollup_snapshot()
    call_command("rebuild_rollups", verbosity=0)
    assert rollup_snapshot() == kept


@pytest.mark.parametrize("window", ["24h", "7d", "30d"])
def test_the_page_renders_and_says_its_numbers(operator_client, window):
    response = operator_client.get(URL, {"window": window})
    assert response.status_code == 200
    board = response.context["board"]
    html = response.content.decode()
    assert "<svg" in html and "Runs ended by final status" in html
    assert f'id="disagreement-count">{board.disagreement_count}<' in html
    assert f'id="post-backlog">{board.backlog.waiting}<' in html
    assert f'id="reuse-rate">{board.reuse_rate}<' in html
    for label, *_ in board.period_rows:
        assert f"<td>{label}</td>" in html


def test_a_project_page_links_the_other_projects(operator_client):
    response = operator_client.get(URL, {"project": "webrtc", "window": "30d"})
    assert response.status_code == 200
    assert response.context["board"].project == "webrtc"
    assert "?project=chromium&amp;window=30d" in response.content.decode()


@pytest.mark.parametrize(
    "query, words",
    [
        ({"window": "90d"}, "window: '90d' is not one of 24h, 7d, 30d"),
        ({"project": "a/b"}, "project: not a LUCI project name"),
        ({"project": "x" * 101}, "project: not a LUCI project name"),
        ({"project": "a\x00b"}, "project: not a LUCI project name"),
    ],
)
def test_bad_parameters_are_named(operator_client, query, words):
    response = operator_client.get(URL, query)
    assert response.status_code == 400
    assert words in response.content.decode()


def test_operators_see_it_and_others_do_not(client, demo, db):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.groups.add(Group.objects.get(name=OPERATORS))
    client.force_login(viewer)
    assert client.get(URL).status_code == 200
    index = client.get(reverse("admin:index")).content.decode()
    assert f'href="{URL}"' in index
    runs_list = client.get(reverse("admin:runs_run_changelist")).content.decode()
    assert f'href="{URL}"' in runs_list
    stranger = User.objects.create_user("stranger", password="pw", is_staff=True)
    client.force_login(stranger)
    assert client.get(URL).status_code == 403
    assert f'href="{URL}"' not in client.get(reverse("admin:index")).content.decode()


def add_ended_runs(count: int) -> None:
    """`count` more ended runs over the last days, with failing Gerrit posts, counted by a
    rebuild: ten times the demo's rows in every table the page reads."""
    now = timezone.now().replace(microsecond=0)
    runs = []
    for i in range(count):
        created = now - timedelta(hours=i % 700, minutes=i % 60)
        key = f"{i:016x}"
        run_id = RunID.new("bulk", created, key)
        runs.append(
            Run(
                id=str(run_id),
                project="bulk",
                mode=["DRY_RUN", "FULL_RUN"][i % 2],
                status=[RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED][i % 3],
                cqd_attempt_key=key,
                create_time=created,
                start_time=created,
                end_time=created + timedelta(minutes=5 + i % 90),
            )
        )
    Run.objects.bulk_create(runs)
    cl = CL.objects.first()
    GerritPost.objects.bulk_create(
        GerritPost(
            run=run,
            project=run.project,
            cl=cl,
            purpose="cqd_message",
            message_digest=f"{i:064x}",
            message="m",
            revision="r",
            created_at=run.create_time,
            last_error=f"HTTP {500 + i % 4} from Gerrit",
        )
        for i, run in enumerate(runs)
    )
    call_command("rebuild_rollups", verbosity=0)


def test_the_page_takes_constant_queries(operator_client):
    counts = []
    for grow in (False, True):
        if grow:
            add_ended_runs(10 * Run.objects.count())
        for project in ("", "chromium", "bulk"):
            with CaptureQueriesContext(connection) as queries:
                response = operator_client.get(URL, {"window": "30d", "project": project})
            assert response.status_code == 200
            counts.append(len(queries))
    assert counts[:3] == counts[3:], counts
