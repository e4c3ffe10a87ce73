"""The demo's script: who works on which projects, which builders verify them, and the stories
runs go through. Data only; importers.demo plays it through the service's own code.

Most runs are drawn by a seeded random generator from weighted story templates, so the script
stays short and the same `now` always gives the same runs. A few fixed runs in the last hour
are still running at `now`, or in a state that lasts only moments (PENDING,
WAITING_FOR_SUBMISSION, SUBMITTING).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from runs.models import RunMode

Definition = tryjob_pb.Definition
Result = tryjob_pb.Result
RetryConfig = config_pb2.Verifiers.Tryjob.RetryConfig

SEED = 20240309
HISTORY = timedelta(days=4)
BUILDBUCKET_HOST = "cr-buildbucket.appspot.com"
# Hosts under the reserved .invalid domain (RFC 6761): nothing the demo leaves behind (a
# submission the task worker picks up after seeding, say) can ever reach a real Gerrit.
GERRIT_DOMAIN = "review.demo.invalid"
# The commit-queue.cfg of each cvsite-verified project, imported as its config (source
# "demo:<file>"); the runs it starts get their requirement from it, as the service's do.
CONFIGS = Path(__file__).resolve().parent / "demo_configs"
CONFIG_SOURCE_PREFIX = "demo:"
# The LUCI groups the configs name, and who is in them (projectconfig.groups).
GROUPS_FILE = "groups.json"
GROUPS_SOURCE = f"{CONFIG_SOURCE_PREFIX}importers/demo_configs/{GROUPS_FILE}"


@dataclass(frozen=True)
class Account:
    name: str
    email: str
    account_id: int


ALICE = Account("Alice Example", "alice@example.com", 1_000_101)
BOB = Account("Bob Example", "bob@example.com", 1_000_102)
CAROL = Account("Carol Example", "carol@example.com", 1_000_103)
DAVE = Account("Dave Example", "dave@example.com", 1_000_104)
ERIN = Account("Erin Example", "erin@example.com", 1_000_105)
FRANK = Account("Frank Example", "frank@example.com", 1_000_106)
GRACE = Account("Grace Example", "grace@example.com", 1_000_107)
AUTOROLLER = Account("Skia Autoroller", "skia-autoroll@example.iam.gserviceaccount.com", 1_000_200)


@dataclass(frozen=True)
class Builder:
    project: str
    name: str
    minutes: float  # typical duration of a build
    bucket: str = "try"
    disable_reuse: bool = False
    critical: bool = True

    def definition(self) -> Definition:
        msg = Definition(disable_reuse=self.disable_reuse, critical=self.critical)
        msg.buildbucket.host = BUILDBUCKET_HOST
        builder = msg.buildbucket.builder
        builder.project, builder.bucket, builder.builder = self.project, self.bucket, self.name
        return msg


# Who verifies a project's runs, and how CQDaemon takes part (runs.models.Verifier).
CVSITE = "cvsite"  # cvsite's executor launches tryjobs through the (fake) backend
CQDAEMON_VERIFIES = "cqdaemon"  # CQDaemon fetches the runs and reports verdicts (ReportVerifiedRun)
CQDAEMON_IN_CHARGE = "cqdaemon-in-charge"  # CQDaemon finalizes runs itself (ReportFinishedRun)


@dataclass(frozen=True)
class Project:
    name: str
    host_prefix: str
    gerrit_project: str
    first_change: int
    authors: tuple[Account, ...]
    subjects: tuple[str, ...]
    files: tuple[str, ...]
    # The requirement of dry and full runs: what its config (`config`) gives them.
    builders: tuple[Builder, ...]
    modes: tuple[tuple[str, int], ...]  # (mode, weight)
    share: int  # of the generated runs
    verifier: str
    retry: tuple[int, int, int, int, int]  # single, global, failure, transient, timeout weight
    quick_builders: tuple[Builder, ...] = ()
    new_patchset_builders: tuple[Builder, ...] = ()
    # (days before now, verifier): who verifies from then on; CQDaemon before the first switch.
    switches: tuple[tuple[float, str], ...] = ()
    config: str = ""  # its commit-queue.cfg in CONFIGS, if it has one

    @property
    def config_source(self) -> str:
        return f"{CONFIG_SOURCE_PREFIX}importers/demo_configs/{self.config}"

    def config_text(self) -> str:
        return (CONFIGS / self.config).read_text()

    @property
    def host(self) -> str:
        return f"{self.host_prefix}-{GERRIT_DOMAIN}"

    def builders_for(self, mode: str) -> tuple[Builder, ...]:
        if mode == RunMode.QUICK_DRY_RUN:
            return self.quick_builders
        if mode == RunMode.NEW_PATCHSET_RUN:
            return self.new_patchset_builders
        return self.builders

    def requirement(self, mode: str, *, without_last: bool = False) -> tryjob_pb.Requirement:
        """The requirement of a run in `mode`, as its config gives it (a test holds them
        together; `without_last`: once an operator dropped the last of its builders)."""
        single, global_, failure, transient, timeout = self.retry
        builders = self.builders_for(mode)[: -1 if without_last else None]
        msg = tryjob_pb.Requirement(definitions=[b.definition() for b in builders])
        msg.retry_config.CopyFrom(
            RetryConfig(
                single_quota=single,
                global_quota=global_,
                failure_weight=failure,
                transient_failure_weight=transient,
                timeout_weight=timeout,
            )
        )
        return msg


def _b(project: str, name: str, minutes: float, **kwargs) -> Builder:
    return Builder(project, name, minutes, **kwargs)


CR_PRESUBMIT = _b("chromium", "linux-presubmit", 9, disable_reuse=True)
CR_LINUX = _b("chromium", "linux-rel", 38)
CR_WIN = _b("chromium", "win-rel", 52)
CR_ANDROID = _b("chromium", "android-arm64-rel", 44)
CR_CLANG_TIDY = _b("chromium", "tricium-clang-tidy", 18, disable_reuse=True)
ANGLE_PRESUBMIT = _b("angle", "presubmit", 6, disable_reuse=True)
ANGLE_LINUX = _b("angle", "angle-cq-linux-x64-rel", 25)
ANGLE_WIN = _b("angle", "angle-cq-win-x64-rel", 35)
ANGLE_MAC = _b("angle", "angle-cq-mac-arm64-rel", 30)

PROJECTS: tuple[Project, ...] = (
    Project(
        "chromium",
        "chromium",
        "chromium/src",
        9_900_101,
        (ALICE, BOB, CAROL, GRACE, AUTOROLLER),
        (
            "Add tab group metrics to TabStripModel",
            "Fix use-after-free in PasswordFormManager on form removal",
            "Migrate SyncService observers to base::ScopedObservation",
            "Enable PartitionAlloc BackupRefPtr in renderer processes",
            "Add histogram for omnibox suggestion latency",
            "Refactor NetworkContextParams construction",
            "Roll Skia from 1f2e3d4c5b6a to 6a5b4c3d2e1f (7 revisions)",
        ),
        ("chrome/browser/ui/tabs/tab_strip_model.cc", "components/sync/service/sync_service.cc"),
        (CR_PRESUBMIT, CR_LINUX, CR_WIN, CR_ANDROID),
        ((RunMode.DRY_RUN, 5), (RunMode.FULL_RUN, 4), (RunMode.NEW_PATCHSET_RUN, 1)),
        share=11,
        verifier=CVSITE,
        retry=(1, 2, 1, 1, 2),
        new_patchset_builders=(CR_CLANG_TIDY,),
        switches=((HISTORY.days + 1, CVSITE),),
        config="chromium.cfg",
    ),
    Project(
        "angle",
        "chromium",
        "angle/angle",
        9_900_901,
        (DAVE, GRACE),
        (
            "Vulkan: Fix descriptor set cache leak on context loss",
            "Metal: Use MTLHeap for transient render targets",
            "GL: Validate sampler parameters in glSamplerParameteriv",
        ),
        ("src/libANGLE/renderer/vulkan/vk_helpers.cpp",),
        (ANGLE_PRESUBMIT, ANGLE_LINUX, ANGLE_WIN, ANGLE_MAC),
        ((RunMode.DRY_RUN, 3), (RunMode.FULL_RUN, 3), (RunMode.QUICK_DRY_RUN, 2)),
        share=5,
        verifier=CVSITE,
        retry=(1, 2, 100, 1, 100),
        quick_builders=(ANGLE_PRESUBMIT, ANGLE_LINUX),
        # CQDaemon verified angle until an operator moved it to cvsite two days ago.
        switches=((2, CVSITE),),
        config="angle.cfg",
    ),
    Project(
        "webrtc",
        "webrtc",
        "src",
        990_301,
        (ERIN, GRACE),
        (
            "Add RTCP XR receiver reference time reports to video receive stream",
            "Use absl::AnyInvocable for TaskQueue closures in the pacer",
            "Fix AEC3 filter divergence on sample rate change",
        ),
        ("modules/pacing/task_queue_paced_sender.cc",),
        (),
        ((RunMode.DRY_RUN, 1), (RunMode.FULL_RUN, 1)),
        share=4,
        verifier=CQDAEMON_VERIFIES,
        retry=(1, 2, 1, 1, 2),
    ),
    Project(
        "pdfium",
        "pdfium",
        "pdfium",
        199_401,
        (FRANK,),
        (
            "Fix integer overflow in CPDF_DIB::LoadState",
            "Simplify CFX_Font glyph cache lookup",
            "Make CPDF_Parser::ParseIndirectObject iterative",
        ),
        ("core/fpdfapi/parser/cpdf_parser.cpp",),
        (),
        ((RunMode.DRY_RUN, 1), (RunMode.FULL_RUN, 1)),
        share=3,
        verifier=CQDAEMON_IN_CHARGE,
        retry=(1, 2, 1, 1, 2),
    ),
)
PROJECT_BY_NAME = {p.name: p for p in PROJECTS}
DEMO_PROJECTS = tuple(PROJECT_BY_NAME)
DEMO_HOSTS = tuple(sorted({p.host for p in PROJECTS}))


# How one build ends. `minutes` None: the builder's typical time, give or take a fifth.
@dataclass(frozen=True)
class Build:
    result: int = Result.SUCCEEDED
    minutes: float | None = None
    summary: str = ""


@dataclass(frozen=True)
class LaunchFails:
    """Buildbucket refuses this attempt's launch (a gRPC code it is not retried on)."""

    code: int
    message: str


Attempt = Build | LaunchFails

_BOT_DIED = "Infra Failure: the swarming bot died while running `browser_tests`."
_COMPILE = "Compile failure:\n\n```\nerror: no member named 'AddObserver' in 'SyncService'\n```"
_TEST = "1 test failed:\n\n* `gpu_tests` (`WebglConformance_deqp_functional_gles3`)"
_TIMED_OUT = "Build timed out after 1h10m in `content_browsertests`."
PERMISSION_DENIED = 7


@dataclass(frozen=True)
class Story:
    """What happens to a run: how the builds of some of its builders end (by position in the
    requirement, attempt after attempt; the last attempt repeats), whether its owner removes
    the vote (`cancel_after` minutes after the trigger), and whether an operator drops a
    builder from its requirement while it runs (`config_change_after`), as a config change
    would."""

    name: str
    weight: int
    builds: dict[int, tuple[Attempt, ...]] = field(default_factory=dict)
    cancel_after: float | None = None
    config_change_after: float | None = None

    def attempt(self, position: int, number: int) -> Attempt:
        attempts = self.builds.get(position, (Build(),))
        return attempts[min(number, len(attempts) - 1)]

    @property
    def passes(self) -> bool:
        return self.cancel_after is None and all(
            isinstance(a[-1], Build) and a[-1].result == Result.SUCCEEDED
            for a in self.builds.values()
        )


STORIES: tuple[Story, ...] = (
    Story("passes", 12),
    Story("flaky, retried", 3, {1: (Build(Result.FAILED_TRANSIENTLY, 12, _BOT_DIED), Build())}),
    Story("breaks the build", 3, {2: (Build(Result.FAILED_PERMANENTLY, 20, _COMPILE),)}),
    Story("fails a test", 2, {1: (Build(Result.FAILED_PERMANENTLY, None, _TEST),)}),
    Story("times out", 1, {3: (Build(Result.TIMEOUT, 70, _TIMED_OUT),)}),
    Story("out of retries", 1, {1: (Build(Result.FAILED_TRANSIENTLY, 9, _BOT_DIED),)}),
    Story(
        "cannot launch",
        1,
        {2: (LaunchFails(PERMISSION_DENIED, "the project may not use this builder"),)},
    ),
    Story(
        "retry cannot launch",
        1,
        {
            1: (
                Build(Result.FAILED_TRANSIENTLY, 15, _BOT_DIED),
                LaunchFails(PERMISSION_DENIED, 'too many builds in flight for bucket "try"'),
            )
        },
    ),
    Story("vote removed", 2, cancel_after=7),
    Story("config drops a builder", 1, config_change_after=5),
)
STORY_BY_NAME = {s.name: s for s in STORIES}


@dataclass(frozen=True)
class Change:
    """A Gerrit change of the demo: uploaded `patchsets` times, the last `uploaded` ago."""

    number: int
    owner: Account
    subject: str
    files: tuple[str, ...]
    patchsets: int = 1
    trivial_rebase: bool = False  # the last patchset is a rebase of the one before
    parent: int | None = None  # a change it is stacked on: a HARD dependency in a run


@dataclass(frozen=True)
class RunPlan:
    """One run to play: triggered at `trigger` on `changes` (dependencies first).

    `then_full_run` adds a full run on the same changes after this one: `(minutes after
    this trigger, cancel this one)`; its tryjobs are reused where they can be.
    """

    key: str
    project: Project
    mode: str
    changes: tuple[Change, ...]
    trigger: datetime
    story: Story
    then_full_run: tuple[float, bool] | None = None
    # Plays in the last seconds before `now`, after which tasks are left to the worker:
    # "submitting" and "waiting" (CQDaemon's SUBMIT verdict, then one submission attempt or
    # none), "pending" (triggered, not yet started).
    last_moment: str = ""


def plan_runs(now: datetime, count: int) -> list[RunPlan]:
    """`count` runs drawn from the stories, spread over HISTORY before `now`, plus the fixed
    runs of the last hour. Deterministic for a given `now`."""
    rng = random.Random(SEED)
    numbers = {p.name: p.first_change for p in PROJECTS}
    projects = [p for p in PROJECTS for _ in range(p.share)]
    weights = [s.weight for s in STORIES]
    # Not in the last half hour, where the fixed runs play, nor around a verifier switch.
    start, end = now - HISTORY, now - timedelta(minutes=30)
    plans = []
    while len(plans) < count:
        project = rng.choice(projects)
        trigger = start + (end - start) * rng.random()
        trigger = trigger.replace(microsecond=0)
        if any(
            timedelta(0) <= now - timedelta(days=days) - trigger < timedelta(hours=3)
            for days, _ in project.switches
        ):
            continue
        modes, mode_weights = zip(*project.modes, strict=True)
        mode = rng.choices(modes, mode_weights)[0]
        story = rng.choices(STORIES, weights)[0]
        stack = 1 if mode == RunMode.NEW_PATCHSET_RUN else rng.choice((1, 1, 1, 1, 2, 3))
        changes = [
            (
                rng.choice(project.authors),
                rng.choice(project.subjects),
                rng.choice((1, 1, 2, 3)),
                rng.random() < 0.2,
            )
            for _ in range(stack)
        ]
        then_full_run = None
        if mode == RunMode.DRY_RUN and story.passes and rng.random() < 0.3:
            # A dry run, then the full run: after it passed, or upgraded while it runs.
            then_full_run = rng.choice(((75.0, False), (8.0, True)))
        plans.append(
            RunPlan(
                f"{project.name}-{len(plans):03d}",
                project,
                mode,
                _stack(project, numbers, changes),
                trigger,
                story,
                then_full_run,
            )
        )
    plans.extend(_recent_runs(now, numbers))
    return sorted(plans, key=lambda p: (p.trigger, p.key))


# The runs of the last hour: (key, project, mode, seconds before `now`, (owner, subject) of
# each change, stacked in order, story, last moment).
RECENT_RUNS = (
    # Still running at `now`: builds in flight, a retry, CQDaemon at work.
    (
        "chromium-running",
        "chromium",
        RunMode.FULL_RUN,
        25 * 60,
        ((ALICE, "Extract ProfilePickerViewModel"), (ALICE, "Use ProfilePickerViewModel")),
        "passes",
        "",
    ),
    (
        "chromium-retrying",
        "chromium",
        RunMode.DRY_RUN,
        50 * 60,
        ((CAROL, "Add tast coverage for launcher search ranking"),),
        "flaky, retried",
        "",
    ),
    (
        "angle-running",
        "angle",
        RunMode.QUICK_DRY_RUN,
        12 * 60,
        ((DAVE, "Vulkan: Skip redundant barriers for read-only attachments"),),
        "passes",
        "",
    ),
    (
        "webrtc-running",
        "webrtc",
        RunMode.DRY_RUN,
        15 * 60,
        ((ERIN, "Use absl::AnyInvocable in the pacer"),),
        "passes",
        "",
    ),
    # CQDaemon's verdict came a moment ago: the worker submits them after seeding.
    (
        "webrtc-submitting",
        "webrtc",
        RunMode.FULL_RUN,
        25 * 60,
        (
            (ERIN, "Remove deprecated VideoEncoderFactory::QueryVideoEncoder"),
            (ERIN, "Use the new encoder factory"),
        ),
        "passes",
        "submitting",
    ),
    (
        "webrtc-waiting",
        "webrtc",
        RunMode.FULL_RUN,
        20 * 60,
        ((GRACE, "Fix AEC3 filter divergence on sample rate change"),),
        "passes",
        "waiting",
    ),
    # Voted on seconds ago: not started yet.
    (
        "chromium-pending",
        "chromium",
        RunMode.DRY_RUN,
        8,
        ((BOB, "Speculative fix for flaky TabDragging browser test"),),
        "passes",
        "pending",
    ),
    (
        "webrtc-pending",
        "webrtc",
        RunMode.DRY_RUN,
        4,
        ((ERIN, "Add a field trial for the new pacer"),),
        "passes",
        "pending",
    ),
)


def _recent_runs(now: datetime, numbers: dict[str, int]) -> list[RunPlan]:
    plans = []
    for key, name, mode, seconds, changes, story, last_moment in RECENT_RUNS:
        project = PROJECT_BY_NAME[name]
        plans.append(
            RunPlan(
                key,
                project,
                mode,
                _stack(
                    project, numbers, [(owner, subject, 1, False) for owner, subject in changes]
                ),
                now - timedelta(seconds=seconds),
                STORY_BY_NAME[story],
                last_moment=last_moment,
            )
        )
    return plans


def _stack(
    project: Project, numbers: dict[str, int], changes: list[tuple[Account, str, int, bool]]
) -> tuple[Change, ...]:
    """New changes of `project`, each stacked on the one before: (owner, subject, patchsets,
    whether the last patchset is a trivial rebase) each."""
    stack: list[Change] = []
    for owner, subject, patchsets, trivial_rebase in changes:
        numbers[project.name] += 1
        stack.append(
            Change(
                numbers[project.name],
                owner,
                subject,
                project.files,
                patchsets=patchsets,
                trivial_rebase=trivial_rebase,
                parent=stack[-1].number if stack else None,
            )
        )
    return tuple(stack)
