"""A seeded database has the dashboards' rollups a rebuild would give it, over its rows: counted
by the seeder as it writes into tables without such rows, rebuilt from the rows otherwise."""

from datetime import UTC, datetime

from django.core.management import call_command

from runs.models import GerritPost, Run
from tryjobs.models import TryjobMetric
from tryjobs.tests.rollup_support import rollup_snapshot

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def seed(seed: int = 0) -> None:
    call_command(
        "seed_scale",
        "--runs=400",
        "--projects=2",
        "--days=2",
        f"--seed={seed}",
        f"--now={NOW.isoformat()}",
        verbosity=0,
    )


def test_seeder_counts_the_rollups_a_rebuild_gives(db):
    seed()
    seeded = rollup_snapshot()
    assert sum(row[5] for row in seeded[0] if row[0] == "day") == Run.objects.ended().count()
    failed_posts = GerritPost.objects.exclude(last_error="").count()
    assert sum(row[4] for row in seeded[3] if row[0] == "day") == failed_posts
    metrics = {row[3] for row in seeded[1]}
    assert {
        TryjobMetric.BUILDER_ENDED,
        TryjobMetric.BUILDER_FAILED,
        TryjobMetric.BUILDER_RUNS,
        TryjobMetric.BUILDER_FLAKY_RUNS,
        TryjobMetric.EXECUTIONS_ENDED,
        TryjobMetric.ATTEMPTS,
        TryjobMetric.QUOTA_SPENT,
        TryjobMetric.RETRIED_RUNS,
        TryjobMetric.LAUNCH_LATENCY,
    } <= metrics
    call_command("rebuild_rollups", verbosity=0)
    assert rollup_snapshot() == seeded


def test_a_seed_beside_stored_rows_rebuilds_their_rollups_with_its_own(db):
    seed()
    seed(seed=1)  # the window holds the first seed's rows too: counted again from the rows
    seeded = rollup_snapshot()
    assert sum(row[5] for row in seeded[0] if row[0] == "day") == Run.objects.ended().count()
    call_command("rebuild_rollups", verbosity=0)
    assert rollup_snapshot() == seeded
