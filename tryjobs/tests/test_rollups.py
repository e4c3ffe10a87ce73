"""The dashboards' tryjob rollups: what the actions count equals what a rebuild counts, at
every step of a run that reuses, retries, is flaky and then hears late news."""

import pytest

from runs import actions as run_actions
from runs.models import RollupPeriod, Verifier
from runs.tests.factories import make_run_of_changes
from tryjobs import operations
from tryjobs import rollups as tryjob_rollups
from tryjobs.models import TryjobMetric, TryjobRollup
from tryjobs.tests import actions_support
from tryjobs.tests.actions_support import (
    Result,
    RetryConfig,
    State,
    defn,
    latest_tryjob,
    requirement,
    state_of,
)

backend = actions_support.backend
slept = actions_support.slept

LINUX, MAC = defn("linux"), defn("mac")
RETRY = RetryConfig(
    single_quota=2, global_quota=4, failure_weight=3, transient_failure_weight=1, timeout_weight=2
)


def day_totals() -> dict[tuple[str, str], int]:
    """(metric, label) -> value over the day rows; each is checked against a rebuild."""
    totals: dict[tuple[str, str], int] = {}
    for metric, label, value in TryjobRollup.objects.filter(period=RollupPeriod.DAY).values_list(
        "metric", "label", "value"
    ):
        totals[(metric, label)] = totals.get((metric, label), 0) + value
    return {k: v for k, v in totals.items() if v}


def kept_equals_rebuilt() -> dict[tuple[str, str], int]:
    kept = set(TryjobRollup.objects.exclude(value=0).values_list(*tryjob_rollups.KEY, "value"))
    totals = day_totals()
    tryjob_rollups.rebuild(None)
    assert set(TryjobRollup.objects.values_list(*tryjob_rollups.KEY, "value")) == kept
    return totals


@pytest.mark.django_db
def test_reuse_retries_flakes_and_late_news_are_counted_as_a_rebuild_counts(
    gerrit, backend, slept, run_tasks
):
    gerrit.add_change(1, project="chromium/src")
    run_actions.set_project_verifier("chromium", Verifier.CVSITE, "op")
    donor = make_run_of_changes(gerrit, [1], mode="DRY_RUN")
    operations.set_requirement(donor.id, requirement(MAC), "op")
    backend.finish_build(latest_tryjob(donor, 0).external_id, Result.SUCCEEDED)
    run_tasks()

    run = make_run_of_changes(gerrit, [1], mode="DRY_RUN")
    operations.set_requirement(run.id, requirement(LINUX, MAC, retry=RETRY), "op")
    backend.finish_build(latest_tryjob(run, 0).external_id, Result.FAILED_TRANSIENTLY)
    run_tasks()
    totals = kept_equals_rebuilt()
    linux, mac = "chromium/try/linux", "chromium/try/mac"
    assert totals[(TryjobMetric.BUILDER_FAILED, linux)] == 1
    assert (TryjobMetric.BUILDER_FLAKY_RUNS, linux) not in totals

    backend.finish_build(latest_tryjob(run, 0).external_id, Result.SUCCEEDED)
    run_tasks()
    assert state_of(run).status == State.SUCCEEDED
    totals = kept_equals_rebuilt()
    assert totals[(TryjobMetric.BUILDER_ENDED, linux)] == 2
    assert totals[(TryjobMetric.BUILDER_RUNS, linux)] == 1
    assert totals[(TryjobMetric.BUILDER_FLAKY_RUNS, linux)] == 1
    assert totals[(TryjobMetric.BUILDER_RUNS, mac)] == 1  # the donor's; reuse is not a launch
    assert totals[(TryjobMetric.EXECUTIONS_ENDED, "")] == 2
    assert totals[(TryjobMetric.ATTEMPTS, "")] == 1 + 3
    assert totals[(TryjobMetric.REUSED_ATTEMPTS, "")] == 1
    assert totals[(TryjobMetric.QUOTA_SPENT, "")] == 1
    assert totals[(TryjobMetric.RETRIED_RUNS, "")] == 1
    assert sum(v for (m, _), v in totals.items() if m == TryjobMetric.LAUNCH_LATENCY) == 2

    # Late news: the retry is now reported failed. The run is no flake any more.
    backend.finish_build(latest_tryjob(run, 0).external_id, Result.FAILED_PERMANENTLY)
    run_tasks()
    totals = kept_equals_rebuilt()
    assert totals[(TryjobMetric.BUILDER_FAILED, linux)] == 2
    assert (TryjobMetric.BUILDER_FLAKY_RUNS, linux) not in totals


def test_a_reason_label_is_its_first_line_within_the_column():
    assert tryjob_rollups.reason_label("quota\nmore") == "quota"
    assert tryjob_rollups.reason_label("  ") == "(no reason given)"
    assert len(tryjob_rollups.reason_label("x" * 1000)) == tryjob_rollups.LABEL_LENGTH
