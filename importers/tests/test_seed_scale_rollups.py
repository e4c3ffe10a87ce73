"""A seeded database has the dashboards' rollups a rebuild would give it, over its rows."""

from datetime import UTC, datetime

from django.core.management import call_command

from runs.models import GerritPost, Run
from tryjobs.models import TryjobMetric
from tryjobs.tests.rollup_support import rollup_snapshot

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_seeded_rows_come_with_their_rollups(db):
    call_command(
        "seed_scale",
        "--runs=400",
        "--projects=2",
        "--days=2",
        f"--now={NOW.isoformat()}",
        verbosity=0,
    )
    seeded = rollup_snapshot()
    assert sum(row[5] for row in seeded[0] if row[0] == "day") == Run.objects.ended().count()
    failed_posts = GerritPost.objects.exclude(last_error="").count()
    assert sum(row[4] for row in seeded[3] if row[0] == "day") == failed_posts
    metrics = {row[3] for row in seeded[1]}
    assert {TryjobMetric.BUILDER_ENDED, TryjobMetric.EXECUTIONS_ENDED} <= metrics
    call_command("rebuild_rollups", verbosity=0)
    assert rollup_snapshot() == seeded
