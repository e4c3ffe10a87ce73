"""Imports write in bulk, around the actions: they recount the dashboards' rollups of what they
wrote, so the rollups stay what a full rebuild gives."""

import pytest
from django.core.management import call_command

from importers.tests.backfill.conftest import run
from runs.models import RunRollup
from tryjobs.models import TryjobMetric
from tryjobs.tests.rollup_support import rollup_snapshot

pytestmark = pytest.mark.django_db


def test_imported_attempts_and_builds_are_counted_as_a_rebuild_counts(generated, tmp_path):
    assert run("import_attempts", generated).status == 0
    assert run("import_builds", tmp_path / "builds.jsonl").status == 0
    imported = rollup_snapshot()
    assert imported[0], "no imported run was counted"
    assert TryjobMetric.BUILDER_ENDED in {row[3] for row in imported[1]}
    call_command("rebuild_rollups", verbosity=0)
    assert rollup_snapshot() == imported


def test_a_dry_run_recounts_nothing(generated):
    outcome = run("import_attempts", generated, dry_run=True)
    assert outcome.status == 0 and "recounting" not in outcome.out
    assert not RunRollup.objects.exists()
