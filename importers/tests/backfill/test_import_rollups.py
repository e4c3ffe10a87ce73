"""Imports write in bulk, around the actions: they recount the dashboards' rollups of what they
wrote, so the rollups stay what a full rebuild gives."""

import pytest
from django.core.management import call_command

from importers.tests.backfill.conftest import run
from runs.models import CQDDisagreement, RunRollup
from tryjobs.models import TryjobMetric, TryjobRollup

pytestmark = pytest.mark.django_db


def rollups() -> tuple[set, set, set]:
    return (
        set(
            (*row[:-1], tuple(sorted(row[-1].items())))
            for row in RunRollup.objects.values_list(
                "period", "start", "project", "mode", "status", "runs", "durations"
            )
        ),
        set(
            TryjobRollup.objects.exclude(value=0).values_list(
                "period", "start", "project", "metric", "label", "value"
            )
        ),
        set(CQDDisagreement.objects.values_list("run_id", "status", "expected_status")),
    )


def test_imported_attempts_and_builds_are_counted_as_a_rebuild_counts(generated, tmp_path):
    assert run("import_attempts", generated).status == 0
    assert run("import_builds", tmp_path / "builds.jsonl").status == 0
    imported = rollups()
    assert imported[0], "no imported run was counted"
    assert TryjobMetric.BUILDER_ENDED in {row[3] for row in imported[1]}
    call_command("rebuild_rollups", verbosity=0)
    assert rollups() == imported


def test_a_dry_run_recounts_nothing(generated):
    outcome = run("import_attempts", generated, dry_run=True)
    assert outcome.status == 0 and "recounting" not in outcome.out
    assert not RunRollup.objects.exists()
