"""Failed Gerrit posts on the dashboards: the counts kept as posts fail, fail otherwise and
succeed equal what the posts say, and what `rebuild_rollups` gives."""

import importlib
from collections import Counter
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from gerrit.errors import GerritError
from runs import rollups
from runs.models import GerritPost, GerritPostPurpose, PostFailureRollup, RunCL
from runs.posts import deliver_once, message_digest
from runs.tests.factories import make_run_of_changes

ACTOR = "test"
# The migration that made the rollup filled it from the posts failing already.
FILLING_MIGRATION = importlib.import_module("runs.migrations.0014_post_failure_rollups")


def kept_counts() -> set:
    """The rollup's rows; a count of zero equals an absent row."""
    return set(
        PostFailureRollup.objects.exclude(posts=0).values_list(
            "period", "start", "project", "error", "posts"
        )
    )


def counted_from_posts(window: rollups.Window, project: str | None) -> list[tuple[str, int]]:
    failed = GerritPost.objects.filter(created_at__gte=window.since).exclude(last_error="")
    if project is not None:
        failed = failed.filter(project=project)
    errors = Counter(failed.values_list("last_error", flat=True))
    return sorted(errors.items(), key=lambda item: (-item[1], item[0]))


def assert_counts_match_the_posts() -> None:
    for name in rollups.WINDOWS:
        window = rollups.window(name, timezone.now())
        for project in (None, "chromium", "v8"):
            assert rollups.gerrit_failures(window, project, 10) == counted_from_posts(
                window, project
            ), (name, project)
    kept = kept_counts()
    call_command("rebuild_rollups", verbosity=0)
    assert kept_counts() == kept


@pytest.fixture
def posts(gerrit, db):
    """A post waiting on each of a chromium run's two CLs."""
    gerrit.add_change(1)
    gerrit.add_change(2)
    run = make_run_of_changes(gerrit, [1, 2])
    return [
        GerritPost.objects.create(
            run=run,
            project=run.project,
            cl=run_cl.cl,
            purpose=GerritPostPurpose.VERIFICATION_RESULT,
            message_digest=message_digest(GerritPostPurpose.VERIFICATION_RESULT, "done"),
            message="done",
            revision=run_cl.current_revision,
            created_at=timezone.now(),
        )
        for run_cl in RunCL.objects.filter(run=run).select_related("cl").order_by("position")
    ]


def fail(gerrit, post: GerritPost, status: int) -> None:
    gerrit.fail_next(status, path_contains="/review", body=f"refused with {status}\n")
    with pytest.raises(GerritError):
        deliver_once(post, ACTOR)


def test_failed_posts_are_counted_by_their_last_error(gerrit, posts):
    first, second = posts
    fail(gerrit, first, 502)
    fail(gerrit, second, 409)
    assert [n for _, n in rollups.gerrit_failures(rollups.window("24h", timezone.now()), None, 10)]
    assert_counts_match_the_posts()

    fail(gerrit, first, 409)  # its 502 is no longer counted
    window = rollups.window("7d", timezone.now())
    errors = rollups.gerrit_failures(window, "chromium", 10)
    assert [("HTTP 409" in error, n) for error, n in errors] == [(True, 1), (True, 1)]
    assert_counts_match_the_posts()

    deliver_once(first, ACTOR)
    second_error = GerritPost.objects.get(pk=second.pk).last_error
    assert rollups.gerrit_failures(window, None, 10) == [(second_error, 1)]
    assert_counts_match_the_posts()

    deliver_once(second, ACTOR)
    assert rollups.gerrit_failures(window, None, 10) == []
    assert_counts_match_the_posts()


def test_a_rebuild_counts_failures_written_around_the_actions(posts):
    GerritPost.objects.filter(pk=posts[0].pk).update(last_error="HTTP 500 from Gerrit")
    assert rollups.gerrit_failures(rollups.window("30d", timezone.now()), None, 10) == []
    call_command("rebuild_rollups", verbosity=0)
    assert_counts_match_the_posts()
    assert kept_counts()


def test_the_migration_fills_the_rollup_as_a_rebuild_does(posts):
    GerritPost.objects.filter(pk=posts[0].pk).update(last_error="HTTP 500 from Gerrit")
    GerritPost.objects.filter(pk=posts[1].pk).update(
        last_error="HTTP 403: not allowed", created_at=timezone.now() - timedelta(days=3)
    )
    columns = ("period", "start", "project", "error_digest", "error", "posts")
    PostFailureRollup.objects.all().delete()
    FILLING_MIGRATION.count_failing_posts(apps, None)
    filled = set(PostFailureRollup.objects.values_list(*columns))
    call_command("rebuild_rollups", verbosity=0)
    assert set(PostFailureRollup.objects.exclude(posts=0).values_list(*columns)) == filled
    assert {(period, error) for period, _, _, _, error, _ in filled} == {
        (period, error)
        for period in ("hour", "day")
        for error in ("HTTP 500 from Gerrit", "HTTP 403: not allowed")
    }
