"""manage.py prune: what is older than the retention goes, in batches; nothing else does."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from migration_api.models import ApiCall, RefusedCalls
from runs.models import GerritPost, Run, RunEvent, RunEventKind, RunStatus
from runs.tests.factories import make_cl, make_run

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - timedelta(days=600)
RECENTLY = timezone.now() - timedelta(days=10)


def prune(*args) -> str:
    out = io.StringIO()
    call_command("prune", *args, stdout=out, progress_interval=3600)
    return out.getvalue()


def old_and_new_rows():
    old = make_run(status=RunStatus.SUCCEEDED, create_time=LONG_AGO, end_time=LONG_AGO)
    RunEvent.objects.create(run=old, time=LONG_AGO, actor="t", kind=RunEventKind.CREATED)
    GerritPost.objects.create(
        run=old,
        cl=make_cl(),
        purpose="verification_result",
        message_digest="d",
        message="m",
        revision="r",
        created_at=LONG_AGO,
    )
    recent = make_run(status=RunStatus.FAILED, create_time=RECENTLY, end_time=RECENTLY)
    running = make_run(status=RunStatus.RUNNING, create_time=LONG_AGO)  # never pruned
    for when in (LONG_AGO, RECENTLY):
        ApiCall.objects.create(time=when, caller="c", method="M", code="OK", duration_ms=1)
        RefusedCalls.objects.create(minute=when, method="M", code="UNAUTHENTICATED", count=3)
    return old, recent, running


def test_prune_deletes_what_is_older_than_the_retention_and_nothing_else():
    old, recent, running = old_and_new_rows()
    printed = prune("--older-than", "540d", "--batch-size", "1")
    assert set(Run.objects.values_list("id", flat=True)) == {recent.id, running.id}
    assert not RunEvent.objects.filter(run_id=old.id).exists()
    assert not GerritPost.objects.exists()
    assert list(ApiCall.objects.values_list("time", flat=True)) == [RECENTLY]
    assert list(RefusedCalls.objects.values_list("minute", flat=True)) == [RECENTLY]
    assert "Deleted 3 rows: runs 1, API calls 1, refused-call counts 1" in printed


def test_a_dry_run_counts_and_deletes_nothing():
    old_and_new_rows()
    printed = prune("--older-than", "540d", "--dry-run")
    assert "  runs: 1" in printed and "  API calls: 1" in printed and "Dry run" in printed
    assert Run.objects.count() == 3 and ApiCall.objects.count() == 2


def test_running_it_again_finds_nothing_left():
    old_and_new_rows()
    prune("--older-than", "540d")
    assert "Deleted 0 rows" in prune("--older-than", "540d")


@pytest.mark.parametrize("age", ["540", "0d", "2w", "-1d", ""])
def test_a_bad_age_is_refused_naming_the_option(age):
    with pytest.raises(CommandError, match="--older-than"):
        prune("--older-than", age)
