"""Table tests over the real Chromium and ANGLE configs (tests/data/), through the pure core.

The Chromium rows are cv_config.md §9's real-config illustrations (computed by the reference
model): group `cq`, chromium/src on refs/heads/main, CL 4242 triggered at 1700000000, an owner
in no group unless a row says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from projectconfig.actions import parse_config
from projectconfig.compiled import CompiledConfig, requirement_for_run
from projectconfig.matcher import NoGroupError
from projectconfig.requirement import ChangeList, ComputationFailure, Identities, RunInput
from projectconfig.tests.support import DATA

CHROMIUM = CompiledConfig(
    parse_config((DATA / "chromium-commit-queue.cfg").read_text(), "chromium-commit-queue.cfg")
)
ANGLE = CompiledConfig(
    parse_config((DATA / "angle-commit-queue.cfg").read_text(), "angle-commit-queue.cfg")
)
GERRIT = "chromium-review.googlesource.com"
OWNER = "dev@example.com"
CODE = ["chrome/browser/ui/foo.cc"]


def run(
    config: CompiledConfig,
    files,
    *,
    project: str = "chromium/src",
    ref: str = "refs/heads/main",
    mode: str = "DRY_RUN",
    footers: str = "",
    cl_id: int = 4242,
    identities: Identities | None = None,
):
    cl = ChangeList(
        id=cl_id,
        host=GERRIT,
        project=project,
        ref=ref,
        owner=OWNER,
        trigger_time=datetime.fromtimestamp(1700000000, UTC),
        files=tuple(files),
        commit_message="Title\n\nBody\n" + (f"\n{footers}\n" if footers else ""),
    )
    return requirement_for_run(config, RunInput(mode, (cl,), identities or Identities()))


def names(result) -> list[str]:
    assert not isinstance(result.outcome, ComputationFailure), result.outcome
    return [
        "/".join(
            (
                d.buildbucket.builder.project,
                d.buildbucket.builder.bucket,
                d.buildbucket.builder.builder,
            )
        )
        for d in result.outcome.definitions
    ]


# ------------------------------------------------------------------------------- Chromium


@pytest.mark.parametrize(
    ("ref", "group"),
    [
        ("refs/heads/main", "cq"),
        ("refs/heads/feature/x", "cq"),
        ("refs/branch-heads/6099", "fallback-cq"),
        ("refs/branch-heads/7444_12", "fallback-cq"),
    ],
)
def test_chromium_group_choice(ref, group):
    assert run(CHROMIUM, CODE, ref=ref).group_name == group


@pytest.mark.parametrize("ref", ["refs/branch-heads/7204", "refs/tags/1.0", "refs/meta/config"])
def test_chromium_refs_no_group_watches(ref):
    with pytest.raises(NoGroupError):
        run(CHROMIUM, CODE, ref=ref)


def test_chromium_other_repos_are_not_watched():
    with pytest.raises(NoGroupError):
        run(CHROMIUM, CODE, project="v8/v8")


def test_chromium_docs_change_runs_the_presubmits_only():
    assert names(run(CHROMIUM, ["docs/README.md"])) == [
        "chromium/try/linux-presubmit",
        "chromium/try/win-presubmit",
    ]


def test_chromium_config_change_adds_the_branch_config_verifier():
    result = names(run(CHROMIUM, ["infra/config/foo.star"]))
    assert sorted(result) == [
        "chromium/try/branch-config-verifier",
        "chromium/try/linux-presubmit",
        "chromium/try/win-presubmit",
    ]


def test_chromium_code_change():
    result = run(CHROMIUM, CODE)
    definitions = result.outcome.definitions
    assert len(definitions) == 31
    assert sum(d.critical for d in definitions) == 30
    (optional,) = [d for d in definitions if d.optional]
    assert optional.buildbucket.builder.builder == "mac15-arm64-rel"  # at 100%
    built = set(names(result))
    # Drawn out for this CL (10%, 10%, 5%), and googlers-only builders for a non-member.
    for absent in ("linux-full-remote-rel", "linux-rel-test-selection", "ios-simulator-exp"):
        assert f"chromium/try/{absent}" not in built
    gtest = [d for d in definitions if d.buildbucket.builder.builder.endswith("generic-rel-gtest")]
    assert len(gtest) == 1 and not gtest[0].HasField("equivalent_to")
    assert all(list(d.experiments) == [] for d in definitions)


def test_chromium_equivalent_builder_for_an_owner_in_its_group():
    identities = Identities(groups={OWNER: frozenset({"google/chromeos-pa@google.com"})})
    result = run(CHROMIUM, CODE, identities=identities)
    (flipped,) = [d for d in result.outcome.definitions if d.HasField("equivalent_to")]
    assert flipped.buildbucket.builder.builder == "chromeos-amd64-generic-rel-gtest-and-tast"
    assert flipped.equivalent_to.buildbucket.builder.builder == "chromeos-amd64-generic-rel-gtest"


def test_chromium_honors_linked_accounts():
    """Chromium sets honor_gerrit_linked_accounts: a linked account's groups count."""
    identities = Identities(
        groups={"dev@google.com": frozenset({"google/chromeos-pa@google.com"})},
        linked_accounts={OWNER: ("dev@google.com",)},
    )
    result = run(CHROMIUM, CODE, identities=identities)
    assert any(d.HasField("equivalent_to") for d in result.outcome.definitions)


def test_chromium_new_patchset_run():
    result = run(CHROMIUM, CODE, mode="NEW_PATCHSET_RUN")
    assert names(result) == [
        "chromium/try/tricium-clang-tidy",
        "chromium/try/tricium-oilpan-analysis",
    ]
    assert all(d.optional for d in result.outcome.definitions)
    assert "chromium/try/tricium-metrics-analysis" in names(
        run(CHROMIUM, ["tools/metrics/histograms/enums.xml"], mode="NEW_PATCHSET_RUN")
    )


def test_chromium_mega_dry_run():
    assert sorted(names(run(CHROMIUM, CODE, mode="CQ_MODE_MEGA_DRY_RUN"))) == [
        "chrome/try/mega-cq-launcher",
        "chromium/try/mega-cq-launcher",
    ]


def test_chromium_includable_only_builder_needs_the_footer():
    builder = "chromium/try/linux-perfetto-rel"
    assert builder not in names(run(CHROMIUM, CODE))
    included = run(
        CHROMIUM, CODE, footers="Cq-Include-Trybots: luci.chromium.try:linux-perfetto-rel"
    )
    (definition,) = [d for d in included.outcome.definitions if names_of(d) == builder]
    assert definition.critical
    assert list(definition.disable_reuse_footers) == ["Include-Ci-Only-Tests"]


def test_chromium_googlers_only_builder_refuses_an_outsider():
    result = run(CHROMIUM, CODE, footers="Cq-Include-Trybots: chrome/try:linux-perf-trigger")
    assert result.outcome.kind == "unauthorizedIncludedTryjob"
    assert result.outcome.reason == (
        f'user {OWNER} is not allowed to trigger "chrome/try/linux-perf-trigger"'
    )


def test_chromium_experiment_draws_follow_the_cl():
    """10%-builders: over 200 CLs some runs get them and most do not, always the same ones."""
    builder = "chromium/try/linux-full-remote-rel"
    picked = [i for i in range(200) if builder in names(run(CHROMIUM, CODE, cl_id=5000 + i))]
    assert 5 <= len(picked) <= 40
    assert picked == [
        i for i in range(200) if builder in names(run(CHROMIUM, CODE, cl_id=5000 + i))
    ]
    (definition,) = [
        d for d in run(CHROMIUM, CODE, cl_id=5000 + picked[0]).outcome.definitions
        if names_of(d) == builder
    ]  # fmt: skip
    assert definition.optional and not definition.critical


def names_of(definition) -> str:
    builder = definition.buildbucket.builder
    return f"{builder.project}/{builder.bucket}/{builder.builder}"


# ------------------------------------------------------------------------------- ANGLE

ANGLE_BUILDERS = ANGLE.config.config_groups[0].verifiers.tryjob.builders
INCLUDABLE = {b.name for b in ANGLE_BUILDERS if b.includable_only}


def angle(files, **options):
    return run(ANGLE, files, project="angle/angle", **options)


def test_angle_group_choice():
    assert angle(["src/libANGLE/Context.cpp"]).group_name == "main"
    with pytest.raises(NoGroupError):
        angle(["a"], ref="refs/heads/chromium/1234")


def test_angle_code_change_runs_no_includable_only_builder():
    built = set(names(angle(["src/libANGLE/Context.cpp"])))
    assert len(INCLUDABLE) == 30
    assert not built & INCLUDABLE
    assert "angle/try/angle-cq-linux-x64-asan" in built
    assert "angle/try/presubmit" in built
    # Trace builders run only for capture and test-expectation paths (include-first filters).
    assert "angle/try/angle-cq-win-x64-trace" not in built
    assert "angle/try/angle-cq-win-x64-trace" in names(angle(["src/tests/capture_replay/x.cpp"]))


@pytest.mark.parametrize(
    ("path", "builder", "included"),
    [
        ("infra/config/main.star", "angle/try/angle-cq-linux-x64-asan", False),
        (
            "infra/config/generated/builders/try/angle-cq-linux-x64-asan/properties.json",
            "angle/try/angle-cq-linux-x64-asan",
            True,
        ),
        (
            "infra/config/generated/builders/try/angle-cq-linux-x64-asan/properties.json",
            "angle/try/angle-cq-linux-x64-dbg",
            False,
        ),
        ("infra/config/main.star", "angle/try/presubmit", True),
        ("include/GLES2/gl2.h", "angle/try/angle-cq-linux-x64-dbg", True),
    ],
)
def test_angle_location_filters_with_real_paths(path, builder, included):
    assert (builder in names(angle([path]))) is included


def test_angle_includable_only_builder_with_the_footer():
    builder = "angle/try/angle-try-android-arm64-google-pixel6-rel"
    result = angle(
        ["a"], footers="Cq-Include-Trybots: angle/try:angle-try-android-arm64-google-pixel6-rel"
    )
    assert builder in names(result)


@pytest.mark.parametrize(
    ("mode", "count"), [("DRY_RUN", 30), ("FULL_RUN", 30), ("NEW_PATCHSET_RUN", 0)]
)
def test_angle_mode_allowlists(mode, count):
    assert len(names(angle(["src/libANGLE/Context.cpp"], mode=mode))) == count


def test_angle_no_try_keeps_only_the_presubmit():
    assert names(angle(["src/libANGLE/Context.cpp"], footers="No-Try: true")) == [
        "angle/try/presubmit"
    ]
    assert "angle/try/presubmit" not in names(angle(["a"], footers="No-Presubmit: true"))
