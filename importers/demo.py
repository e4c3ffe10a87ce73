"""The demo, written by the service itself: `seed_demo(now)` makes it current.

importers.demo_script says what happens (projects, people, builders, stories, ~300 runs over
four days up to `now`); importers.demo_world plays it through cvsite's own actions, executor,
tasks and Migration API. This module decides when to play it and which rows are the demo's.
The demo is anchored to `now`: seeded again on a later day, it deletes the previous demo's rows
(and only those) and replays; on the same day it is left as it is. Same `now`, same rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Min, Q, QuerySet
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from gerrit.fake import FakeGerrit
from importers.demo_script import (
    CONFIG_SOURCE_PREFIX,
    DEMO_HOSTS,
    DEMO_PROJECTS,
    PROJECTS,
    plan_runs,
)
from importers.demo_world import ACTOR, TOKEN_PREFIX, DemoError, DemoWorld
from migration_api.models import ApiCall, ApiToken
from projectconfig.models import ConfigVersion, GroupMembership
from runs import rollups as run_rollups
from runs.models import (
    CL,
    FinishedCQDRun,
    GerritPost,
    NetrcToken,
    ProjectVerifier,
    ProjectVerifierChange,
    ReportedRunsSnapshot,
    Run,
    RunCL,
    RunEvent,
    RunStatus,
)
from tryjobs import rollups as tryjob_rollups
from tryjobs.models import ExecutionLogEntry, ExecutionState, Tryjob, TryjobStatus

__all__ = ["RUN_COUNT", "DemoError", "DemoSummary", "demo_anchor", "demo_querysets", "seed_demo"]

RUN_COUNT = 268  # generated runs; with the full runs that follow dry runs and the recent ones, 300+


@dataclass
class DemoSummary:
    """What seed_demo did. Counts are per model label ("runs.Run"), for every demo model."""

    status: str  # "created", "refreshed" or "already present"
    anchor: datetime | None
    present: dict[str, int]
    deleted: dict[str, int] = field(default_factory=dict)
    runs_by_status: dict[str, int] = field(default_factory=dict)
    runs_by_mode: dict[str, int] = field(default_factory=dict)
    runs_by_project: dict[str, int] = field(default_factory=dict)
    tryjobs_by_status: dict[str, int] = field(default_factory=dict)
    # The fake Gerrit servers it ran against, by host (stopped): what the service delivered.
    gerrits: dict[str, FakeGerrit] = field(default_factory=dict)


# Finding the demo's rows -----------------------------------------------------------------------


def demo_querysets() -> dict[str, QuerySet]:
    """The demo's rows per model label: everything about the CLs on the demo's Gerrit hosts,
    what the demo's CQDaemons and operators did, and the config versions it imported."""
    cls = CL.objects.filter(host__in=DEMO_HOSTS)
    runs = Run.objects.filter(
        project__in=DEMO_PROJECTS, run_cls__cl__host__in=DEMO_HOSTS
    ).distinct()
    run_ids = list(runs.values_list("id", flat=True))
    tokens = ApiToken.objects.filter(name__startswith=TOKEN_PREFIX)
    reporters = [f"api:{name}" for name in tokens.values_list("name", flat=True)]
    return {
        "runs.CL": cls,
        "runs.Run": Run.objects.filter(id__in=run_ids),
        "runs.RunCL": RunCL.objects.filter(run__in=run_ids),
        "runs.RunEvent": RunEvent.objects.filter(run__in=run_ids),
        "runs.GerritPost": GerritPost.objects.filter(run__in=run_ids),
        "runs.FinishedCQDRun": FinishedCQDRun.objects.filter(
            Q(run__in=run_ids) | Q(run__isnull=True, attempt_project__in=DEMO_PROJECTS)
        ),
        "runs.ReportedRunsSnapshot": ReportedRunsSnapshot.objects.filter(reported_by__in=reporters),
        "runs.ProjectVerifierChange": ProjectVerifierChange.objects.filter(
            actor__startswith=f"{ACTOR}:"
        ),
        "runs.ProjectVerifier": ProjectVerifier.objects.filter(changed_by__startswith=f"{ACTOR}:"),
        "runs.NetrcToken": NetrcToken.objects.filter(gerrit_host__in=DEMO_HOSTS),
        "projectconfig.ConfigVersion": ConfigVersion.objects.filter(
            source__startswith=CONFIG_SOURCE_PREFIX
        ),
        "projectconfig.GroupMembership": GroupMembership.objects.filter(
            source__startswith=CONFIG_SOURCE_PREFIX
        ),
        "tryjobs.Tryjob": Tryjob.objects.filter(
            id__in=Tryjob.objects.filter(
                Q(launched_by__in=run_ids) | Q(cl_patchsets__cl__in=cls)
            ).values("id")
        ),
        "tryjobs.ExecutionState": ExecutionState.objects.filter(run__in=run_ids),
        "tryjobs.ExecutionLogEntry": ExecutionLogEntry.objects.filter(run__in=run_ids),
        "migration_api.ApiToken": tokens,
        "migration_api.ApiCall": ApiCall.objects.filter(token__in=tokens),
        # The tasks the demo's moments enqueued (each names its run first), done or not.
        "django_tasks_db.DBTaskResult": DBTaskResult.objects.filter(
            args_kwargs__args__0__in=run_ids
        ),
    }


def demo_anchor() -> datetime | None:
    """The `now` the present demo was seeded for, None when there is none or it is partial:
    the last thing a seeding does is every project's CQDaemon reporting its runs at `now`
    (chromium's, idle all along, reports nothing before)."""
    reported = dict(
        demo_querysets()["runs.ReportedRunsSnapshot"].values_list("project", "reported_at")
    )
    times = {reported.get(project) for project in DEMO_PROJECTS}
    return times.pop() if len(times) == 1 else None


def _delete_demo() -> dict[str, int]:
    """Deletes the demo's rows, what refers to a row before it; returns counts per model."""
    deleted: Counter[str] = Counter()
    with transaction.atomic():
        querysets = demo_querysets()
        tryjob_ids = list(querysets["tryjobs.Tryjob"].values_list("id", flat=True))
        oldest = querysets["runs.Run"].aggregate(oldest=Min("create_time"))["oldest"]
        for label in (
            "django_tasks_db.DBTaskResult",
            "migration_api.ApiCall",
            "migration_api.ApiToken",
            "runs.ReportedRunsSnapshot",
            "runs.FinishedCQDRun",
            "runs.Run",
            "projectconfig.ConfigVersion",  # once no run uses them
            "projectconfig.GroupMembership",
            "runs.ProjectVerifierChange",
            "runs.ProjectVerifier",
            "runs.NetrcToken",
        ):
            _, per_model = querysets[label].delete()
            deleted.update({k: v for k, v in per_model.items() if v})
        _, per_model = Tryjob.objects.filter(id__in=tryjob_ids).delete()
        deleted.update({k: v for k, v in per_model.items() if v})
        _, per_model = querysets["runs.CL"].delete()
        deleted.update({k: v for k, v in per_model.items() if v})
        if oldest is not None:
            # The dashboards' rollups counted the deleted runs and tryjobs: count again.
            run_rollups.rebuild(oldest)
            tryjob_rollups.rebuild(oldest)
    return dict(sorted(deleted.items()))


# Entry point -----------------------------------------------------------------------------------


def seed_demo(
    now: datetime,
    *,
    reset: bool = False,
    run_count: int = RUN_COUNT,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Makes the demo current as of `now` (aware); see the module docstring. `reset` replays
    it even when the present demo is of the same day."""
    if timezone.is_naive(now):
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    say = progress or (lambda message: None)
    now = now.astimezone(UTC).replace(microsecond=0)
    anchor = demo_anchor()
    if anchor is not None and anchor.date() == now.date() and not reset:
        say(f"The demo of {anchor:%Y-%m-%d %H:%M} is current: nothing to do")
        return _summary("already present", anchor, {})
    deleted = {}
    if demo_querysets()["runs.CL"].exists() or anchor is not None:
        say("Deleting the previous demo's rows")
        deleted = _delete_demo()
    plans = plan_runs(now, run_count)
    say(f"Replaying {len(plans)} runs over {len(PROJECTS)} projects up to {now:%Y-%m-%d %H:%M}")
    started = timezone.now()
    with DemoWorld(now, say) as world:
        world.play(plans)
    failed = DBTaskResult.objects.filter(status="FAILED", enqueued_at__gte=started).first()
    if failed is not None:
        raise DemoError(f"task {failed.task_path} failed: {failed.traceback}")
    return _summary("refreshed" if deleted else "created", now, deleted, world.gerrits)


def _summary(
    status: str,
    anchor: datetime | None,
    deleted: dict[str, int],
    gerrits: dict[str, FakeGerrit] | None = None,
) -> DemoSummary:
    querysets = demo_querysets()
    runs = querysets["runs.Run"]
    statuses = Counter(runs.values_list("status", flat=True))
    tryjobs = Counter(querysets["tryjobs.Tryjob"].values_list("status", flat=True))
    return DemoSummary(
        status=status,
        anchor=anchor,
        present={label: qs.count() for label, qs in querysets.items()},
        deleted=deleted,
        runs_by_status={s.name: statuses[s] for s in RunStatus if statuses[s]},
        runs_by_mode=dict(sorted(Counter(runs.values_list("mode", flat=True)).items())),
        runs_by_project=dict(sorted(Counter(runs.values_list("project", flat=True)).items())),
        tryjobs_by_status={s.name: tryjobs[s] for s in TryjobStatus if tryjobs[s]},
        gerrits=gerrits or {},
    )
