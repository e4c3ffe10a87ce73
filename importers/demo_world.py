"""The demo's world: importers.demo_script played through the service's own code.

`DemoWorld.play(plans)` replays a few days of history on a fake clock (runs.clock): each moment
of the script is one call of what would have acted then, and whatever that call enqueued runs
at once through the task worker (`manage.py db_worker --batch`), still at that moment. The
actors:

* Gerrit is gerrit.fake's FakeGerrit, one server per demo host for the world's lifetime, with
  settings pointing cvsite's Gerrit client at it: run CL snapshots are fetched from it, and
  result messages and submissions are delivered to it by the real tasks.
* Runs are created as runs/tests/factories.py does (IDs from runs.ids, snapshots through
  runs.serializers), then started, cancelled and ended by runs.actions.
* Project configs are the commit-queue.cfg files of importers/demo_configs, imported through
  projectconfig.actions a day before the first run (with the demo's *.demo.invalid Gerrit
  hosts allowed), with the LUCI group memberships of its groups.json (projectconfig.groups).
* Buildbucket is tryjobs.fake_backend.FakeBackend (TRYJOB_BACKEND): cvsite-verified runs start
  with the requirement of their project's config (tryjobs.operations.start_run_from_config),
  and the executor launches, reuses and retries; each build then ends as its run's story
  says, reported as a batch of build updates would be.
* CQDaemon calls the Migration API in-process through Django's test client, with a token made
  by migration_api: FetchActiveRuns, PostGerritMessage, ReportRuns, ReportVerifiedRun,
  FetchRunStatus, FetchExcludedCLs, ReportFinishedRun, ReportUsedNetrc.

So every row is one the service wrote.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test import Client, override_settings
from django_tasks_db.models import DBTaskResult

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.gerrit import gerrit_pb2
from cvproto.migration import migration_pb2 as migration_pb
from cvproto.times import to_timestamp
from gerrit.client import client_for_host
from gerrit.fake import FakeGerrit, account
from importers.demo_script import (
    CONFIGS,
    CQDAEMON_IN_CHARGE,
    CQDAEMON_VERIFIES,
    CVSITE,
    DEMO_HOSTS,
    GROUPS_FILE,
    GROUPS_SOURCE,
    PROJECTS,
    STORY_BY_NAME,
    Build,
    Change,
    LaunchFails,
    Project,
    RunPlan,
    Story,
)
from migration_api.models import ApiToken
from projectconfig.actions import import_config
from projectconfig.groups import import_groups, parse_groups
from projectconfig.validation import GERRIT_HOST_SUFFIXES
from runs import actions, clock, serializers
from runs.ids import AttemptKeyCL, RunID, attempt_key
from runs.lifecycle import record_event
from runs.models import (
    CL,
    DepKind,
    ProjectVerifier,
    Run,
    RunCL,
    RunCLDep,
    RunEventKind,
    RunMode,
    RunStatus,
    Verifier,
)
from runs.models import Project as ProjectRow
from tryjobs.backend import get_backend
from tryjobs.fake_backend import FakeBackend
from tryjobs.models import TryjobStatus
from tryjobs.operations import set_requirement, start_run_from_config
from tryjobs.updates import TryjobUpdate, record_tryjob_updates

__all__ = ["ACTOR", "TOKEN_PREFIX", "DemoError", "DemoWorld"]

ACTOR = "demo"  # prefix of the actors the demo plays (users, operators, the run creator)
TOKEN_PREFIX = "demo-cqdaemon-"
NETRC_TOKEN = "demo-netrc-token"  # fake: the .invalid hosts have no Gerrit to log in to
DEMO_HOST_SUFFIX = ".demo.invalid"
CQ_BOT = account(1_000_900, "commit-bot@chromium.org", "LUCI CQ")
START_DELAY = timedelta(seconds=20)  # from the vote to the run's start
CQDAEMON_DELAY = timedelta(minutes=1)  # from the start to CQDaemon's first look
# Builds end on a 15-minute grid, reported together: a run whose builds end close together
# takes one executor pass for them, which keeps the seeding well under a minute.
BUILD_NOTIFICATIONS = timedelta(minutes=15)
LAST_VERDICTS = {"submitting": timedelta(seconds=40), "waiting": timedelta(seconds=20)}
SUBMITTED = bq_pb.GerritChange.SUCCESS
_EQUIVALENT_KINDS = (
    gerrit_pb2.RevisionInfo.TRIVIAL_REBASE,
    gerrit_pb2.RevisionInfo.NO_CODE_CHANGE,
    gerrit_pb2.RevisionInfo.NO_CHANGE,
)


class DemoError(Exception):
    """The service refused a step of the script, or a task failed: a bug to fix."""


# Runs being played --------------------------------------------------------------------------


@dataclass
class _Run:
    """A run being played: its plan, its ID, and what the script learnt of it."""

    plan: RunPlan
    id: str
    verifier: str = CVSITE  # who verifies it, decided when it starts
    started: bool = False
    ended_by_cqdaemon: bool = False

    @property
    def attempt_key(self) -> str:
        return self.id.rpartition("-")[2]


@dataclass(frozen=True)
class _Ending:
    """A build that ends as the `number`th attempt of its run's builder at `position`."""

    run: _Run
    position: int
    number: int
    external_id: str
    build: Build


def _next_tick(when: datetime) -> datetime:
    """`when` rounded up to the next batch of build notifications."""
    past = when - when.replace(minute=0, second=0, microsecond=0)
    return when + (-past % BUILD_NOTIFICATIONS)


class DemoWorld:
    """The fake Gerrit, the fake backend, the CQDaemons and the clock, for one seeding."""

    def __init__(self, now: datetime, say: Callable[[str], None]):
        self.now = now
        self.say = say
        self.moments: list[tuple[datetime, int, bool, Callable[[], None]]] = []
        self.order = itertools.count()
        self.gerrits = {host: FakeGerrit(host, clock=clock.now) for host in DEMO_HOSTS}
        self.runs_by_id: dict[str, _Run] = {}
        self.launches_seen = 0
        self.attempts: Counter[tuple[str, str]] = Counter()  # (run ID, builder): launches
        self.builds_ending: defaultdict[datetime, list[_Ending]] = defaultdict(list)
        self.cqdaemons: dict[str, _CQDaemon] = {}
        # Set by the last moments: from then on tasks are left for the worker, and only the
        # last moments play.
        self.holding_tasks = False

    # Setting up and tearing down ---------------------------------------------------------

    def __enter__(self) -> DemoWorld:
        with ExitStack() as stack:
            if connection.vendor == "sqlite":
                # The task worker closes its connection after every task (CONN_MAX_AGE is 0
                # on SQLite), and closing the last connection to a SQLite database checkpoints
                # its write-ahead log, a few milliseconds each time: one more stays open.
                kept_open = connections.create_connection(DEFAULT_DB_ALIAS)
                kept_open.ensure_connection()
                stack.callback(kept_open.close)
            for gerrit in self.gerrits.values():
                gerrit.start()
                stack.callback(gerrit.stop)
            overrides = override_settings(
                # With DEBUG on (`make run`), Django would keep every query the seeding makes,
                # and on SQLite run one more per query to quote its parameters for that record.
                DEBUG=False,
                GERRIT_URL_OVERRIDES={host: g.url for host, g in self.gerrits.items()},
                GERRIT_AUTH={host: "cvsite:demo" for host in self.gerrits},
                TRYJOB_BACKEND=f"{FakeBackend.__module__}.{FakeBackend.__name__}",
            )
            overrides.enable()
            stack.callback(overrides.disable)
            get_backend.cache_clear()  # a fresh fake backend, which the next caller forgets
            stack.callback(get_backend.cache_clear)
            self.backend: FakeBackend = get_backend()
            self.backend.clock = clock.now  # builds start and end on the demo's clock
            self.teardown = stack.pop_all()
        return self

    def __exit__(self, *exc_info) -> None:
        self.teardown.close()

    # The timeline ------------------------------------------------------------------------

    def at(self, when: datetime, action: Callable[[], None], last_moment: bool = False) -> None:
        heapq.heappush(self.moments, (when, next(self.order), last_moment, action))

    def play(self, plans: list[RunPlan]) -> None:
        # Every project has its CQDaemon during the migration, busy or not.
        self.cqdaemons = {p.name: _CQDaemon(self, p) for p in PROJECTS}
        start = min(p.trigger for p in plans) - timedelta(days=1)
        self.at(start, self.import_configs)
        self.at(start, self.report_netrc_tokens)
        for project in PROJECTS:
            for days, verifier in project.switches:
                self.at(self.now - timedelta(days=days), self.switch(project, verifier))
        pdfium = self.cqdaemons["pdfium"]
        self.at(self.now - timedelta(days=2), pdfium.finish_attempt_cvsite_never_saw)
        for plan in plans:
            self.at(plan.trigger, self.trigger(plan), last_moment=bool(plan.last_moment))
        played = 0
        while self.moments:
            when, _, last_moment, action = heapq.heappop(self.moments)
            if when > self.now or (self.holding_tasks and not last_moment):
                continue  # still to come: builds running, verdicts pending
            with clock.frozen_at(when):
                action()
                if not self.holding_tasks:
                    self.run_due_tasks()
                self.follow_new_builds(when)
            played += 1
            if played % 500 == 0:
                self.say(f"{played} moments played, up to {when:%Y-%m-%d %H:%M}")
        with clock.frozen_at(self.now):
            for cqdaemon in self.cqdaemons.values():
                cqdaemon.report_runs()

    def run_due_tasks(self, max_tasks: int | None = None) -> None:
        """What `manage.py db_worker` would do now: run every task due (or `max_tasks`)."""
        if not DBTaskResult.objects.ready().exists():
            return
        call_command(
            "db_worker",
            batch=True,
            startup_delay=False,
            reload=False,
            queue_name="*",
            max_tasks=max_tasks,
            verbosity=0,
        )

    # Moments of the script ---------------------------------------------------------------

    def import_configs(self) -> None:
        groups = parse_groups((CONFIGS / GROUPS_FILE).read_text(), GROUPS_SOURCE)
        import_groups(groups, GROUPS_SOURCE, imported_at=clock.now())
        for project in PROJECTS:
            if project.config:
                import_config(
                    project.name,
                    project.config_text(),
                    project.config_source,
                    gerrit_host_suffixes=(*GERRIT_HOST_SUFFIXES, DEMO_HOST_SUFFIX),
                    imported_at=clock.now(),
                )

    def report_netrc_tokens(self) -> None:
        for cqdaemon in {c.project.host: c for c in self.cqdaemons.values()}.values():
            cqdaemon.call(
                "ReportUsedNetrc",
                migration_pb.ReportUsedNetrcRequest(
                    gerrit_host=cqdaemon.project.host, access_token=f"git-demo:{NETRC_TOKEN}"
                ),
            )

    def switch(self, project: Project, verifier: str) -> Callable[[], None]:
        def switch() -> None:
            actions.set_project_verifier(project.name, verifier, f"{ACTOR}:operator")

        return switch

    def trigger(self, plan: RunPlan) -> Callable[[], None]:
        """The owner votes (or uploads, for a new patchset run); cvsite creates the run."""

        def trigger() -> None:
            gerrit = self.gerrits[plan.project.host]
            for change in plan.changes:
                if change.number not in gerrit.changes:
                    self.upload(plan.project, change)
            if plan.mode != RunMode.NEW_PATCHSET_RUN:
                voter = plan.changes[0].owner
                value = 2 if plan.mode == RunMode.FULL_RUN else 1
                for change in plan.changes:
                    gerrit.vote(change.number, "Commit-Queue", value, voter=_gerrit_account(voter))
                    if plan.mode == RunMode.QUICK_DRY_RUN:
                        gerrit.vote(change.number, "Quick-Run", 1, voter=_gerrit_account(voter))
            run = _Run(plan, _create_run(plan))
            self.runs_by_id[run.id] = run
            self.at(clock.now() + START_DELAY, self.start(run), last_moment=bool(plan.last_moment))

        return trigger

    def upload(self, project: Project, change: Change) -> None:
        gerrit = self.gerrits[project.host]
        uploaded = clock.now() - timedelta(hours=change.patchsets)
        gerrit.add_change(
            change.number,
            project=project.gerrit_project,
            owner=_gerrit_account(change.owner),
            subject=change.subject,
            files=change.files,
            depends_on=[change.parent] if change.parent else [],
            created=uploaded,
        )
        for n in range(2, change.patchsets + 1):
            last = n == change.patchsets
            kind = "TRIVIAL_REBASE" if last and change.trivial_rebase else "REWORK"
            gerrit.add_patchset(change.number, kind=kind, at=uploaded + timedelta(hours=n - 1))

    def start(self, run: _Run) -> Callable[[], None]:
        def start() -> None:
            plan = run.plan
            by_cvsite = ProjectVerifier.of(plan.project.name) == Verifier.CVSITE
            if by_cvsite:
                self.arm_launch_failures(run, {d: 0 for d in range(len(self.builders(run)))})
            outcome = start_run_from_config(run.id, f"{ACTOR}:run-manager")
            run.started = True
            if by_cvsite:
                if outcome.kind != "started":
                    raise DemoError(f"not started from its config: {outcome.summary()}")
                if plan.story.config_change_after is not None and len(self.builders(run)) > 1:
                    change_at = plan.trigger + timedelta(minutes=plan.story.config_change_after)
                    self.at(change_at, self.drop_last_builder(run))
            else:
                self.hand_to_cqdaemon(run)
            if plan.story.cancel_after is not None:
                cancel_at = plan.trigger + timedelta(minutes=plan.story.cancel_after)
                self.at(cancel_at, self.cancel(run))
            if plan.then_full_run is not None:
                minutes, cancel_first = plan.then_full_run
                self.at(plan.trigger + timedelta(minutes=minutes), self.upgrade(run, cancel_first))

        return start

    def drop_last_builder(self, run: _Run) -> Callable[[], None]:
        """An operator drops the run's last builder, as a config change would (a new config
        version would change every running run of the project, not this one alone)."""

        def drop_last_builder() -> None:
            if Run.objects.filter(id=run.id, status=RunStatus.RUNNING).exists():
                requirement = run.plan.project.requirement(run.plan.mode, without_last=True)
                set_requirement(run.id, requirement, f"{ACTOR}:operator")

        return drop_last_builder

    def hand_to_cqdaemon(self, run: _Run) -> None:
        """CQDaemon verifies the runs of a project cvsite does not verify (yet)."""
        plan = run.plan
        in_charge = plan.project.verifier == CQDAEMON_IN_CHARGE
        run.verifier = CQDAEMON_IN_CHARGE if in_charge else CQDAEMON_VERIFIES
        cqdaemon = self.cqdaemons[plan.project.name]
        last = bool(plan.last_moment)
        self.at(clock.now() + CQDAEMON_DELAY, cqdaemon.loop, last)
        if last:  # the verdicts of the last moments come just before `now`, in their order
            verdict_at = self.now - LAST_VERDICTS[plan.last_moment]
        else:
            verdict_at = clock.now() + _verification_time(plan)
        self.at(verdict_at, cqdaemon.conclude(run), last)

    def cancel(self, run: _Run, reason: str = "the owner removed the Commit-Queue vote"):
        def cancel() -> None:
            if run.verifier == CQDAEMON_IN_CHARGE:
                # CQDaemon in charge sees the vote go and aborts its attempt itself.
                self.cqdaemons[run.plan.project.name].finish(run)
                return
            actions.cancel_run(run.id, f"{ACTOR}:user:{run.plan.changes[0].owner.email}", reason)
            if run.verifier != CVSITE:
                self.at(clock.now() + CQDAEMON_DELAY, self.cqdaemons[run.plan.project.name].loop)

        return cancel

    def upgrade(self, run: _Run, cancel_first: bool) -> Callable[[], None]:
        """The owner votes for a full run on the run's CLs; when the dry run still runs, it
        is cancelled for the full run, which reuses its tryjobs."""

        def upgrade() -> None:
            plan = run.plan
            if cancel_first:
                self.cancel(run, "replaced by a full run on the same CLs")()
            full = RunPlan(
                f"{plan.key}-full",
                plan.project,
                RunMode.FULL_RUN,
                plan.changes,
                clock.now(),
                STORY_BY_NAME["passes"],
            )
            self.trigger(full)()

        return upgrade

    # Builds ------------------------------------------------------------------------------

    def builders(self, run: _Run) -> list[str]:
        return [b.name for b in run.plan.project.builders_for(run.plan.mode)]

    def arm_launch_failures(self, run: _Run, attempts_by_position: dict[int, int]) -> None:
        """Makes the backend refuse the launches the story says it refuses, before the step
        that launches them."""
        builders = self.builders(run)
        for position, number in attempts_by_position.items():
            attempt = run.plan.story.attempt(position, number)
            if isinstance(attempt, LaunchFails):
                self.backend.fail_launch(attempt.code, attempt.message, builder=builders[position])

    def follow_new_builds(self, when: datetime) -> None:
        """Schedules the end of every build launched since the last look, as its run's story
        says (a build of a run not in the script's control runs on)."""
        calls = self.backend.launch_calls
        requests = [r for call in calls[self.launches_seen :] for r in call]
        self.launches_seen = len(calls)
        for request in requests:
            run = self.runs_by_id[request.run_id]
            builder = request.definition.buildbucket.builder.builder
            number = self.attempts[(run.id, builder)]
            self.attempts[(run.id, builder)] += 1
            external_id = self.backend.by_tryjob.get(request.tryjob_id)
            if external_id is None:
                continue  # the launch failed
            position = self.builders(run).index(builder)
            attempt = run.plan.story.attempt(position, number)
            if not isinstance(attempt, Build):
                continue  # meant to be refused, but another launch took the refusal: runs on
            rng = random.Random(f"{run.plan.key}/{builder}/{number}")
            minutes = attempt.minutes or self.minutes_of(run, builder) * rng.uniform(0.8, 1.25)
            ends = _next_tick(when + timedelta(minutes=minutes))
            if ends not in self.builds_ending:
                self.at(ends, self.end_builds(ends))
            self.builds_ending[ends].append(_Ending(run, position, number, external_id, attempt))

    def minutes_of(self, run: _Run, builder: str) -> float:
        return {b.name: b.minutes for b in run.plan.project.builders_for(run.plan.mode)}[builder]

    def end_builds(self, when: datetime) -> Callable[[], None]:
        """The builds ending at `when` end, and Buildbucket tells cvsite in one batch."""

        def end_builds() -> None:
            updates = []
            for ending in self.builds_ending.pop(when):
                build = ending.build
                self.arm_launch_failures(ending.run, {ending.position: ending.number + 1})
                result = self.backend.end_result(
                    ending.external_id, build.result, summary=build.summary
                )
                updates.append(TryjobUpdate(ending.external_id, TryjobStatus.ENDED, result))
            record_tryjob_updates(updates)

        return end_builds

    # The last moments --------------------------------------------------------------------

    def arm_submission_failure(self, run: _Run) -> None:
        """Gerrit refuses to submit the run's last CL once, for now (HTTP 503)."""
        last = run.plan.changes[-1].number
        self.gerrits[run.plan.project.host].fail_next(
            503, method="POST", path_contains=f"~{last}/revisions/"
        )

    def hold_tasks(self, last_moment: str) -> None:
        """From now on, tasks are left to the worker. A submission in progress has run once:
        one CL submitted, the retry of the other pending."""
        if last_moment == "submitting":
            self.run_due_tasks(max_tasks=1)
        self.holding_tasks = True


def _gerrit_account(person) -> dict:
    return account(person.account_id, person.email, person.name)


def _verification_time(plan: RunPlan) -> timedelta:
    """How long CQDaemon takes to verify a run of `plan` (its own builds: not cvsite's)."""
    rng = random.Random(plan.key)
    return timedelta(minutes=rng.uniform(20, 60) + (0 if plan.story.passes else 15))


# Runs are created as the service creates them ---------------------------------------------------


def _create_run(plan: RunPlan) -> str:
    """A PENDING run over the plan's changes as Gerrit has them now; returns its ID."""
    project = plan.project
    now = clock.now()
    with client_for_host(project.host) as gerrit:
        infos = [gerrit.get_change(c.number, project=project.gerrit_project) for c in plan.changes]
    voter = plan.changes[0].owner
    key = attempt_key(
        AttemptKeyCL(
            project.host, info.number, info.current_revision, now, plan.mode, voter.account_id
        )
        for info in infos
    )
    with transaction.atomic():
        ProjectRow.note([project.name])
        run = Run.objects.create(
            id=str(RunID.new(project.name, now, key)),
            project=project.name,
            status=RunStatus.PENDING,
            mode=plan.mode,
            cqd_attempt_key=key,
            owner=voter.email,
            config_group="cq",
            create_time=now,
        )
        cls, snapshots = {}, {}
        for change, info in zip(plan.changes, infos, strict=True):
            patchset = info.revisions[info.current_revision].number
            snapshots[change.number] = serializers.change_snapshot_columns(
                info,
                patchset=patchset,
                min_equivalent_patchset=_min_equivalent_patchset(info, patchset),
                files=list(change.files),
            )
            cls[change.number], _ = CL.objects.update_or_create(
                host=project.host,
                change=change.number,
                defaults={**snapshots[change.number], "luci_project": project.name},
            )
        for position, change in enumerate(plan.changes):
            run_cl = RunCL(
                run=run,
                cl=cls[change.number],
                position=position,
                trigger_time=now,
                trigger_mode=plan.mode,
                trigger_account_id=voter.account_id,
                trigger_email=voter.email,
                **snapshots[change.number],
            )
            # A change stacked on another of the run depends on it: submitted after it.
            stacked_on = [cls[change.parent]] if change.parent in cls else []
            deps = [
                RunCLDep(run_cl=run_cl, depends_on=cl, kind=DepKind.HARD, position=i)
                for i, cl in enumerate(stacked_on)
            ]
            serializers.set_served_message(run_cl, deps).save()
            RunCLDep.objects.bulk_create(deps)
        record_event(
            run,
            RunEventKind.CREATED,
            f"{ACTOR}:run-creator",
            f"{plan.mode} triggered on {len(plan.changes)} CL(s) (story: {plan.story.name})",
        )
    return run.id


def _min_equivalent_patchset(info: gerrit_pb2.ChangeInfo, patchset: int) -> int:
    kinds = {r.number: r.kind for r in info.revisions.values()}
    while patchset > 1 and kinds.get(patchset) in _EQUIVALENT_KINDS:
        patchset -= 1
    return patchset


# CQDaemon ---------------------------------------------------------------------------------------


class _CQDaemon:
    """One project's CQDaemon, calling the Migration API as its client would (binary pRPC
    with its bearer token), in-process through Django's test client."""

    def __init__(self, world: DemoWorld, project: Project):
        self.world = world
        self.project = project
        _, token = ApiToken.issue(f"{TOKEN_PREFIX}{project.name}", [project.name])
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")
        self.attempts: dict[str, migration_pb.ReportedRun] = {}  # by attempt key

    def call(self, method: str, request, response_class=None):
        response = self.client.post(
            f"/prpc/migration.Migration/{method}",
            request.SerializeToString(),
            content_type="application/prpc; encoding=binary",
            HTTP_ACCEPT="application/prpc; encoding=binary",
            secure=True,
        )
        if response.status_code != 200:
            raise DemoError(
                f"{self.project.name} CQDaemon: {method} answered {response.status_code} "
                f"{response.headers.get('X-Prpc-Grpc-Code')}: {response.content[:500]!r}"
            )
        return response_class.FromString(response.content) if response_class else None

    def report_runs(self) -> None:
        self.call("ReportRuns", migration_pb.ReportRunsRequest(runs=list(self.attempts.values())))

    def loop(self) -> None:
        """Picks up the runs to verify (posting that it is trying them) and reports them."""
        if self.project.verifier == CQDAEMON_IN_CHARGE:
            self.take_charge()
        else:
            self.fetch_active_runs()
        self.report_runs()

    def fetch_active_runs(self) -> None:
        response = self.call(
            "FetchActiveRuns",
            migration_pb.FetchActiveRunsRequest(luci_project=self.project.name),
            migration_pb.FetchActiveRunsResponse,
        )
        active = {run.id for run in response.active_runs}
        for key, reported in list(self.attempts.items()):
            if reported.id not in active:
                self.vanished(key, reported)
        for run in response.active_runs:
            key = run.id.rpartition("-")[2]
            if key in self.attempts:
                continue
            attempt = bq_pb.Attempt(
                key=key,
                luci_project=self.project.name,
                status=bq_pb.STARTED,
                gerrit_changes=[cl.gc for cl in run.cls],
            )
            attempt.start_time.CopyFrom(to_timestamp(clock.now()))
            self.attempts[key] = migration_pb.ReportedRun(id=run.id, attempt=attempt)
            for cl in run.cls:
                self.call(
                    "PostGerritMessage",
                    migration_pb.PostGerritMessageRequest(
                        project=self.project.name,
                        attempt_key=key,
                        run_id=run.id,
                        host=cl.gc.host,
                        change=cl.gc.change,
                        revision=cl.info.current_revision,
                        comment="CQ is trying the patch.",
                        send_email=False,
                    ),
                    migration_pb.PostGerritMessageResponse,
                )

    def vanished(self, key: str, reported: migration_pb.ReportedRun) -> None:
        """A run left FetchActiveRuns without a verdict (cancelled): ask why, then let go."""
        self.call(
            "FetchRunStatus",
            migration_pb.FetchRunStatusRequest(
                luci_project=self.project.name, cv_id=reported.id, attempt_key=key
            ),
            migration_pb.FetchRunStatusResponse,
        )
        self.call("ReportVerifiedRun", migration_pb.ReportVerifiedRunRequest(run=reported))
        del self.attempts[key]

    def take_charge(self) -> None:
        """CQDaemon in charge finds the voted CLs in Gerrit itself, minus those cvsite
        excludes, and tells Gerrit it is trying them."""
        response = self.call(
            "FetchExcludedCLs",
            migration_pb.FetchExcludedCLsRequest(luci_project=self.project.name),
            migration_pb.FetchExcludedCLsResponse,
        )
        excluded = {(gc.host, gc.change) for gc in response.cls}
        gerrit = self.world.gerrits[self.project.host]
        for run in self.world.runs_by_id.values():
            if run.verifier != CQDAEMON_IN_CHARGE or not run.started or run.ended_by_cqdaemon:
                continue
            attempt = self.attempt_of(run)
            if attempt.key in self.attempts or any(
                (gc.host, gc.change) in excluded for gc in attempt.gerrit_changes
            ):
                continue
            self.attempts[attempt.key] = migration_pb.ReportedRun(id=run.id, attempt=attempt)
            for change in run.plan.changes:
                gerrit.add_message(change.number, "CQ is trying the patch.", author=CQ_BOT)

    def attempt_of(self, run: _Run) -> bq_pb.Attempt:
        """CQDaemon's own attempt on the run's CLs (its key is computed as cvsite's is)."""
        mode = bq_pb.FULL_RUN if run.plan.mode == RunMode.FULL_RUN else bq_pb.DRY_RUN
        attempt = bq_pb.Attempt(
            key=run.attempt_key,
            luci_project=self.project.name,
            status=bq_pb.STARTED,
            gerrit_changes=[
                bq_pb.GerritChange(
                    host=self.project.host,
                    project=gerrit_project,
                    change=change,
                    patchset=patchset,
                    mode=mode,
                )
                for change, patchset, gerrit_project in RunCL.objects.filter(run_id=run.id)
                .order_by("position")
                .values_list("cl__change", "patchset", "gerrit_project")
            ],
        )
        attempt.start_time.CopyFrom(to_timestamp(clock.now()))
        return attempt

    def conclude(self, run: _Run) -> Callable[[], None]:
        """CQDaemon's builds are done: it reports its verdict, or (in charge) finishes."""

        def conclude() -> None:
            if run.verifier == CQDAEMON_IN_CHARGE:
                if not run.ended_by_cqdaemon:
                    self.finish(run)
                return
            reported = self.attempts.pop(run.attempt_key, None)
            if reported is None:
                return  # cancelled before the verdict; vanished() let it go
            self.verify(run, reported)

        return conclude

    def verify(self, run: _Run, reported: migration_pb.ReportedRun) -> None:
        story, mode = run.plan.story, run.plan.mode
        Action = migration_pb.ReportVerifiedRunRequest.Action
        if story.passes:
            action = Action.ACTION_SUBMIT if mode == RunMode.FULL_RUN else Action.ACTION_DRY_RUN_OK
            reported.attempt.status, message = bq_pb.SUCCESS, ""
        else:
            action, reported.attempt.status = Action.ACTION_FAIL, bq_pb.FAILURE
            message = f"This CL has failed the run. Reason:\n\n{_failure_of(story)}"
        reported.attempt.end_time.CopyFrom(to_timestamp(clock.now()))
        if run.plan.last_moment == "submitting":
            self.world.arm_submission_failure(run)
        self.call(
            "ReportVerifiedRun",
            migration_pb.ReportVerifiedRunRequest(
                run=reported, action=action, final_message=message
            ),
        )
        if run.plan.last_moment:
            self.world.hold_tasks(run.plan.last_moment)

    def finish(self, run: _Run) -> None:
        """CQDaemon in charge ends its attempt: in Gerrit (submitting a passed full run, or
        removing the votes with a message), then tells cvsite."""
        reported = self.attempts.pop(run.attempt_key, None) or migration_pb.ReportedRun(
            id=run.id, attempt=self.attempt_of(run)
        )
        attempt = reported.attempt
        story = run.plan.story
        gerrit = self.world.gerrits[self.project.host]
        if story.cancel_after is not None:
            attempt.status = bq_pb.ABORTED
        elif story.passes:
            attempt.status = bq_pb.SUCCESS
            if run.plan.mode == RunMode.FULL_RUN:
                with client_for_host(self.project.host) as client:
                    for gc in attempt.gerrit_changes:
                        revision = gerrit.change(gc.change)["current_revision"]
                        client.submit(gc.change, revision, project=gc.project)
                        gc.submit_status = SUBMITTED
        else:
            attempt.status = bq_pb.FAILURE
            for change in run.plan.changes:
                gerrit.vote(change.number, "Commit-Queue", 0, voter=_gerrit_account(change.owner))
                gerrit.add_message(change.number, _failure_of(story), author=CQ_BOT)
        attempt.end_time.CopyFrom(to_timestamp(clock.now()))
        run.ended_by_cqdaemon = True
        self.call("ReportFinishedRun", migration_pb.ReportFinishedRunRequest(run=reported))
        self.report_runs()

    def finish_attempt_cvsite_never_saw(self) -> None:
        """An attempt CQDaemon in charge ran on a CL cvsite has no run for (the project's
        first change, which no run of the script uses), aborted."""
        attempt = bq_pb.Attempt(
            key="0123456789abcdef",
            luci_project=self.project.name,
            status=bq_pb.ABORTED,
            gerrit_changes=[
                bq_pb.GerritChange(
                    host=self.project.host,
                    project=self.project.gerrit_project,
                    change=self.project.first_change,
                    patchset=1,
                    mode=bq_pb.DRY_RUN,
                )
            ],
        )
        attempt.start_time.CopyFrom(to_timestamp(clock.now() - timedelta(minutes=30)))
        attempt.end_time.CopyFrom(to_timestamp(clock.now()))
        self.call(
            "ReportFinishedRun",
            migration_pb.ReportFinishedRunRequest(run=migration_pb.ReportedRun(attempt=attempt)),
        )


def _failure_of(story: Story) -> str:
    for attempts in story.builds.values():
        last = attempts[-1]
        if isinstance(last, LaunchFails):
            return f"Failed to launch a tryjob: {last.message}"
        if last.result != Build().result:
            return last.summary or "A tryjob failed."
    return "A tryjob failed."
