"""The plan-based computation over the real Chromium and ANGLE configs answers exactly as the
builder-by-builder reference (tests/reference.py), run after run, and as it did when written.

Generated runs mix modes, one or two CLs, owners in and out of the allowlists' groups, every
option footer, included builders (main, equivalent, includable-only, undefined, malformed) and
overrides. A third config is Chromium's with group experiments and a skip footer added, the
two features neither real config uses.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

import pytest

from cvproto.cv.config import config_pb2
from projectconfig.actions import parse_config
from projectconfig.compiled import CompiledConfig, requirement_for_run
from projectconfig.requirement import ChangeList, ComputationFailure, Identities, RunInput
from projectconfig.tests.reference import reference_requirement
from projectconfig.tests.support import DATA

RUNS = 400
CHROMIUM_PATHS = [
    "chrome/browser/ui/views/frame/browser_view.cc",
    "third_party/blink/renderer/core/dom/element.cc",
    "docs/testing/README.md",
    "infra/config/subprojects/chromium/try.star",
    "gpu/command_buffer/service/gles2_cmd_decoder.cc",
    "chromecast/base/cast_features.cc",
    "tools/clang/scripts/update.py",
    "chrome/updater/updater.cc",
    "content/browser/xr/service/xr_runtime_manager_impl.cc",
    "build/android/gyp/compile_java.py",
    "ui/gl/features.gni",
    "ios/chrome/browser/tabs/tab.mm",
]
ANGLE_PATHS = [
    "src/libANGLE/Context.cpp",
    "src/tests/gl_tests/StateChangeTest.cpp",
    "src/libANGLE/capture/FrameCapture.cpp",
    "DEPS",
    "infra/config/generated/builders/try/angle-cq-win-x86-rel/properties.json",
    "doc/README.md",
]
FOOTERS = [
    "",
    "Bug: 1234\nChange-Id: I0123",
    "No-Try: true",
    "No-Presubmit: true",
    "NOTRY=true",
    "Cq-Do-Not-Cancel-Tryjobs: true",
    "No-Equivalent-Builders: true",
    "Skip-Slow: yes please",
]
RARE_FOOTERS = [
    "Cq-Include-Trybots: luci.chromium.try:no-such-builder",
    "Cq-Include-Trybots: not a directive",
    "Override-Tryjobs-For-Automation: chromium/try:linux-rel,chromium-presubmit",
]
INCLUDED = {
    "chromium": [
        "luci.chromium.try:linux-afl-asan-rel",
        "chromium/try:chromeos-amd64-generic-rel-gtest-and-tast",
        "chromium/try:chromeos-amd64-generic-rel-gtest",
        "chrome/try:android-arm-rel-ready;chromium/try:linux-rel",
        "chrome/try:cronet-arm64-gn2bp-debug",
    ],
    "angle": [
        "angle/try:angle-try-android-arm64-google-pixel10-rel",
        "angle/try:angle-cq-win-arm64-rel,angle-cq-linux-x64-asan",
    ],
}
GROUPS = {
    "dev1@example.com": frozenset({"googlers"}),
    "dev2@example.com": frozenset({"project-chromium-robot-committers", "g-experiment"}),
    "dev3@example.com": frozenset({"google/chromeos-pa@google.com", "googlers"}),
}
WHERE = {
    "chromium": [
        ("chromium/src", "refs/heads/main"),
        ("chromium/src", "refs/heads/feature/x"),
        ("chromium/src", "refs/branch-heads/6099"),
    ],
    "angle": [("angle/angle", "refs/heads/main")],
}


def compiled(name: str) -> CompiledConfig:
    return CompiledConfig(parse_config((DATA / f"{name}-commit-queue.cfg").read_text(), name))


def with_experiments_and_a_skip_footer(config: CompiledConfig) -> CompiledConfig:
    extended = config_pb2.Config()
    extended.CopyFrom(config.config)
    for group in extended.config_groups:
        group.tryjob_experiments.add(name="luci.everyone")
        everyone = group.tryjob_experiments.add(name="luci.robots")
        everyone.condition.owner_group_allowlist.append("g-experiment")
        for builder in group.verifiers.tryjob.builders[::7]:
            builder.skip_footers.add(key="Skip-Slow", value_regexp="yes")
    return CompiledConfig(extended)


CONFIGS = {"chromium": compiled("chromium"), "angle": compiled("angle")}
CONFIGS["chromium+experiments"] = with_experiments_and_a_skip_footer(CONFIGS["chromium"])


def footer(rng: random.Random, project_name: str) -> str:
    kind = rng.random()
    if kind < 0.05:
        return rng.choice(RARE_FOOTERS)
    if kind < 0.3:
        return "Cq-Include-Trybots: " + rng.choice(INCLUDED[project_name])
    return rng.choice(FOOTERS)


def generated_runs(name: str) -> list[RunInput]:
    rng = random.Random(f"runs of {name}")
    project_name = name.split("+")[0]
    paths = ANGLE_PATHS if project_name == "angle" else CHROMIUM_PATHS
    start = datetime(2026, 1, 1, tzinfo=UTC)
    runs = []
    for i in range(RUNS):
        project, ref = rng.choice(WHERE[project_name])
        cls = tuple(
            ChangeList(
                id=rng.getrandbits(62),
                host="chromium-review.googlesource.com",
                project=project,
                ref=ref,
                owner=f"dev{rng.randrange(5)}@example.com",
                trigger_time=start + timedelta(seconds=rng.randrange(10**8)),
                files=tuple(rng.sample(paths, rng.randint(0, 3))),
                parent_count=rng.choice([1, 1, 1, 2]),
                commit_message=f"Change {i}\n\nBody\n\n{footer(rng, project_name)}\n",
            )
            for _ in range(rng.choice([1, 1, 2, 3]))
        )
        mode = rng.choice(["DRY_RUN", "FULL_RUN", "NEW_PATCHSET_RUN"])
        runs.append(RunInput(mode, cls, Identities(groups=GROUPS)))
    return runs


def encoded(outcome) -> bytes:
    if isinstance(outcome, ComputationFailure):
        return f"{outcome.kind}: {outcome.reason}".encode()
    return outcome.SerializeToString(deterministic=True)


def is_override(run: RunInput) -> bool:
    return any("Override-Tryjobs" in cl.commit_message for cl in run.cls)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_plan_answers_as_the_reference_on_real_configs(name):
    config = CONFIGS[name]
    for run in generated_runs(name):
        if is_override(run):
            continue
        computed = requirement_for_run(config, run)
        expected = reference_requirement(config.group(computed.group_index), run)
        assert computed.outcome == expected, run


# SHA-256 of every generated run's outcome, as the builder-by-builder computation gave them:
# override runs included, and a change in the reference itself shows here too.
FINGERPRINTS = {
    "chromium": "203597a27af74d5b31f3deb23ed06201827153f9ac8ff0bfbbff4ed2e6778d8d",
    "angle": "85774364c5dec5ed180c41c25b1ce2c9b9605870c2b4ed7f4500090ac9e614fb",
    "chromium+experiments": "8ec622148e508828122950cbc038773ff6a648a746511a4b018b592e9500ff90",
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_answers_are_those_of_the_first_computation(name):
    config = CONFIGS[name]
    digest = hashlib.sha256()
    for run in generated_runs(name):
        digest.update(encoded(requirement_for_run(config, run).outcome))
        digest.update(b"\0")
    assert digest.hexdigest() == FINGERPRINTS[name]
