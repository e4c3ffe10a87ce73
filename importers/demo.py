"""A living demo of cvsite: projects, CLs, runs, tryjobs, execution states and CQDaemon reports.

`seed_demo(now)` replays a short script of what happened to each Run (who voted, which builds ran
and how they ended) through the code paths the service itself uses, so every row is one cvsite
could have written:

* run IDs and attempt keys come from runs.ids; CL snapshots, run CLs and CQDaemon reports are
  built as protobuf messages and stored through runs.serializers;
* tryjob statuses and results come from Buildbucket statuses (tryjobs.buildbucket_status), and
  tryjob rows, execution states and log entries are stored through tryjobs.serializers;
* a small replay of the executor (tryjob_semantics.md §3, §4, §6) decides what happens when a
  build ends: retries charge quota by the project's RetryConfig, a denied retry or a failed
  launch fails the state, every pass saves the state and appends its log entries with the state
  version it produced. A story that contradicts the rules raises DemoStoryError.

Deterministic: times are fixed offsets before `now` (whole seconds) and jitter comes from a fixed
seed, so the same `now` gives the same rows and run IDs. Idempotent: the demo's CLs (fixed hosts
and change numbers) mark it; when they exist nothing is written. `reset=True` first deletes the
rows of a previous demo (and only those).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import InvalidToken
from django.db import transaction
from django.db.models import Q, QuerySet

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.buildbucket.v2 import builder_common_pb2
from cvproto.buildbucket.v2 import common_pb2 as bb_pb
from cvproto.cq.recipe import cq_pb2
from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.gerrit import gerrit_pb2
from cvproto.migration import migration_pb2 as migration_pb
from cvproto.times import to_timestamp
from runs.ids import AttemptKeyCL, RunID, attempt_key
from runs.models import (
    CL,
    FinishedCQDRun,
    NetrcToken,
    ReportedRun,
    ReportedRunsSnapshot,
    Run,
    RunCL,
    RunCLDep,
    RunMode,
    RunStatus,
    VerifiedCQDRun,
    VerifyAction,
)
from runs.serializers import (
    attempt_from_row,
    change_snapshot_columns,
    mode_to_bigquery,
    reported_run_columns,
    run_cl_rows,
    set_served_message,
    verified_run_row,
)
from tryjobs.buildbucket_status import parse_cq_output, tryjob_status_from_build
from tryjobs.external_id import buildbucket_external_id, external_id_url, reuse_key
from tryjobs.models import (
    Execution,
    ExecutionAttempt,
    ExecutionLogEntry,
    ExecutionState,
    ExecutionStatus,
    LaunchFailure,
    Tryjob,
    TryjobCLPatchset,
    TryjobStatus,
    UnsuccessfulResult,
)
from tryjobs.serializers import log_entry_row, save_execution_state, tryjob_columns

__all__ = ["DEMO_CHANGES", "DemoStoryError", "DemoSummary", "demo_querysets", "seed_demo"]

Definition = tryjob_pb.Definition
Result = tryjob_pb.Result
State = tryjob_pb.ExecutionState
LogEntry = tryjob_pb.ExecutionLogEntry
Snapshot = LogEntry.TryjobSnapshot
RetryConfig = config_pb2.Verifiers.Tryjob.RetryConfig

BUILDBUCKET_HOST = "cr-buildbucket.appspot.com"
RESULTDB_HOST = "results.api.cr.dev"
DEMO_SEED = 20240309
DEMO_TOKEN_PREFIX = "fake-demo-token-"
REUSE_FRESHNESS = timedelta(hours=24)
DISCARD_REASON = "Tryjob is no longer required in Project Config"
# Buildbucket build IDs embed the inverted creation time in ms since 2010 (newer = smaller).
_BUILDBUCKET_EPOCH = datetime(2010, 1, 1, tzinfo=UTC)

REWORK = gerrit_pb2.RevisionInfo.REWORK
TRIVIAL_REBASE = gerrit_pb2.RevisionInfo.TRIVIAL_REBASE
NO_CODE_CHANGE = gerrit_pb2.RevisionInfo.NO_CODE_CHANGE
_EQUIVALENT_KINDS = (TRIVIAL_REBASE, NO_CODE_CHANGE, gerrit_pb2.RevisionInfo.NO_CHANGE)
_STICKY_LABELS = ("Code-Review",)  # sticky across code-equivalent patchsets; CQ votes are not


class DemoStoryError(AssertionError):
    """The demo script contradicts CV's rules (a bug in this module, not in the data)."""


# People, projects, builders -------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    name: str
    email: str
    account_id: int

    def info(self, *, with_email: bool = True) -> gerrit_pb2.AccountInfo:
        return gerrit_pb2.AccountInfo(
            account_id=self.account_id, email=self.email if with_email else ""
        )


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
    bucket: str
    name: str
    minutes: float  # typical duration of a build
    disable_reuse: bool = False
    critical: bool = True
    optional: bool = False
    equivalent: tuple[str, str, str] | None = None  # (project, bucket, name)

    @property
    def id(self) -> str:
        return f"{self.project}/{self.bucket}/{self.name}"

    def builder_id(self, *, equivalent: bool = False) -> builder_common_pb2.BuilderID:
        project, bucket, name = (
            self.equivalent if equivalent else (self.project, self.bucket, self.name)
        )
        return builder_common_pb2.BuilderID(project=project, bucket=bucket, builder=name)

    def definition(self) -> Definition:
        msg = Definition(
            disable_reuse=self.disable_reuse, critical=self.critical, optional=self.optional
        )
        msg.buildbucket.host = BUILDBUCKET_HOST
        msg.buildbucket.builder.CopyFrom(self.builder_id())
        if self.equivalent:
            msg.equivalent_to.buildbucket.host = BUILDBUCKET_HOST
            msg.equivalent_to.buildbucket.builder.CopyFrom(self.builder_id(equivalent=True))
        return msg


@dataclass(frozen=True)
class DemoProject:
    name: str
    gerrit_host: str
    gerrit_project: str
    config_group: str
    retry: tuple[int, int, int, int, int]  # single, global, failure, transient, timeout
    builders: tuple[Builder, ...]  # the requirement of dry and full runs
    quick_builders: tuple[Builder, ...] = ()

    @property
    def bot(self) -> Account:
        return Account(
            "LUCI CQ",
            f"{self.name}-scoped@luci-project-accounts.iam.gserviceaccount.com",
            1_000_900 + sorted(PROJECT_NAMES).index(self.name),
        )

    def retry_config(self) -> RetryConfig:
        single, global_, failure, transient, timeout = self.retry
        return RetryConfig(
            single_quota=single,
            global_quota=global_,
            failure_weight=failure,
            transient_failure_weight=transient,
            timeout_weight=timeout,
        )


def _b(project: str, name: str, minutes: float, bucket: str = "try", **kwargs) -> Builder:
    return Builder(project, bucket, name, minutes, **kwargs)


# Builders and retry configs as in /work/shared/data/<project>-commit-queue.cfg.
CR_PRESUBMIT = _b("chromium", "linux-presubmit", 9, disable_reuse=True)
CR_LINUX = _b("chromium", "linux-rel", 38)
CR_WIN = _b("chromium", "win-rel", 52)
CR_ANDROID = _b("chromium", "android-arm64-rel", 44)
CR_MAC = _b("chromium", "mac-rel", 47)
# equivalent_to with percentage 100 and an owner allowlist: for allowed owners the definition
# is flipped (main = the config's equivalent), tryjob_semantics.md §2.2 step 8.
CR_CROS = _b(
    "chromium",
    "chromeos-amd64-generic-rel-gtest-and-tast",
    31,
    equivalent=("chromium", "try", "chromeos-amd64-generic-rel-gtest"),
)
CR_TEST_SELECTION = _b(
    "chromium", "linux-rel-test-selection", 35, critical=False, optional=True
)  # experiment_percentage 10
CR_CLANG_TIDY = _b(
    "chromium", "tricium-clang-tidy", 18, disable_reuse=True, critical=False, optional=True
)  # mode_allowlist NEW_PATCHSET_RUN, experiment_percentage 100

ANGLE_PRESUBMIT = _b("angle", "presubmit", 6, disable_reuse=True)
ANGLE_LINUX = _b("angle", "angle-cq-linux-x64-rel", 25)
ANGLE_WIN = _b("angle", "angle-cq-win-x64-rel", 35)
ANGLE_MAC = _b("angle", "angle-cq-mac-arm64-rel", 30)
ANGLE_ANDROID = _b("angle", "angle-cq-android-arm64-rel", 40)

WEBRTC_PRESUBMIT = _b("webrtc", "presubmit", 5, disable_reuse=True)
WEBRTC_LINUX = _b("webrtc", "linux_rel", 22)
WEBRTC_MAC = _b("webrtc", "mac_rel", 28)
WEBRTC_WIN = _b("webrtc", "win_x64_clang_rel", 31)
WEBRTC_ANDROID = _b("webrtc", "android_arm_rel", 26)
WEBRTC_INTERNAL = _b(
    "webrtc-internal", "internal_compile_lite", 18, bucket="g3.webrtc-internal.try"
)

PDFIUM_PRESUBMIT = _b("pdfium", "pdfium_presubmit", 4, disable_reuse=True)
PDFIUM_LINUX = _b("pdfium", "linux", 14)
PDFIUM_MAC = _b("pdfium", "mac", 18)
PDFIUM_WIN = _b("pdfium", "win", 21)
PDFIUM_ANDROID = _b("pdfium", "android", 16)

PROJECTS: dict[str, DemoProject] = {
    p.name: p
    for p in (
        DemoProject(
            "chromium",
            "chromium-review.googlesource.com",
            "chromium/src",
            "cq",
            (1, 2, 1, 1, 2),
            (CR_PRESUBMIT, CR_LINUX, CR_WIN, CR_ANDROID, CR_MAC),
        ),
        DemoProject(
            "angle",
            "chromium-review.googlesource.com",
            "angle/angle",
            "main",
            (1, 2, 100, 1, 100),
            (ANGLE_PRESUBMIT, ANGLE_LINUX, ANGLE_WIN, ANGLE_MAC, ANGLE_ANDROID),
            quick_builders=(ANGLE_PRESUBMIT, ANGLE_LINUX),
        ),
        DemoProject(
            "webrtc",
            "webrtc-review.googlesource.com",
            "src",
            "cq",
            (1, 2, 1, 1, 2),
            (
                WEBRTC_PRESUBMIT,
                WEBRTC_LINUX,
                WEBRTC_MAC,
                WEBRTC_WIN,
                WEBRTC_ANDROID,
                WEBRTC_INTERNAL,
            ),
        ),
        DemoProject(
            "pdfium",
            "pdfium-review.googlesource.com",
            "pdfium",
            "pdfium",
            (1, 2, 1, 1, 2),
            (PDFIUM_PRESUBMIT, PDFIUM_LINUX, PDFIUM_MAC, PDFIUM_WIN, PDFIUM_ANDROID),
        ),
    )
}
PROJECT_NAMES = tuple(PROJECTS)


# The script: CLs ------------------------------------------------------------------------------
# Times are minutes before `now`. Change numbers are above what the real hosts have reached, so
# the demo's links lead nowhere rather than to someone else's change.


@dataclass(frozen=True)
class CLDef:
    key: str
    project: str
    change: int
    owner: Account
    subject: str
    files: tuple[str, ...]
    patchsets: tuple[tuple[float, int], ...]  # (minutes ago, RevisionInfo.Kind), oldest first
    parent: str = ""  # git parent (a CL key): HARD dep; its ancestors are SOFT deps
    cq_depend: tuple[str, ...] = ()  # Cq-Depend footer (CL keys): SOFT deps
    votes: tuple[tuple[float, str, Account, int], ...] = ()  # (minutes ago, label, who, value)
    bug: int = 0


CL_DEFS: tuple[CLDef, ...] = (
    CLDef(
        "C1",
        "chromium",
        9_900_101,
        ALICE,
        "Add tab group metrics to TabStripModel",
        (
            "chrome/browser/ui/tabs/tab_group_metrics.cc",
            "chrome/browser/ui/tabs/tab_group_metrics.h",
            "chrome/browser/ui/tabs/tab_strip_model.cc",
            "tools/metrics/histograms/metadata/tab/histograms.xml",
        ),
        ((420, REWORK), (310, REWORK), (70, TRIVIAL_REBASE)),
        votes=((66, "Code-Review", BOB, 1),),
        bug=40_912_301,
    ),
    CLDef(
        "C2",
        "chromium",
        9_900_102,
        BOB,
        "Fix use-after-free in PasswordFormManager on form removal",
        (
            "components/password_manager/core/browser/password_form_manager.cc",
            "components/password_manager/core/browser/password_form_manager_unittest.cc",
        ),
        ((230, REWORK),),
        votes=((215, "Code-Review", ALICE, 1),),
        bug=40_912_302,
    ),
    CLDef(
        "C3a",
        "chromium",
        9_900_103,
        ALICE,
        "Extract ProfilePickerViewModel from ProfilePickerHandler",
        (
            "chrome/browser/ui/webui/signin/profile_picker_handler.cc",
            "chrome/browser/ui/webui/signin/profile_picker_view_model.cc",
            "chrome/browser/ui/webui/signin/profile_picker_view_model.h",
        ),
        ((95, REWORK), (41, TRIVIAL_REBASE)),
        votes=((37, "Code-Review", BOB, 1),),
        bug=40_912_303,
    ),
    CLDef(
        "C3b",
        "chromium",
        9_900_104,
        ALICE,
        "Use ProfilePickerViewModel in ProfilePickerView",
        (
            "chrome/browser/ui/views/profiles/profile_picker_view.cc",
            "chrome/browser/ui/views/profiles/profile_picker_view.h",
        ),
        ((94, REWORK), (40, REWORK)),
        parent="C3a",
        votes=((37, "Code-Review", BOB, 1),),
        bug=40_912_303,
    ),
    CLDef(
        "C3c",
        "chromium",
        9_900_105,
        ALICE,
        "Remove the legacy ProfilePickerHandler code path",
        ("chrome/browser/ui/webui/signin/profile_picker_handler.cc",),
        ((93, REWORK), (39, REWORK)),
        parent="C3b",
        votes=((37, "Code-Review", BOB, 1),),
        bug=40_912_303,
    ),
    CLDef(
        "C4",
        "chromium",
        9_900_106,
        CAROL,
        "Add tast coverage for launcher search ranking",
        (
            "chrome/browser/ash/app_list/search/ranking/ranker_manager.cc",
            "chrome/browser/ash/app_list/search/ranking/ranker_manager_unittest.cc",
        ),
        ((60, REWORK), (25, REWORK)),
        bug=40_912_304,
    ),
    CLDef(
        "C5",
        "chromium",
        9_900_107,
        AUTOROLLER,
        "Roll Skia from 1f2e3d4c5b6a to 6a5b4c3d2e1f (7 revisions)",
        ("DEPS",),
        ((152, REWORK),),
    ),
    CLDef(
        "C6",
        "chromium",
        9_900_108,
        ALICE,
        "Migrate SyncService observers to base::ScopedObservation",
        (
            "components/sync/service/sync_service_impl.cc",
            "chrome/browser/sync/sync_ui_util.cc",
        ),
        ((100, REWORK),),
        votes=((30, "Code-Review", GRACE, -1), (30, "Commit-Queue", GRACE, -1)),
        bug=40_912_306,
    ),
    CLDef(
        "C7",
        "chromium",
        9_900_109,
        BOB,
        "Enable PartitionAlloc BackupRefPtr in renderer processes",
        (
            "base/allocator/partition_alloc_features.cc",
            "content/renderer/renderer_main.cc",
        ),
        ((135, REWORK),),
        bug=40_912_307,
    ),
    CLDef(
        "C8",
        "chromium",
        9_900_110,
        ALICE,
        "Add histogram for omnibox suggestion latency",
        (
            "components/omnibox/browser/autocomplete_controller.cc",
            "tools/metrics/histograms/metadata/omnibox/histograms.xml",
        ),
        ((300, REWORK), (200, REWORK), (120, REWORK), (8, REWORK)),
        bug=40_912_308,
    ),
    CLDef(
        "C9",
        "chromium",
        9_900_111,
        BOB,
        "Speculative fix for flaky TabDragging browser test",
        ("chrome/browser/ui/views/tabs/tab_drag_controller_interactive_uitest.cc",),
        ((3, REWORK),),
        bug=40_912_309,
    ),
    CLDef(
        "C10",
        "chromium",
        9_900_112,
        ALICE,
        "Remove unused kLegacyTabSearch feature flag",
        ("chrome/browser/ui/ui_features.cc", "chrome/browser/ui/ui_features.h"),
        ((30, REWORK),),
        votes=((5, "Code-Review", BOB, 1),),
        bug=40_912_310,
    ),
    CLDef(
        "C11",
        "chromium",
        9_900_113,
        BOB,
        "Refactor NetworkContextParams construction",
        (
            "chrome/browser/net/system_network_context_manager.cc",
            "services/network/public/mojom/network_context.mojom",
        ),
        ((40, REWORK),),
        votes=((9, "Code-Review", ALICE, 1),),
        bug=40_912_311,
    ),
    CLDef(
        "C12",
        "chromium",
        9_900_114,
        GRACE,
        "Speed up DOMStorage shutdown by batching commits",
        ("components/services/storage/dom_storage/dom_storage_database.cc",),
        ((60, REWORK),),
        bug=40_912_312,
    ),
    CLDef(
        "C13",
        "chromium",
        9_900_115,
        ALICE,
        "Clean up DevTools protocol handler registration",
        ("content/browser/devtools/protocol/devtools_protocol_handler_registry.cc",),
        ((75, REWORK), (2, REWORK)),
        bug=40_912_313,
    ),
    CLDef(
        "C14",
        "chromium",
        9_900_116,
        BOB,
        "Add CHECK for null RenderFrameHost in NavigationRequest",
        ("content/browser/renderer_host/navigation_request.cc",),
        ((90, REWORK),),
        votes=((72, "Code-Review", ALICE, 1),),
        bug=40_912_314,
    ),
    CLDef(
        "C15a",
        "chromium",
        9_900_117,
        CAROL,
        "Add mojom interface for launcher search feedback",
        ("ash/public/mojom/launcher_search_feedback.mojom", "ash/public/mojom/BUILD.gn"),
        ((500, REWORK),),
        bug=40_912_315,
    ),
    CLDef(
        "C15b",
        "chromium",
        9_900_118,
        CAROL,
        "Implement launcher search feedback in the renderer",
        ("chrome/renderer/ash/launcher_search_feedback.cc",),
        ((498, REWORK),),
        cq_depend=("C15a",),
        bug=40_912_315,
    ),
    CLDef(
        "A1",
        "angle",
        9_900_201,
        DAVE,
        "Vulkan: Fix descriptor set cache leak on context loss",
        ("src/libANGLE/renderer/vulkan/vk_cache_utils.cpp",),
        ((250, REWORK),),
        bug=40_912_401,
    ),
    CLDef(
        "A2",
        "angle",
        9_900_202,
        DAVE,
        "Metal: Use MTLHeap for transient render targets",
        (
            "src/libANGLE/renderer/metal/mtl_resources.mm",
            "src/libANGLE/renderer/metal/mtl_resources.h",
        ),
        ((420, REWORK),),
        votes=((405, "Code-Review", GRACE, 1),),
        bug=40_912_402,
    ),
    CLDef(
        "A3",
        "angle",
        9_900_203,
        DAVE,
        "GL: Validate sampler parameters in glSamplerParameteriv",
        ("src/libANGLE/validationES3.cpp", "src/tests/gl_tests/SamplersTest.cpp"),
        ((70, REWORK),),
        votes=((62, "Code-Review", GRACE, 1),),
        bug=40_912_403,
    ),
    CLDef(
        "A4",
        "angle",
        9_900_204,
        DAVE,
        "Tests: Add end2end test for EXT_clip_control",
        ("src/tests/gl_tests/ClipControlTest.cpp",),
        ((110, REWORK),),
        bug=40_912_404,
    ),
    CLDef(
        "A5",
        "angle",
        9_900_205,
        DAVE,
        "Vulkan: Skip redundant barriers for read-only attachments",
        ("src/libANGLE/renderer/vulkan/vk_helpers.cpp",),
        ((18, REWORK),),
        bug=40_912_405,
    ),
    CLDef(
        "W1",
        "webrtc",
        990_301,
        ERIN,
        "Add RTCP XR receiver reference time reports to video receive stream",
        ("video/rtp_video_stream_receiver2.cc", "modules/rtp_rtcp/source/rtcp_receiver.cc"),
        ((60, REWORK),),
        bug=42_225_301,
    ),
    CLDef(
        "W2",
        "webrtc",
        990_302,
        ERIN,
        "Remove deprecated VideoEncoderFactory::QueryVideoEncoder",
        ("api/video_codecs/video_encoder_factory.h",),
        ((320, REWORK),),
        votes=((305, "Code-Review", GRACE, 1),),
        bug=42_225_302,
    ),
    CLDef(
        "W3",
        "webrtc",
        990_303,
        ERIN,
        "Use absl::AnyInvocable for TaskQueue closures in the pacer",
        ("modules/pacing/task_queue_paced_sender.cc",),
        ((12, REWORK),),
        bug=42_225_303,
    ),
    CLDef(
        "W4",
        "webrtc",
        990_304,
        ERIN,
        "Fix AEC3 filter divergence on sample rate change",
        ("modules/audio_processing/aec3/subtractor.cc",),
        ((30, REWORK),),
        votes=((27, "Code-Review", GRACE, 1),),
        bug=42_225_304,
    ),
    CLDef(
        "P1",
        "pdfium",
        199_401,
        FRANK,
        "Fix integer overflow in CPDF_DIB::LoadState",
        ("core/fpdfapi/page/cpdf_dib.cpp",),
        ((2900, REWORK),),
        votes=((2885, "Code-Review", GRACE, 1),),
        bug=42_270_401,
    ),
    CLDef(
        "P2",
        "pdfium",
        199_402,
        FRANK,
        "Add fuzzer for CPDF_SyntaxParser",
        ("testing/fuzzers/pdf_syntax_parser_fuzzer.cc", "testing/fuzzers/BUILD.gn"),
        ((200, REWORK),),
        bug=42_270_402,
    ),
    CLDef(
        "P3",
        "pdfium",
        199_403,
        FRANK,
        "Simplify CFX_Font glyph cache lookup",
        ("core/fxge/cfx_font.cpp", "core/fxge/cfx_glyphcache.cpp"),
        ((95, REWORK),),
        bug=42_270_403,
    ),
    CLDef(
        "P4",
        "pdfium",
        199_404,
        FRANK,
        "Make CPDF_Parser::ParseIndirectObject iterative",
        ("core/fpdfapi/parser/cpdf_parser.cpp",),
        ((12, REWORK),),
        votes=((10, "Code-Review", GRACE, 1),),
        bug=42_270_404,
    ),
    CLDef(
        "P5",
        "pdfium",
        199_405,
        FRANK,
        "Roll third_party/freetype/src/ 5d4e649f7..a1b2c3d4e",
        ("DEPS",),
        ((1, REWORK),),
    ),
)

# (Gerrit host, change) of every demo CL: the demo's identity, independent of `now`.
DEMO_CHANGES: frozenset[tuple[str, int]] = frozenset(
    (PROJECTS[d.project].gerrit_host, d.change) for d in CL_DEFS
)
_CL_BY_KEY = {d.key: d for d in CL_DEFS}


# The script: runs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Launch:
    """A build CV launches; it ends `minutes` after launch (None: the builder's typical time)."""

    outcome: str = "SUCCESS"  # SUCCESS FAILURE INFRA_FAILURE TIMEOUT, or CANCELLED (stale)
    minutes: float | None = None
    summary: str = ""
    properties: dict[str, Any] | None = None  # the build's output properties
    starts_after: float | None = 1.5  # minutes SCHEDULED before STARTED; None: never starts


@dataclass(frozen=True)
class LaunchFails:
    """Buildbucket refused the build: the tryjob is UNTRIGGERED with this reason."""

    reason: str


@dataclass(frozen=True)
class ReuseFrom:
    """Reuse the tryjob an earlier run (by key) launched for the same builder (CV store)."""

    run: str


@dataclass(frozen=True)
class ReuseExternal:
    """Reuse a build CV did not launch (`git cl try`), found by Buildbucket search."""

    created_before: float  # minutes before the reuse
    build: Launch
    ran_on_equivalent: bool = False


AttemptSpec = Launch | LaunchFails | ReuseFrom | ReuseExternal


@dataclass(frozen=True)
class RunDef:
    key: str
    project: str
    cls: tuple[str, ...]  # CL keys, dependencies first
    mode: str
    triggered: float  # minutes ago
    expect: RunStatus  # checked after the replay; PENDING runs are not started at all
    by: Account | None = None  # who voted; default the owner of the first CL
    builders: tuple[Builder, ...] | None = None  # default: the project's requirement
    plan: dict[str, tuple[AttemptSpec, ...]] = field(default_factory=dict)  # by builder name
    requirement_change: tuple[float, tuple[Builder, ...]] | None = None  # (minutes in, builders)
    cancelled: float | None = None  # minutes ago
    vote_removed: bool = True  # how it was cancelled: vote removed, or replaced by a new run
    in_flight: bool = False  # the executor's first pass is still launching (PENDING tryjobs)
    submit: str = ""  # full runs whose state succeeded: "waiting", "submitting" or "" (done)
    verified: VerifyAction | None = None  # CQDaemon's ReportVerifiedRun verdict
    cqd_finished: bool = False  # CQDaemon ran and finalized it (ReportFinishedRun)


_CQ_OUTPUT = "$recipe_engine/cq/output"
_DRY_AND_FULL = {_CQ_OUTPUT: {"reusability": {"modeAllowlist": ["DRY_RUN", "FULL_RUN"]}}}
_DRY_ONLY = {_CQ_OUTPUT: {"reusability": {"modeAllowlist": ["DRY_RUN"]}}}
_NO_RETRY = {_CQ_OUTPUT: {"retry": "OUTPUT_RETRY_DENIED"}, "failure_type": "COMPILE_FAILURE"}
_BOT_DIED = "Infra Failure: the swarming bot died while running `browser_tests`."
_GPU_FAILURE = (
    "1 test failed:\n\n* `gpu_tests` (`WebglConformance_deqp_functional_gles3_textureformat`)"
)

RUN_DEFS: tuple[RunDef, ...] = (
    # chromium: a dry run whose builds a later full run (on a trivial rebase) reuses.
    RunDef(
        "C1a",
        "chromium",
        ("C1",),
        RunMode.DRY_RUN,
        300,
        RunStatus.SUCCEEDED,
        plan={
            "linux-rel": (Launch(properties=_DRY_AND_FULL),),
            "android-arm64-rel": (Launch(properties=_DRY_ONLY),),
        },
        verified=VerifyAction.DRY_RUN_OK,
    ),
    RunDef(
        "C1b",
        "chromium",
        ("C1",),
        RunMode.FULL_RUN,
        60,
        RunStatus.SUBMITTING,
        plan={
            "linux-rel": (ReuseFrom("C1a"),),
            "win-rel": (ReuseFrom("C1a"),),
            "mac-rel": (ReuseFrom("C1a"),),
            # C1a's android build allows reuse by dry runs only: a fresh one is launched.
        },
        submit="submitting",
    ),
    RunDef(
        "C2",
        "chromium",
        ("C2",),
        RunMode.FULL_RUN,
        200,
        RunStatus.SUCCEEDED,
        plan={"win-rel": (Launch("INFRA_FAILURE", 20, _BOT_DIED), Launch())},
        verified=VerifyAction.SUBMIT,
    ),
    RunDef(
        "C3",
        "chromium",
        ("C3a", "C3b", "C3c"),
        RunMode.FULL_RUN,
        35,
        RunStatus.RUNNING,
        plan={
            "linux-rel": (Launch(minutes=33),),
            "mac-rel": (Launch("INFRA_FAILURE", 6, _BOT_DIED), Launch()),
        },
    ),
    RunDef(
        "C4",
        "chromium",
        ("C4",),
        RunMode.DRY_RUN,
        20,
        RunStatus.RUNNING,
        builders=(*PROJECTS["chromium"].builders, CR_CROS),
        plan={
            CR_CROS.name: (ReuseExternal(35, Launch(minutes=27), ran_on_equivalent=True),),
        },
    ),
    RunDef(
        "C5",
        "chromium",
        ("C5",),
        RunMode.FULL_RUN,
        150,
        RunStatus.FAILED,
        plan={
            "linux-rel": (
                Launch("FAILURE", 36, _GPU_FAILURE),
                Launch("FAILURE", 40, _GPU_FAILURE),
            ),
        },
        verified=VerifyAction.FAIL,
    ),
    RunDef(
        "C6",
        "chromium",
        ("C6",),
        RunMode.DRY_RUN,
        95,
        RunStatus.FAILED,
        plan={
            "android-arm64-rel": (
                Launch(
                    "FAILURE",
                    56,
                    "Compile failure:\n\n```\n../../chrome/browser/sync/sync_ui_util.cc:212:"
                    "7: error: no member named 'AddObserver' in 'syncer::SyncService'\n```",
                    _NO_RETRY,
                ),
            ),
        },
    ),
    RunDef(
        "C7",
        "chromium",
        ("C7",),
        RunMode.DRY_RUN,
        130,
        RunStatus.FAILED,
        plan={
            "mac-rel": (
                Launch("TIMEOUT", 70, "Build timed out after 1h10m in `content_browsertests`."),
            )
        },
    ),
    RunDef(
        "C8",
        "chromium",
        ("C8",),
        RunMode.NEW_PATCHSET_RUN,
        8,
        RunStatus.SUCCEEDED,
        builders=(CR_CLANG_TIDY,),
    ),
    RunDef("C9", "chromium", ("C9",), RunMode.DRY_RUN, 0.2, RunStatus.PENDING),
    RunDef("C10", "chromium", ("C10",), RunMode.FULL_RUN, 0.67, RunStatus.RUNNING, in_flight=True),
    # chromium: a dry run upgraded to a full run; the full run reuses the running builds.
    RunDef(
        "C11a",
        "chromium",
        ("C11",),
        RunMode.DRY_RUN,
        30,
        RunStatus.CANCELLED,
        cancelled=8,
        vote_removed=False,
    ),
    RunDef(
        "C11b",
        "chromium",
        ("C11",),
        RunMode.FULL_RUN,
        8,
        RunStatus.RUNNING,
        plan={
            name: (ReuseFrom("C11a"),)
            for name in ("linux-rel", "win-rel", "android-arm64-rel", "mac-rel")
        },
    ),
    # chromium: reuses a `git cl try` build, which then fails: retried at no quota cost.
    RunDef(
        "C12",
        "chromium",
        ("C12",),
        RunMode.DRY_RUN,
        45,
        RunStatus.RUNNING,
        plan={
            "linux-rel": (
                ReuseExternal(5, Launch("INFRA_FAILURE", 30, _BOT_DIED)),
                Launch(),
            ),
            "android-arm64-rel": (Launch(minutes=44),),
        },
    ),
    # chromium: an experimental builder leaves the config mid-run; its build is later
    # cancelled as stale when a new patchset is uploaded.
    RunDef(
        "C13",
        "chromium",
        ("C13",),
        RunMode.DRY_RUN,
        70,
        RunStatus.SUCCEEDED,
        builders=(*PROJECTS["chromium"].builders, CR_TEST_SELECTION),
        plan={CR_TEST_SELECTION.name: (Launch("CANCELLED", 69, starts_after=None),)},
        requirement_change=(12, PROJECTS["chromium"].builders),
    ),
    RunDef(
        "C14",
        "chromium",
        ("C14",),
        RunMode.FULL_RUN,
        70,
        RunStatus.WAITING_FOR_SUBMISSION,
        submit="waiting",
        verified=VerifyAction.SUBMIT,
    ),
    RunDef("C15", "chromium", ("C15a", "C15b"), RunMode.DRY_RUN, 480, RunStatus.SUCCEEDED),
    # angle
    RunDef("A1", "angle", ("A1",), RunMode.DRY_RUN, 240, RunStatus.SUCCEEDED),
    RunDef(
        "A2",
        "angle",
        ("A2",),
        RunMode.FULL_RUN,
        400,
        RunStatus.SUCCEEDED,
        verified=VerifyAction.SUBMIT,
    ),
    RunDef(
        "A3",
        "angle",
        ("A3",),
        RunMode.FULL_RUN,
        60,
        RunStatus.FAILED,
        plan={
            b.name: (
                Launch(
                    "INFRA_FAILURE",
                    14,
                    "Infra Failure: swarming bots in pool `luci.angle.try` lost connection.",
                ),
            )
            for b in (ANGLE_LINUX, ANGLE_WIN, ANGLE_MAC, ANGLE_ANDROID)
        },
    ),
    RunDef("A4", "angle", ("A4",), RunMode.QUICK_DRY_RUN, 100, RunStatus.SUCCEEDED),
    RunDef("A5", "angle", ("A5",), RunMode.QUICK_DRY_RUN, 15, RunStatus.RUNNING),
    # webrtc: a retry of the internal builder cannot be launched.
    RunDef(
        "W1",
        "webrtc",
        ("W1",),
        RunMode.DRY_RUN,
        55,
        RunStatus.FAILED,
        plan={
            WEBRTC_INTERNAL.name: (
                Launch("INFRA_FAILURE", 33, "Infra Failure: the bot died during compile."),
                LaunchFails(
                    "received ResourceExhausted from buildbucket. message: too many builds in "
                    'flight for bucket "webrtc-internal/g3.webrtc-internal.try"'
                ),
            ),
        },
        verified=VerifyAction.FAIL,
    ),
    RunDef("W2", "webrtc", ("W2",), RunMode.FULL_RUN, 300, RunStatus.SUCCEEDED),
    RunDef("W3", "webrtc", ("W3",), RunMode.DRY_RUN, 10, RunStatus.RUNNING),
    RunDef("W4", "webrtc", ("W4",), RunMode.FULL_RUN, 25, RunStatus.CANCELLED, cancelled=2),
    # pdfium: CQDaemon was in charge of P1 and reported it finished.
    RunDef(
        "P1",
        "pdfium",
        ("P1",),
        RunMode.FULL_RUN,
        2880,
        RunStatus.SUCCEEDED,
        cqd_finished=True,
    ),
    RunDef(
        "P3",
        "pdfium",
        ("P3",),
        RunMode.DRY_RUN,
        90,
        RunStatus.SUCCEEDED,
        verified=VerifyAction.DRY_RUN_OK,
    ),
    RunDef("P4", "pdfium", ("P4",), RunMode.FULL_RUN, 9, RunStatus.RUNNING),
    RunDef("P5", "pdfium", ("P5",), RunMode.DRY_RUN, 0.33, RunStatus.PENDING),
)
# CQDaemon finished an attempt of its own on P2 that cvsite has no Run for (unclaimed):
# (CL key, minutes ago triggered, minutes ago aborted).
UNCLAIMED_CQD_ATTEMPT = ("P2", 180, 150)
NETRC_HOSTS = ("chromium-review.googlesource.com", "webrtc-review.googlesource.com")


# Summary --------------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    """What seed_demo did. Counts are per model label ("runs.Run"), for every demo model."""

    already_present: bool
    created: dict[str, int]
    present: dict[str, int]
    deleted: dict[str, int] = field(default_factory=dict)
    runs_by_status: dict[str, int] = field(default_factory=dict)
    runs_by_mode: dict[str, int] = field(default_factory=dict)
    tryjobs_by_status: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "already present" if self.already_present else "created"

    @property
    def total_created(self) -> int:
        return sum(self.created.values())


# Finding the demo's rows ----------------------------------------------------------------------


def _demo_cl_q() -> Q:
    q = Q(pk__in=[])
    for host, change in sorted(DEMO_CHANGES):
        q |= Q(host=host, change=change)
    return q


def _is_demo_token(token: NetrcToken) -> bool:
    try:
        return token.access_token().startswith(DEMO_TOKEN_PREFIX)
    except InvalidToken:  # encrypted with a key no longer configured: not ours to judge
        return False


def demo_querysets() -> dict[str, QuerySet]:
    """The demo's rows per model label, found by the demo CLs (and the fake netrc tokens)."""
    cls = CL.objects.filter(_demo_cl_q())
    run_ids = list(Run.objects.filter(run_cls__cl__in=cls).values_list("id", flat=True).distinct())
    tryjob_ids = set(
        Tryjob.objects.filter(cl_patchsets__cl__in=cls).values_list("id", flat=True)
    ) | set(Tryjob.objects.filter(launched_by__in=run_ids).values_list("id", flat=True))
    snapshot_ids = list(
        ReportedRunsSnapshot.objects.filter(runs__run__in=run_ids)
        .values_list("id", flat=True)
        .distinct()
    )
    unclaimed = [
        row.pk
        for row in FinishedCQDRun.objects.filter(
            run__isnull=True, attempt_project__in=PROJECT_NAMES
        )
        if {(gc.host, gc.change) for gc in attempt_from_row(row).gerrit_changes} <= DEMO_CHANGES
    ]
    tokens = [
        t.pk for t in NetrcToken.objects.filter(gerrit_host__in=NETRC_HOSTS) if _is_demo_token(t)
    ]
    reused_by = Tryjob.reused_by.through
    return {
        "runs.CL": cls,
        "runs.Run": Run.objects.filter(pk__in=run_ids),
        "runs.RunCL": RunCL.objects.filter(run__in=run_ids),
        "runs.RunCLDep": RunCLDep.objects.filter(run_cl__run__in=run_ids),
        "runs.ReportedRunsSnapshot": ReportedRunsSnapshot.objects.filter(pk__in=snapshot_ids),
        "runs.ReportedRun": ReportedRun.objects.filter(snapshot__in=snapshot_ids),
        "runs.FinishedCQDRun": FinishedCQDRun.objects.filter(
            Q(run__in=run_ids) | Q(pk__in=unclaimed)
        ),
        "runs.VerifiedCQDRun": VerifiedCQDRun.objects.filter(run__in=run_ids),
        "runs.NetrcToken": NetrcToken.objects.filter(pk__in=tokens),
        "tryjobs.Tryjob": Tryjob.objects.filter(pk__in=tryjob_ids),
        "tryjobs.Tryjob_reused_by": reused_by.objects.filter(tryjob__in=tryjob_ids),
        "tryjobs.TryjobCLPatchset": TryjobCLPatchset.objects.filter(tryjob__in=tryjob_ids),
        "tryjobs.ExecutionState": ExecutionState.objects.filter(run__in=run_ids),
        "tryjobs.Execution": Execution.objects.filter(state__in=run_ids),
        "tryjobs.ExecutionAttempt": ExecutionAttempt.objects.filter(execution__state__in=run_ids),
        "tryjobs.LaunchFailure": LaunchFailure.objects.filter(state__in=run_ids),
        "tryjobs.UnsuccessfulResult": UnsuccessfulResult.objects.filter(state__in=run_ids),
        "tryjobs.ExecutionLogEntry": ExecutionLogEntry.objects.filter(run__in=run_ids),
    }


def _counts() -> dict[str, int]:
    return {label: qs.count() for label, qs in demo_querysets().items()}


def _delete_demo() -> dict[str, int]:
    """Deletes the demo's rows, children before what they protect; returns counts per model."""
    qs = demo_querysets()
    deleted: Counter[str] = Counter()
    order = (
        "runs.ReportedRunsSnapshot",
        "runs.FinishedCQDRun",
        "tryjobs.Tryjob",
        "runs.Run",
        "runs.CL",
        "runs.NetrcToken",
    )
    for label in order:
        _, per_model = qs[label].delete()
        deleted.update({k: v for k, v in per_model.items() if v})
    return dict(sorted(deleted.items()))


# Entry point ----------------------------------------------------------------------------------


def seed_demo(
    now: datetime, *, reset: bool = False, progress: Callable[[str], None] | None = None
) -> DemoSummary:
    """Creates the demo as it stands at `now` (aware), in one transaction; see the module doc."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    say = progress or (lambda message: None)
    now = now.astimezone(UTC).replace(microsecond=0)
    with transaction.atomic():
        deleted: dict[str, int] = {}
        if reset:
            say("Deleting the previous demo's rows")
            deleted = _delete_demo()
        before = _counts()
        if before["runs.CL"]:
            say("Demo CLs found: the demo is already present, nothing to do")
            summary = DemoSummary(
                already_present=True,
                created={label: 0 for label in before},
                present=before,
                deleted=deleted,
            )
        else:
            seeder = _Seeder(now, say)
            seeder.seed()
            after = _counts()
            summary = DemoSummary(
                already_present=False,
                created={label: after[label] - before[label] for label in after},
                present=after,
                deleted=deleted,
                notes=seeder.notes,
            )
        _add_breakdown(summary)
    return summary


def _add_breakdown(summary: DemoSummary) -> None:
    qs = demo_querysets()
    statuses = Counter(qs["runs.Run"].values_list("status", flat=True))
    summary.runs_by_status = {s.name: statuses[s] for s in RunStatus if statuses[s]}
    summary.runs_by_mode = dict(
        sorted(Counter(qs["runs.Run"].values_list("mode", flat=True)).items())
    )
    tryjobs = Counter(qs["tryjobs.Tryjob"].values_list("status", flat=True))
    summary.tryjobs_by_status = {s.name: tryjobs[s] for s in TryjobStatus if tryjobs[s]}


# The replay -----------------------------------------------------------------------------------


def _ts(dt: datetime):
    return to_timestamp(dt)


def _sha1(*parts: object) -> str:
    return hashlib.sha1("\0".join(map(str, parts)).encode()).hexdigest()


class _CLState:
    """A demo CL: its patchsets, votes and messages over time, and its CL row."""

    def __init__(self, d: CLDef, seeder: _Seeder):
        self.d = d
        self.project = PROJECTS[d.project]
        self.host = self.project.gerrit_host
        self.ps_times = [seeder.ago(m) for m, _ in d.patchsets]
        self.kinds = [k for _, k in d.patchsets]
        self.votes: list[tuple[datetime, str, Account, int]] = []
        self.messages: list[tuple[datetime, Account, str]] = []
        self.merged_at: datetime | None = None
        self.row: CL | None = None
        for n, t in enumerate(self.ps_times, 1):
            self.messages.append((t, d.owner, f"Uploaded patch set {n}."))
        for minutes, label, who, value in d.votes:
            self.vote(seeder.ago(minutes), label, who, value)

    def revision(self, ps: int) -> str:
        return _sha1(self.host, self.d.change, ps)

    def patchset_at(self, t: datetime) -> int:
        ps = sum(1 for created in self.ps_times if created <= t)
        if ps < 1:
            raise DemoStoryError(f"CL {self.d.key} has no patchset at {t}")
        return ps

    def min_equivalent(self, ps: int) -> int:
        while ps > 1 and self.kinds[ps - 1] in _EQUIVALENT_KINDS:
            ps -= 1
        return ps

    def vote(self, t: datetime, label: str, who: Account, value: int, text: str = "") -> None:
        self.votes.append((t, label, who, value))
        ps = self.patchset_at(t)
        change = f"{label}{value:+d}" if value else f"-{label}"
        self.messages.append((t, who, text or f"Patch Set {ps}: {change}"))

    def commit_message(self) -> str:
        d = self.d
        lines = [d.subject, "", f"This change is part of the cvsite demo ({d.key})."]
        footers = [f"Bug: {d.bug}"] if d.bug else []
        for key in d.cq_depend:
            other = _CL_BY_KEY[key]
            host = PROJECTS[other.project].gerrit_host.removesuffix("-review.googlesource.com")
            footers.append(f"Cq-Depend: {host}:{other.change}")
        footers.append(f"Change-Id: I{_sha1('change-id', self.host, d.change)}")
        return "\n".join([*lines, "", *footers, ""])

    def info_at(self, t: datetime) -> gerrit_pb2.ChangeInfo:
        """The trimmed gerrit.ChangeInfo CV keeps in a snapshot (migration_behaviour.md §3.5)."""
        d = self.d
        ps = self.patchset_at(t)
        merged = self.merged_at is not None and self.merged_at <= t
        info = gerrit_pb2.ChangeInfo(
            number=d.change,
            owner=d.owner.info(),
            project=self.project.gerrit_project,
            ref="refs/heads/main",
            status=gerrit_pb2.MERGED if merged else gerrit_pb2.NEW,
            current_revision=self.revision(ps),
            created=_ts(self.ps_times[0]),
        )
        message = self.commit_message()
        for n in range(1, ps + 1):
            revision = info.revisions[self.revision(n)]
            revision.kind = self.kinds[n - 1]
            revision.number = n
            revision.ref = f"refs/changes/{d.change % 100:02d}/{d.change}/{n}"
            revision.created.CopyFrom(_ts(self.ps_times[n - 1]))
            revision.commit.message = message
        current_since = self.ps_times[ps - 1]
        equivalent_since = self.ps_times[self.min_equivalent(ps) - 1]
        latest: dict[tuple[str, int], tuple[datetime, Account, int]] = {}
        for when, label, who, value in sorted(self.votes, key=lambda v: v[0]):
            if when <= t:
                latest[(label, who.account_id)] = (when, who, value)
        for (label, _), (when, who, value) in sorted(latest.items()):
            since = equivalent_since if label in _STICKY_LABELS else current_since
            if value and when >= since:
                info.labels[label].all.add(user=who.info(), value=value, date=_ts(when))
        events = [self.ps_times[0]]
        for when, who, text in sorted(self.messages, key=lambda m: (m[0], m[2])):
            if when <= t:
                info.messages.add(
                    id=_sha1("message", self.host, d.change, when.isoformat(), text)[:40],
                    author=who.info(with_email=False),
                    date=_ts(when),
                    message=text,
                )
                events.append(when)
        events += [created for created in self.ps_times if created <= t]
        if merged:
            events.append(self.merged_at)
        info.updated.CopyFrom(_ts(max(events)))
        return info

    def snapshot_columns(self, t: datetime) -> dict:
        ps = self.patchset_at(t)
        return change_snapshot_columns(
            self.info_at(t),
            patchset=ps,
            min_equivalent_patchset=self.min_equivalent(ps),
            files=self.d.files,
        )


@dataclass
class _Change:
    time: datetime
    status: int
    result: Result | None
    notify: bool  # whether watching runs hear of it (the stale cancellator tells no one)


class _TJ:
    """A tryjob: its definition, its history (what Buildbucket reported when) and its row."""

    def __init__(
        self,
        definition: Definition,
        builder: Builder,
        created: datetime,
        launched_by: _RunState | None,
        creator: _RunState,
    ):
        self.definition = definition
        self.builder = builder
        self.created = created
        self.launched_by = launched_by
        self.reuse_key = creator.reuse_key
        self.cl_patchsets = [(cl.row, creator.patchsets[cl.d.key]) for cl in creator.cls]
        self.project = creator.project.name
        self.history: list[_Change] = []
        self.build_id = 0
        self.build_created: datetime | None = None
        self.untriggered_reason = ""
        self.reused_by: list[tuple[_RunState, datetime]] = []
        self.row: Tryjob | None = None

    @property
    def external_id(self) -> str:
        return buildbucket_external_id(BUILDBUCKET_HOST, self.build_id) if self.build_id else ""

    def at(self, t: datetime) -> tuple[int, Result | None, str]:
        """(status, result, external ID) as of `t`."""
        change = None
        for c in self.history:
            if c.time <= t:
                change = c
        if change is None:
            raise DemoStoryError(f"tryjob of {self.builder.id} does not exist yet at {t}")
        has_build = change.status not in (TryjobStatus.PENDING, TryjobStatus.UNTRIGGERED)
        return change.status, change.result, self.external_id if has_build else ""

    def notifications_after(self, t: datetime) -> list[datetime]:
        return [c.time for c in self.history if c.notify and c.time > t]


@dataclass
class _Attempt:
    tj: _TJ
    reused: bool
    status: int
    result: Result | None
    external_id: str

    def message(self) -> State.Execution.Attempt:
        msg = State.Execution.Attempt(
            tryjob_id=self.tj.row.id,
            external_id=self.external_id,
            status=self.status,
            reused=self.reused,
        )
        if self.result is not None:
            msg.result.CopyFrom(self.result)
        return msg


@dataclass
class _Execution:
    builder: Builder
    definition: Definition
    specs: list[AttemptSpec]
    attempts: list[_Attempt] = field(default_factory=list)
    used_quota: int = 0

    @property
    def latest(self) -> _Attempt | None:
        return self.attempts[-1] if self.attempts else None


class _RunState:
    """One run of the script while it is being replayed."""

    def __init__(self, d: RunDef, seeder: _Seeder):
        self.d = d
        self.seeder = seeder
        self.project = PROJECTS[d.project]
        self.cls = [seeder.cls[key] for key in d.cls]
        self.by = d.by or self.cls[0].d.owner
        self.patchsets: dict[str, int] = {}
        self.reuse_key = ""
        self.row: Run | None = None
        self.run_cls: list[RunCL] = []
        self.execs: list[_Execution] = []
        self.tryjobs: dict[str, list[_TJ]] = {}  # by builder ID, every tryjob the run used
        self.status = ExecutionStatus.RUNNING
        self.state_end: datetime | None = None
        self.launch_failures: list[tuple[Definition, str]] = []
        self.unsuccessful: list[_TJ] = []
        self.requirement_version = 0
        self.state_version = 0
        self.events: list[tuple[datetime, int, str, Any]] = []
        self.seq = 0

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def is_terminal(self) -> bool:
        return self.status != ExecutionStatus.RUNNING


class _Seeder:
    def __init__(self, now: datetime, say: Callable[[str], None]):
        self.now = now
        self.say = say
        self.rng = random.Random(DEMO_SEED)
        self.build_seq = 0
        self.cls: dict[str, _CLState] = {}
        self.runs: dict[str, _RunState] = {}
        self.tryjobs: list[_TJ] = []
        self.notes: list[str] = []

    def ago(self, minutes: float) -> datetime:
        return self.now - timedelta(seconds=round(minutes * 60))

    def jitter(self, minutes: float) -> timedelta:
        return timedelta(seconds=round(minutes * 60) + self.rng.randint(0, 59))

    @property
    def clids(self) -> dict[str, int]:
        return {key: cl.row.id for key, cl in self.cls.items()}

    # Top level ---------------------------------------------------------------------------

    def seed(self) -> None:
        hosts = {p.gerrit_host for p in PROJECTS.values()}
        self.say(f"Creating {len(CL_DEFS)} CLs on {len(hosts)} Gerrit hosts")
        for d in CL_DEFS:
            self.cls[d.key] = cl = _CLState(d, self)
            cl.row = CL.objects.create(
                host=cl.host,
                change=d.change,
                luci_project=d.project,
                **cl.snapshot_columns(self.now),
            )
        for i, d in enumerate(RUN_DEFS, 1):
            self.say(f"Replaying run {i}/{len(RUN_DEFS)}: {d.project} {d.mode} ({d.key})")
            self.runs[d.key] = self.replay(d)
        self.say("Recording CQDaemon reports")
        self.unclaimed_cqd_attempt()
        self.reported_runs()
        self.say("Saving tryjob histories and the CLs as they are now")
        self.finish_tryjobs()
        for cl in self.cls.values():
            for name, value in cl.snapshot_columns(self.now).items():
                setattr(cl.row, name, value)
            cl.row.save()
        self.say("Storing legacy netrc tokens (fake)")
        self.netrc_tokens()

    # Runs --------------------------------------------------------------------------------

    def replay(self, d: RunDef) -> _RunState:
        run = _RunState(d, self)
        trigger = self.ago(d.triggered)
        npr = d.mode == RunMode.NEW_PATCHSET_RUN
        triggers: list[tuple[_CLState, datetime]] = []
        for i, cl in enumerate(run.cls):
            ps = cl.patchset_at(trigger)
            run.patchsets[cl.d.key] = ps
            if npr:  # triggered by the upload itself
                t = cl.ps_times[ps - 1]
            else:  # the CLs of a stack are voted on a few seconds apart
                t = trigger - timedelta(seconds=7 * (len(run.cls) - 1 - i))
                self.trigger_vote(run, cl, t)
            triggers.append((cl, t))
        create_time = max(t for _, t in triggers)
        key = attempt_key(
            AttemptKeyCL(
                host=cl.host,
                change=cl.d.change,
                current_revision=cl.revision(run.patchsets[cl.d.key]),
                trigger_time=t,
                mode=d.mode,
                gerrit_account_id=(cl.d.owner if npr else run.by).account_id,
            )
            for cl, t in triggers
        )
        run.reuse_key = reuse_key(
            (cl.row.id, cl.min_equivalent(run.patchsets[cl.d.key])) for cl in run.cls
        )
        run.row = Run(
            id=str(RunID.new(d.project, create_time, key)),
            project=d.project,
            status=RunStatus.PENDING,
            mode=d.mode,
            cqd_attempt_key=key,
            owner=run.cls[0].d.owner.email,
            config_group=run.project.config_group,
            create_time=create_time,
        )
        run.row.clean()
        run.row.save(force_insert=True)
        self.run_cl_rows(run, triggers)
        if d.expect == RunStatus.PENDING:
            run.row.eversion = 1
            run.row.save()
            return run
        start = create_time + timedelta(seconds=3)
        run.row.start_time = start
        if d.cqd_finished:
            self.finish_by_cqd(run, start)
            return run
        if not npr:
            self.bot_says(run, start + timedelta(seconds=10), self.start_message(run))
        if d.in_flight:
            self.launch_in_flight(run, start + timedelta(seconds=2))
            self.end_run(run, RunStatus.RUNNING, None, eversion=2)
            return run
        self.execute(run, start + timedelta(seconds=2))
        self.settle(run)
        return run

    def trigger_vote(self, run: _RunState, cl: _CLState, t: datetime) -> None:
        d = run.d
        ps = cl.patchset_at(t)
        value = 2 if d.mode == RunMode.FULL_RUN else 1
        text = f"Patch Set {ps}: Commit-Queue+{value}"
        if d.mode == RunMode.QUICK_DRY_RUN:
            cl.votes.append((t, "Quick-Run", run.by, 1))
            text += " Quick-Run+1"
        cl.vote(t, "Commit-Queue", run.by, value, text)

    def run_cl_rows(self, run: _RunState, triggers: list[tuple[_CLState, datetime]]) -> None:
        clids = self.clids
        run_clids = [cl.row.id for cl in run.cls]
        keys = {cl.d.key for cl in run.cls}
        for position, (cl, t) in enumerate(triggers):
            ps = run.patchsets[cl.d.key]
            info = cl.info_at(t)
            if run.d.mode == RunMode.NEW_PATCHSET_RUN:
                # bigquery.Mode (and so migration.RunCL) cannot express NEW_PATCHSET_RUN.
                row = RunCL(
                    run=run.row,
                    cl=cl.row,
                    position=position,
                    trigger_time=t,
                    trigger_mode=run.d.mode,
                    trigger_account_id=cl.d.owner.account_id,
                    trigger_email=cl.d.owner.email,
                    **change_snapshot_columns(
                        info,
                        patchset=ps,
                        min_equivalent_patchset=cl.min_equivalent(ps),
                        files=cl.d.files,
                    ),
                )
                set_served_message(row).save()
                run.run_cls.append(row)
                continue
            msg = migration_pb.RunCL(
                id=cl.row.id,
                gc=bq_pb.GerritChange(
                    host=cl.host,
                    project=cl.project.gerrit_project,
                    change=cl.d.change,
                    patchset=ps,
                    earliest_equivalent_patchset=cl.min_equivalent(ps),
                    trigger_time=_ts(t),
                    mode=mode_to_bigquery(run.d.mode),
                ),
                info=info,
                files=cl.d.files,
                trigger=migration_pb.RunCL.Trigger(
                    time=_ts(t), account_id=run.by.account_id, email=run.by.email
                ),
                deps=[
                    migration_pb.RunCL.Dep(id=clids[key], hard=hard)
                    for key, hard in self.deps(cl, keys)
                ],
            )
            row, deps = run_cl_rows(run.id, position, msg, cl.row, run_clids)
            row.save()
            RunCLDep.objects.bulk_create(deps)
            run.run_cls.append(row)

    def deps(self, cl: _CLState, keys: set[str]) -> list[tuple[str, bool]]:
        """(CL key, hard) of the CL's deps among `keys`: git parent HARD, the rest SOFT."""
        found: dict[str, bool] = {}
        parent, immediate = cl.d.parent, True
        while parent:
            if parent in keys:
                found[parent] = immediate
            immediate = False
            parent = self.cls[parent].d.parent
        for key in cl.d.cq_depend:
            if key in keys:
                found.setdefault(key, False)
        return sorted(found.items(), key=lambda item: self.cls[item[0]].row.id)

    # The executor replay -----------------------------------------------------------------

    def execute(self, run: _RunState, first: datetime) -> None:
        d = run.d
        builders = d.builders or (
            run.project.quick_builders if d.mode == RunMode.QUICK_DRY_RUN else run.project.builders
        )
        run.execs = [
            _Execution(b, b.definition(), list(d.plan.get(b.name, (Launch(),)))) for b in builders
        ]
        unknown = set(d.plan) - {b.name for b in builders}
        if d.requirement_change:
            unknown -= {b.name for b in d.requirement_change[1]}
        if unknown:
            raise DemoStoryError(f"{d.key}: plan for builders not required: {sorted(unknown)}")
        run.requirement_version = 1
        entries: list[LogEntry] = []
        self.start_attempts(run, first, range(len(run.execs)), entries)
        self.save_pass(run, first, entries)
        if d.requirement_change:
            minutes, new_builders = d.requirement_change
            self.push(run, first + timedelta(minutes=minutes), "requirement", new_builders)
        frozen = self.ago(d.cancelled) if d.cancelled is not None else self.now
        while run.events and not run.is_terminal:
            t = run.events[0][0]
            if t > frozen:
                break
            batch = []
            while run.events and run.events[0][0] == t:
                batch.append(heapq.heappop(run.events))
            for _, _, kind, payload in batch:
                if kind == "requirement":
                    self.requirement_pass(run, t, payload)
            updated = {tj for _, _, kind, payload in batch if kind == "update" for tj in payload}
            if updated and not run.is_terminal:
                self.update_pass(run, t, updated)
        for execution in run.execs:  # what the state says must be what the tryjob is now
            latest = execution.latest
            if latest and latest.tj.at(self.now)[0] != latest.status:
                raise DemoStoryError(
                    f"{d.key}: {execution.builder.id}'s latest attempt is "
                    f"{TryjobStatus(latest.status).name}, but its tryjob is "
                    f"{TryjobStatus(latest.tj.at(self.now)[0]).name} by now"
                )
        for execution in run.execs:
            if len(execution.specs) != len(execution.attempts):
                raise DemoStoryError(
                    f"{d.key}: {execution.builder.id} has {len(execution.specs)} planned "
                    f"attempts but made {len(execution.attempts)}"
                )

    def push(self, run: _RunState, t: datetime, kind: str, payload: Any) -> None:
        run.seq += 1
        heapq.heappush(run.events, (t, run.seq, kind, payload))

    def watch(self, run: _RunState, tj: _TJ, since: datetime) -> None:
        for t in tj.notifications_after(since):
            self.push(run, t, "update", {tj})

    def snapshot(self, execution: _Execution, attempt: _Attempt) -> Snapshot:
        msg = Snapshot(
            id=attempt.tj.row.id,
            external_id=attempt.external_id,
            definition=execution.definition,
            status=attempt.status,
            reused=attempt.reused,
        )
        if attempt.result is not None:
            msg.result.CopyFrom(attempt.result)
        return msg

    def start_attempts(
        self, run: _RunState, t: datetime, indices: Iterable[int], entries: list[LogEntry]
    ) -> None:
        """start_tryjobs (§3.6): reuse first, then launch; logs reused, launched, failed."""
        reused, launched, failed = [], [], []
        notify: list[_TJ] = []
        for i in indices:
            execution = run.execs[i]
            n = len(execution.attempts)
            if n >= len(execution.specs):
                raise DemoStoryError(
                    f"{run.d.key}: {execution.builder.id} needs attempt {n + 1}, not planned"
                )
            spec = execution.specs[n]
            if isinstance(spec, ReuseFrom):
                tj = self.runs[spec.run].tryjobs[execution.builder.id][-1]
                self.check_reusable(run, execution, tj, t)
                tj.reused_by.append((run, t))
                attempt = _Attempt(tj, True, *tj.at(t))
                reused.append(self.snapshot(execution, attempt))
            elif isinstance(spec, ReuseExternal):
                tj = self.external_tryjob(run, execution, spec, t)
                attempt = _Attempt(tj, True, *tj.at(t))
                self.check_reusable(run, execution, tj, t)
                reused.append(self.snapshot(execution, attempt))
            elif isinstance(spec, LaunchFails):
                tj = self.new_tryjob(run, execution, t)
                tj.untriggered_reason = spec.reason
                tj.history.append(_Change(t, TryjobStatus.UNTRIGGERED, None, False))
                self.save_tryjob(tj)
                attempt = _Attempt(tj, False, *tj.at(t))
                failed.append(
                    LogEntry.TryjobLaunchFailed(definition=execution.definition, reason=spec.reason)
                )
                if execution.definition.critical:
                    run.launch_failures.append((execution.definition, spec.reason))
            else:
                tj = self.new_tryjob(run, execution, t)
                self.launch(tj, spec, t)
                self.save_tryjob(tj)
                attempt = _Attempt(tj, False, *tj.at(t))
                launched.append(self.snapshot(execution, attempt))
            execution.attempts.append(attempt)
            run.tryjobs.setdefault(execution.builder.id, []).append(tj)
            notify.append(tj)
            self.watch(run, tj, t)
        if reused:
            entries.append(
                LogEntry(time=_ts(t), tryjobs_reused=LogEntry.TryjobsReused(tryjobs=reused))
            )
        if launched:
            entries.append(
                LogEntry(time=_ts(t), tryjobs_launched=LogEntry.TryjobsLaunched(tryjobs=launched))
            )
        if failed:
            entries.append(
                LogEntry(
                    time=_ts(t),
                    tryjobs_launch_failed=LogEntry.TryjobsLaunchFailed(tryjobs=failed),
                )
            )
        if run.launch_failures:
            run.status = ExecutionStatus.FAILED
        if notify:  # saving tryjobs notifies their watchers, this run included
            self.push(run, t + timedelta(seconds=2), "update", set(notify))

    def check_reusable(self, run: _RunState, execution: _Execution, tj: _TJ, t: datetime) -> None:
        """can_reuse (§3.6) and the CV-store match rules; the script must respect them."""
        status, result, _ = tj.at(t)
        problems = []
        if execution.definition.disable_reuse:
            problems.append("the definition disables reuse")
        if tj.reuse_key != run.reuse_key:
            problems.append("its reuse key differs")
        if tj.project != run.project.name:
            problems.append("it belongs to another project")
        ran = result.buildbucket.builder if result is not None else None
        allowed_builders = [execution.definition.buildbucket.builder]
        if execution.definition.HasField("equivalent_to"):
            allowed_builders.append(execution.definition.equivalent_to.buildbucket.builder)
        if tj.definition != execution.definition and ran not in allowed_builders:
            problems.append("it ran another builder")
        fresh = result is not None and t - result.create_time.ToDatetime(UTC) < REUSE_FRESHNESS
        if status == TryjobStatus.TRIGGERED and not fresh:
            problems.append("it is not fresh")
        elif status == TryjobStatus.ENDED:
            allowlist = list(result.output.reusability.mode_allowlist)
            if result.status != Result.SUCCEEDED or not fresh:
                problems.append("it did not succeed recently")
            elif allowlist and run.d.mode not in allowlist:
                problems.append(f"its output does not allow {run.d.mode}")
        elif status not in (TryjobStatus.PENDING, TryjobStatus.TRIGGERED):
            problems.append(f"it is {TryjobStatus(status).name}")
        if problems:
            raise DemoStoryError(
                f"{run.d.key}: cannot reuse the {execution.builder.id} tryjob: "
                + "; ".join(problems)
            )

    def new_tryjob(self, run: _RunState, execution: _Execution, t: datetime) -> _TJ:
        tj = _TJ(execution.definition, execution.builder, t, run, run)
        tj.history.append(_Change(t, TryjobStatus.PENDING, None, False))
        self.tryjobs.append(tj)
        return tj

    def build_id(self, created: datetime) -> int:
        ms = (created - _BUILDBUCKET_EPOCH) // timedelta(milliseconds=1)
        self.build_seq += 1
        return (((1 << 43) - 1 - ms) << 20) | ((self.build_seq * 40_503) & 0xFFFF) << 4 | 1

    def launch(self, tj: _TJ, spec: Launch, t: datetime, *, equivalent: bool = False) -> None:
        """Buildbucket's side of a build: scheduled at `t`, maybe started, maybe ended."""
        tj.build_created = t
        tj.build_id = self.build_id(t)
        ran_on = tj.builder.builder_id(equivalent=equivalent)
        tj.history.append(
            _Change(t, TryjobStatus.TRIGGERED, self.result(tj, ran_on, bb_pb.SCHEDULED, t), False)
        )
        if spec.starts_after is not None:
            started = t + timedelta(seconds=round(spec.starts_after * 60) + self.rng.randint(0, 20))
            tj.history.append(
                _Change(
                    started,
                    TryjobStatus.TRIGGERED,
                    self.result(tj, ran_on, bb_pb.STARTED, started),
                    True,
                )
            )
        duration = (
            self.jitter(tj.builder.minutes)
            if spec.minutes is None
            else timedelta(seconds=round(spec.minutes * 60))
        )
        ended = t + duration
        if spec.outcome == "CANCELLED":  # by the stale-tryjob cancellator, which tells no run
            tj.history.append(_Change(ended, TryjobStatus.CANCELLED, None, False))
            return
        build_status = {
            "SUCCESS": bb_pb.SUCCESS,
            "FAILURE": bb_pb.FAILURE,
            "INFRA_FAILURE": bb_pb.INFRA_FAILURE,
            "TIMEOUT": bb_pb.INFRA_FAILURE,
        }[spec.outcome]
        result = self.result(
            tj,
            ran_on,
            build_status,
            ended,
            timeout=spec.outcome == "TIMEOUT",
            properties=spec.properties,
            summary=spec.summary,
        )
        tj.history.append(_Change(ended, TryjobStatus.ENDED, result, True))

    def result(
        self,
        tj: _TJ,
        ran_on: builder_common_pb2.BuilderID,
        build_status: int,
        at: datetime,
        *,
        timeout: bool = False,
        properties: dict | None = None,
        summary: str = "",
    ) -> Result:
        ended = bool(build_status & bb_pb.ENDED_MASK)
        output, transient = parse_cq_output(properties) if ended else (None, False)
        status, result_status = tryjob_status_from_build(build_status, timeout, transient)
        expected = TryjobStatus.ENDED if ended else TryjobStatus.TRIGGERED
        if status != expected:
            raise DemoStoryError(f"build status {build_status} maps to tryjob status {status}")
        msg = Result(status=result_status, create_time=_ts(tj.build_created), update_time=_ts(at))
        if output is not None:
            msg.output.CopyFrom(output)
        bb = msg.buildbucket
        bb.id = tj.build_id
        bb.builder.CopyFrom(ran_on)
        bb.status = build_status
        bb.summary_markdown = summary if ended else ""
        bb.infra.resultdb.hostname = RESULTDB_HOST
        bb.infra.resultdb.invocation = f"invocations/build-{tj.build_id}"
        bb.infra.resultdb.enable = True
        return msg

    def external_tryjob(
        self, run: _RunState, execution: _Execution, spec: ReuseExternal, t: datetime
    ) -> _TJ:
        """A `git cl try` build found by Buildbucket search: a new entity, launched by no one."""
        tj = _TJ(execution.definition, execution.builder, t, None, run)
        self.launch(
            tj,
            spec.build,
            t - timedelta(seconds=round(spec.created_before * 60)),
            equivalent=spec.ran_on_equivalent,
        )
        # The entity starts at `t` with what the build was then; later changes notify.
        status, result, _ = tj.at(t)
        tj.history = [_Change(t, status, result, False)] + [c for c in tj.history if c.time > t]
        tj.reused_by.append((run, t))
        self.tryjobs.append(tj)
        self.save_tryjob(tj)
        return tj

    def launch_in_flight(self, run: _RunState, t: datetime) -> None:
        """The first executor pass has stored PENDING tryjobs and is still launching them."""
        for b in run.project.builders:
            execution = _Execution(b, b.definition(), [])
            tj = self.new_tryjob(run, execution, t)
            self.save_tryjob(tj)
            run.tryjobs.setdefault(b.id, []).append(tj)

    def save_tryjob(self, tj: _TJ) -> None:
        """Creates the tryjob's row as it stands now (finish_tryjobs completes its history)."""
        if tj.row is not None:
            return
        status, result, external_id = tj.at(self.now)
        tj.row = Tryjob(
            **tryjob_columns(
                definition=tj.definition, status=status, external_id=external_id, result=result
            ),
            reuse_key=tj.reuse_key,
            launched_by=tj.launched_by.row if tj.launched_by else None,
            untriggered_reason=tj.untriggered_reason,
            create_time=tj.created,
            update_time=tj.created,
        )
        tj.row.save(force_insert=True)
        TryjobCLPatchset.objects.bulk_create(
            TryjobCLPatchset(tryjob=tj.row, cl=cl, patchset=ps) for cl, ps in tj.cl_patchsets
        )

    def update_pass(self, run: _RunState, t: datetime, updated: set[_TJ]) -> None:
        """An executor pass on tryjob updates (§3.3), then the retry check (§4.2)."""
        changed: dict[int, bool] = {}
        for i, execution in enumerate(run.execs):
            for attempt in execution.attempts:
                if attempt.tj in updated:
                    status, result, external_id = attempt.tj.at(t)
                    differs = (status, result) != (attempt.status, attempt.result)
                    attempt.status, attempt.result, attempt.external_id = (
                        status,
                        result,
                        external_id,
                    )
                    if attempt is execution.latest:
                        changed[i] = differs
        running = (TryjobStatus.PENDING, TryjobStatus.TRIGGERED)
        has_non_ended_critical = any(
            e.definition.critical and (e.latest is None or e.latest.status in running)
            for e in run.execs
        )
        ended, failed, plan = [], [], []
        for i, execution in enumerate(run.execs):
            if not changed.get(i):
                continue
            latest = execution.latest
            critical = execution.definition.critical
            if latest.status == TryjobStatus.TRIGGERED:
                if latest.reused and not self.mode_allowed(run, latest.result):
                    plan.append(i)
            elif latest.status == TryjobStatus.ENDED:
                ended.append(self.snapshot(execution, latest))
                if not critical:
                    continue
                if latest.result.status != Result.SUCCEEDED:
                    failed.append(i)
                elif latest.reused and not self.mode_allowed(run, latest.result):
                    plan.append(i)
            elif latest.status == TryjobStatus.CANCELLED:
                ended.append(self.snapshot(execution, latest))
            elif latest.status == TryjobStatus.UNTRIGGERED and latest.reused:
                plan.append(i)
        entries: list[LogEntry] = []
        if ended:
            entries.append(
                LogEntry(time=_ts(t), tryjobs_ended=LogEntry.TryjobsEnded(tryjobs=ended))
            )
        if not failed and not plan and not has_non_ended_critical:
            run.status = ExecutionStatus.SUCCEEDED
        elif failed:
            if self.can_retry_all(run, t, failed, entries):
                plan = sorted(set(plan) | set(failed))
            else:
                run.status = ExecutionStatus.FAILED
                run.unsuccessful += [run.execs[i].latest.tj for i in failed]
                plan = []
        if plan:
            self.start_attempts(run, t, plan, entries)
        self.save_pass(run, t, entries)

    def mode_allowed(self, run: _RunState, result: Result | None) -> bool:
        if result is None or not result.HasField("output"):
            return True
        allowlist = list(result.output.reusability.mode_allowlist)
        return not allowlist or run.d.mode in allowlist

    def can_retry_all(
        self, run: _RunState, t: datetime, failed: list[int], entries: list[LogEntry]
    ) -> bool:
        """§4.2, quota charged even when the answer is no."""
        rc = run.project.retry_config()

        def denied(indices: Iterable[int], reason: str) -> None:
            snapshots = [self.snapshot(run.execs[i], run.execs[i].latest) for i in indices]
            entries.append(
                LogEntry(
                    time=_ts(t),
                    retry_denied=LogEntry.RetryDenied(tryjobs=snapshots, reason=reason),
                )
            )

        if rc == RetryConfig():
            denied(failed, "retry is not enabled in the config")
            return False
        total = sum(e.used_quota for e in run.execs)
        allowed = True
        for i in failed:
            execution = run.execs[i]
            latest = execution.latest
            if latest.reused:
                continue
            if latest.result.output.retry == cq_pb2.Output.OUTPUT_RETRY_DENIED:
                allowed = False
                denied([i], "tryjob explicitly denies retry in its output")
                continue
            weight = {
                Result.TIMEOUT: rc.timeout_weight,
                Result.FAILED_TRANSIENTLY: rc.transient_failure_weight,
            }.get(latest.result.status, rc.failure_weight)
            execution.used_quota += weight
            total += weight
            if execution.used_quota > rc.single_quota:
                allowed = False
                denied([i], "insufficient quota")
        if allowed and total > rc.global_quota:
            denied(failed, "insufficient global quota")
            return False
        return allowed

    def requirement_pass(self, run: _RunState, t: datetime, builders: tuple[Builder, ...]) -> None:
        """A config change gives a new requirement (§3.4): discard removed, start added."""
        entries = [LogEntry(time=_ts(t), requirement_changed=LogEntry.RequirementChanged())]
        old = {e.builder.id: e for e in run.execs}
        wanted = {b.id for b in builders}
        for execution in run.execs:
            if execution.builder.id not in wanted and execution.latest is not None:
                entries.append(
                    LogEntry(
                        time=_ts(t),
                        tryjob_discarded=LogEntry.TryjobDiscarded(
                            snapshot=self.snapshot(execution, execution.latest),
                            reason=DISCARD_REASON,
                        ),
                    )
                )
        run.execs = [
            old.get(b.id)
            or _Execution(b, b.definition(), list(run.d.plan.get(b.name, (Launch(),))))
            for b in builders
        ]
        run.requirement_version += 1
        added = [i for i, b in enumerate(builders) if b.id not in old]
        if added:
            self.start_attempts(run, t, added, entries)
        if not run.execs:
            run.status = ExecutionStatus.SUCCEEDED
        self.save_pass(run, t, entries)

    def save_pass(self, run: _RunState, t: datetime, entries: list[LogEntry]) -> None:
        """Saves the state as the pass left it, and its log entries with the new version."""
        if run.is_terminal and run.state_end is None:
            run.state_end = t
        msg = State(status=run.status, requirement_version=run.requirement_version)
        msg.requirement.retry_config.CopyFrom(run.project.retry_config())
        for execution in run.execs:
            msg.requirement.definitions.append(execution.definition)
            msg.executions.add(
                used_quota=execution.used_quota,
                attempts=[a.message() for a in execution.attempts],
            )
        if run.launch_failures or run.unsuccessful:
            msg.failures.SetInParent()
            for definition, reason in run.launch_failures:
                msg.failures.launch_failures.add(definition=definition, reason=reason)
            for tj in run.unsuccessful:
                msg.failures.unsuccessful_results.add(tryjob_id=tj.row.id)
        if run.state_end is not None:
            msg.end_time.CopyFrom(_ts(run.state_end))
        state = save_execution_state(run.id, msg)
        run.state_version = state.eversion
        ExecutionLogEntry.objects.bulk_create(
            log_entry_row(run.id, state.eversion, entry, f"{run.d.key}.log[{n}]")
            for n, entry in enumerate(entries)
        )

    # The run's end -----------------------------------------------------------------------

    def settle(self, run: _RunState) -> None:
        """What the Run Manager made of the execution state (§3.2), and the CL messages."""
        d = run.d
        t = run.state_end
        passes = run.state_version
        if run.status == ExecutionStatus.FAILED:
            end = t + timedelta(seconds=4 if d.verified else 3)
            self.verify(run, t + timedelta(seconds=2), VerifyAction.FAIL)
            self.bot_says(run, end, self.failure_message(run), remove_votes=True)
            self.end_run(run, RunStatus.FAILED, end, eversion=passes + 3)
        elif run.status == ExecutionStatus.SUCCEEDED and d.mode == RunMode.FULL_RUN:
            self.verify(run, t + timedelta(seconds=2), VerifyAction.SUBMIT)
            if d.submit == "waiting":
                self.end_run(run, RunStatus.WAITING_FOR_SUBMISSION, None, eversion=passes + 3)
            elif d.submit == "submitting":
                self.end_run(run, RunStatus.SUBMITTING, None, eversion=passes + 4)
            else:
                end = t + timedelta(seconds=95)
                for cl in run.cls:
                    cl.merged_at = end
                    ps = run.patchsets[cl.d.key]
                    cl.messages.append(
                        (
                            end,
                            run.project.bot,
                            "Change has been successfully merged\n\n"
                            f"{ps} is the latest approved patch-set.\nNo files were changed "
                            "between the latest approved patch-set and the submitted one.",
                        )
                    )
                self.end_run(run, RunStatus.SUCCEEDED, end, eversion=passes + 5)
        elif run.status == ExecutionStatus.SUCCEEDED:
            end = t + timedelta(seconds=4 if d.verified else 3)
            self.verify(run, t + timedelta(seconds=2), VerifyAction.DRY_RUN_OK)
            if d.mode != RunMode.NEW_PATCHSET_RUN:
                label = "Quick dry run" if d.mode == RunMode.QUICK_DRY_RUN else "Dry run"
                self.bot_says(
                    run, end, f"{label}: This CL passed the CQ dry run.", remove_votes=True
                )
            self.end_run(run, RunStatus.SUCCEEDED, end, eversion=passes + 3)
        elif d.cancelled is not None:
            end = self.ago(d.cancelled)
            if d.vote_removed:
                for cl in run.cls:
                    cl.vote(end, "Commit-Queue", run.by, 0)
            self.end_run(run, RunStatus.CANCELLED, end, eversion=3)
        else:
            self.end_run(run, RunStatus.RUNNING, None, eversion=2)

    def end_run(
        self, run: _RunState, status: RunStatus, end: datetime | None, *, eversion: int
    ) -> None:
        if status != run.d.expect:
            raise DemoStoryError(
                f"{run.d.key} ends up {status.name}, the script expects {run.d.expect.name}"
            )
        if end is not None and end > self.now:
            raise DemoStoryError(f"{run.d.key} would end in the future ({end})")
        run.row.status = status
        run.row.end_time = end
        run.row.eversion = eversion
        run.row.save()

    def verify(self, run: _RunState, t: datetime, action: VerifyAction) -> None:
        """CQDaemon's ReportVerifiedRun, when the script has one for this run."""
        if run.d.verified is None:
            return
        if run.d.verified != action:
            raise DemoStoryError(f"{run.d.key}: CQDaemon cannot report {run.d.verified.name}")
        status = bq_pb.FAILURE if action == VerifyAction.FAIL else bq_pb.SUCCESS
        substatus = bq_pb.FAILED_TRYJOBS if action == VerifyAction.FAIL else bq_pb.NO_SUBSTATUS
        request = migration_pb.ReportVerifiedRunRequest(
            run=migration_pb.ReportedRun(
                id=run.id, attempt=self.bq_attempt(run, status, substatus=substatus, end=t)
            ),
            action=action,
            final_message=self.failure_message(run) if action == VerifyAction.FAIL else "",
        )
        row = verified_run_row(run.id, request)
        row.update_time = t
        row.save(force_insert=True)

    def start_message(self, run: _RunState) -> str:
        label = {
            RunMode.DRY_RUN: "Dry run: ",
            RunMode.QUICK_DRY_RUN: "Quick dry run: ",
        }.get(run.d.mode, "")
        cl = run.cls[-1]
        data = {
            "action": "start",
            "triggered_at": run.row.create_time.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "revision": cl.revision(run.patchsets[cl.d.key]),
        }
        return f"{label}CV is trying the patch.\n\nBot data: {json.dumps(data)}"

    def failure_message(self, run: _RunState) -> str:
        prefix = "Dry run: " if run.d.mode != RunMode.FULL_RUN else ""
        parts = []
        for tj in run.unsuccessful:
            _, result, external_id = tj.at(self.now)
            parts.append(
                f"Tryjob [{tj.builder.id}]({external_id_url(external_id)}) has failed with "
                f"summary:\n\n---\n{result.buildbucket.summary_markdown}"
            )
        for definition, reason in run.launch_failures:
            b = definition.buildbucket.builder
            parts.append(
                f"Failed to launch tryjob `{b.project}/{b.bucket}/{b.builder}`. Reason: {reason}"
            )
        return f"{prefix}This CL has failed the run. Reason:\n\n" + "\n\n".join(parts)

    def bot_says(
        self, run: _RunState, t: datetime, text: str, *, remove_votes: bool = False
    ) -> None:
        for cl in run.cls:
            if remove_votes:
                ps = cl.patchset_at(t)
                removed = "-Commit-Queue"
                cl.votes.append((t, "Commit-Queue", run.by, 0))
                if run.d.mode == RunMode.QUICK_DRY_RUN:
                    cl.votes.append((t, "Quick-Run", run.by, 0))
                    removed += " -Quick-Run"
                cl.messages.append((t, run.project.bot, f"Patch Set {ps}: {removed}\n\n{text}"))
            else:
                cl.messages.append((t, run.project.bot, text))

    # CQDaemon ----------------------------------------------------------------------------

    def bq_attempt(
        self,
        run: _RunState,
        status: int,
        *,
        substatus: int = 0,
        end: datetime | None = None,
        submitted: bool = False,
        builds: Iterable[bq_pb.Build] | None = None,
    ) -> bq_pb.Attempt:
        clids_ps = [
            (
                cl.host,
                cl.d.change,
                run.patchsets[cl.d.key],
                cl.min_equivalent(run.patchsets[cl.d.key]),
            )
            for cl in run.cls
        ]
        msg = bq_pb.Attempt(
            key=run.row.cqd_attempt_key,
            luci_project=run.project.name,
            cl_group_key=_sha1("cl-group", *[c[:3] for c in clids_ps])[:16],
            equivalent_cl_group_key=_sha1("cl-group", *[(*c[:2], c[3]) for c in clids_ps])[:16],
            start_time=_ts(run.row.start_time or run.row.create_time),
            status=status,
            substatus=substatus,
            config_group=run.project.config_group,
        )
        if end is not None:
            msg.end_time.CopyFrom(_ts(end))
        for run_cl, cl in zip(run.run_cls, run.cls, strict=True):
            msg.gerrit_changes.add(
                host=cl.host,
                project=cl.project.gerrit_project,
                change=cl.d.change,
                patchset=run_cl.patchset,
                earliest_equivalent_patchset=run_cl.min_equivalent_patchset,
                trigger_time=_ts(run_cl.trigger_time),
                mode=mode_to_bigquery(run.d.mode),
                submit_status=bq_pb.GerritChange.SUCCESS if submitted else 0,
            )
        if builds is None:
            builds = []
            for execution in run.execs:
                latest = execution.latest
                if latest is None or not latest.tj.build_id or not latest.external_id:
                    continue
                if latest.reused:
                    origin = bq_pb.Build.REUSED
                elif execution.definition.disable_reuse:
                    origin = bq_pb.Build.NOT_REUSABLE
                else:
                    origin = bq_pb.Build.NOT_REUSED
                builds.append(
                    bq_pb.Build(
                        id=latest.tj.build_id,
                        host=BUILDBUCKET_HOST,
                        origin=origin,
                        critical=execution.definition.critical,
                    )
                )
        msg.builds.extend(builds)
        return msg

    def cqd_builds(self, builders: Iterable[Builder], t: datetime) -> list[bq_pb.Build]:
        """Builds CQDaemon ran itself (no cvsite tryjob knows them)."""
        return [
            bq_pb.Build(
                id=self.build_id(t + timedelta(seconds=n)),
                host=BUILDBUCKET_HOST,
                origin=bq_pb.Build.NOT_REUSABLE if b.disable_reuse else bq_pb.Build.NOT_REUSED,
                critical=b.critical,
            )
            for n, b in enumerate(builders)
        ]

    def finish_by_cqd(self, run: _RunState, start: datetime) -> None:
        """CQDaemon was in charge: it verified and submitted, then reported ReportFinishedRun."""
        end = start + timedelta(minutes=62)
        attempt = self.bq_attempt(
            run,
            bq_pb.SUCCESS,
            substatus=bq_pb.NO_SUBSTATUS,
            end=end,
            submitted=True,
            builds=self.cqd_builds(run.project.builders, start + timedelta(seconds=20)),
        )
        reported = migration_pb.ReportedRun(id=run.id, attempt=attempt)
        FinishedCQDRun.objects.create(
            run=run.row, update_time=end + timedelta(seconds=5), **reported_run_columns(reported)
        )
        for cl in run.cls:
            cl.merged_at = end
            cl.messages.append((end, run.project.bot, "Change has been successfully merged by CQ."))
        run.row.finalized_by_cqd = True
        self.end_run(run, RunStatus.SUCCEEDED, end, eversion=3)

    def reported_runs(self) -> None:
        """One ReportRuns snapshot per project: the runs CQDaemon is working on."""
        for project in PROJECTS.values():
            running = [
                r
                for r in self.runs.values()
                if r.project is project and r.row.status == RunStatus.RUNNING
            ]
            if not running:
                continue
            if ReportedRunsSnapshot.objects.filter(project=project.name).exists():
                self.notes.append(
                    f"{project.name} already has a ReportRuns snapshot; left as it is"
                )
                continue
            snapshot = ReportedRunsSnapshot.objects.create(
                project=project.name,
                reported_at=self.ago(0.25),
                reported_by=f"project:{project.name}",
            )
            ReportedRun.objects.bulk_create(
                ReportedRun(
                    snapshot=snapshot,
                    position=position,
                    run=r.row,
                    **reported_run_columns(
                        migration_pb.ReportedRun(
                            id=r.id,
                            attempt=self.bq_attempt(r, bq_pb.STARTED),
                        )
                    ),
                )
                for position, r in enumerate(sorted(running, key=lambda r: r.id))
            )

    def unclaimed_cqd_attempt(self) -> None:
        """CQDaemon finished an attempt (ABORTED) for which cvsite has no Run."""
        key, triggered, aborted = UNCLAIMED_CQD_ATTEMPT
        cl = self.cls[key]
        trigger, end = self.ago(triggered), self.ago(aborted)
        ps = cl.patchset_at(trigger)
        cl.vote(trigger, "Commit-Queue", cl.d.owner, 1)
        cl.messages.append(
            (
                trigger + timedelta(seconds=40),
                PROJECTS[cl.d.project].bot,
                "Dry run: CQ is trying the patch.",
            )
        )
        cl.vote(end, "Commit-Queue", cl.d.owner, 0)
        project = PROJECTS[cl.d.project]
        attempt = bq_pb.Attempt(
            key=attempt_key(
                [
                    AttemptKeyCL(
                        host=cl.host,
                        change=cl.d.change,
                        current_revision=cl.revision(ps),
                        trigger_time=trigger,
                        mode=RunMode.DRY_RUN,
                        gerrit_account_id=cl.d.owner.account_id,
                    )
                ]
            ),
            luci_project=project.name,
            cl_group_key=_sha1("cl-group", (cl.host, cl.d.change, ps))[:16],
            equivalent_cl_group_key=_sha1("cl-group", (cl.host, cl.d.change, ps))[:16],
            start_time=_ts(trigger + timedelta(seconds=30)),
            end_time=_ts(end),
            gerrit_changes=[
                bq_pb.GerritChange(
                    host=cl.host,
                    project=project.gerrit_project,
                    change=cl.d.change,
                    patchset=ps,
                    earliest_equivalent_patchset=cl.min_equivalent(ps),
                    trigger_time=_ts(trigger),
                    mode=bq_pb.DRY_RUN,
                )
            ],
            builds=self.cqd_builds(project.builders[:3], trigger + timedelta(seconds=45)),
            status=bq_pb.ABORTED,
            substatus=bq_pb.MANUAL_CANCEL,
            config_group=project.config_group,
        )
        FinishedCQDRun.objects.create(
            update_time=end + timedelta(seconds=20),
            **reported_run_columns(migration_pb.ReportedRun(attempt=attempt)),
        )

    def netrc_tokens(self) -> None:
        for host in NETRC_HOSTS:
            if NetrcToken.objects.filter(gerrit_host=host).exists():
                self.notes.append(f"a netrc token for {host} exists; left as it is")
                continue
            token = NetrcToken(gerrit_host=host)
            token.set_access_token(f"{DEMO_TOKEN_PREFIX}{host.split('.')[0]}-not-a-secret")
            token.save()

    # Tryjob rows -------------------------------------------------------------------------

    def finish_tryjobs(self) -> None:
        """Completes the tryjob rows: eversion (one per change), update time, reused_by."""
        for tj in self.tryjobs:
            changes = [c.time for c in tj.history if c.time <= self.now]
            reuses = [t for run, t in tj.reused_by if run is not tj.launched_by]
            external = tj.launched_by is None  # created by the reuse itself
            Tryjob.objects.filter(pk=tj.row.pk).update(
                eversion=len(changes) + len(reuses) - (1 if external else 0),
                update_time=max([*changes, *reuses]),
            )
            if tj.reused_by:
                tj.row.reused_by.set([run.row for run, _ in tj.reused_by])
