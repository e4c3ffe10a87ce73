"""The dashboards' rollups as comparable sets, for tests that check the counts the actions (or a
bulk load) kept against what `rebuild_rollups` gives."""

from runs.models import CQDDisagreement, PostFailureRollup, RunRollup
from tryjobs.models import TryjobRollup


def rollup_snapshot() -> tuple[set, set, set, set]:
    """(run rollups, tryjob rollups, disagreements, Gerrit post failures); a count of zero
    equals an absent row."""
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
        set(
            CQDDisagreement.objects.values_list(
                "run_id", "project", "end_time", "status", "expected_status", "cqdaemon_said"
            )
        ),
        set(
            PostFailureRollup.objects.exclude(posts=0).values_list(
                "period", "start", "project", "error", "posts"
            )
        ),
    )
