"""Properties of the computation: determinism, the monotonic rules of location filters, and
the precompiled plan (location plan, draw thresholds) answering as the builder-by-builder rules."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf import text_format
from hypothesis import given, settings
from hypothesis import strategies as st

from cvproto.cv.config import config_pb2
from projectconfig.go_rand import (
    REDRAW_FROM,
    Draws,
    GoRand,
    as_float32,
    draw_of,
    percent_draw,
    selection_threshold,
)
from projectconfig.location import (
    LocationPlan,
    PathPatterns,
    compile_location_filters,
    location_included,
)
from projectconfig.requirement import (
    ChangeList,
    CompiledGroup,
    Identities,
    RunInput,
    compute,
)
from projectconfig.tests.reference import reference_requirement

SEGMENTS = ["a", "b", "docs", "src", "x.cc", "infra"]
PATTERNS = [".*", "a/.+", "docs/.+", "src/.*\\.cc", ".+/b", "a|b", "docs", "infra/.*"]
HOSTS = ["h1-review.googlesource.com", "h2-review.googlesource.com"]
PROJECTS = ["repo", "other"]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

paths = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3).map("/".join)
location_filter = st.builds(
    config_pb2.Verifiers.Tryjob.Builder.LocationFilter,
    gerrit_host_regexp=st.sampled_from(["", ".*", "h1-review.googlesource.com"]),
    gerrit_project_regexp=st.sampled_from(["", "repo", "other"]),
    path_regexp=st.sampled_from(PATTERNS),
    exclude=st.booleans(),
)
filter_lists = st.lists(location_filter, min_size=1, max_size=4)


ONE_PARENT = st.just(1)


@st.composite
def change_lists(draw, parents=ONE_PARENT) -> ChangeList:
    return ChangeList(
        id=draw(st.integers(1, 2**62)),
        host=draw(st.sampled_from(HOSTS)),
        project=draw(st.sampled_from(PROJECTS)),
        ref="refs/heads/main",
        owner=draw(st.sampled_from(["a@example.com", "b@example.com"])),
        trigger_time=EPOCH + timedelta(seconds=draw(st.integers(0, 10**8))),
        files=tuple(draw(st.lists(paths, max_size=4, unique=True))),
        parent_count=draw(parents),
    )


def included(filters, cls) -> bool:
    return location_included(compile_location_filters(filters), cls)


def without_files(cl: ChangeList, keep) -> ChangeList:
    return replace(cl, files=tuple(f for f in cl.files if f in keep))


@given(filter_lists, st.lists(change_lists(), min_size=1, max_size=3), st.data())
def test_removing_files_never_includes_a_builder(filters, cls, data):
    smaller = [
        without_files(cl, data.draw(st.sets(st.sampled_from(cl.files or ("",))))) for cl in cls
    ]
    if included(filters, smaller):
        assert included(filters, cls)


@given(filter_lists, st.lists(change_lists(), min_size=1, max_size=3), change_lists())
def test_adding_a_cl_never_excludes_a_builder(filters, cls, extra):
    if included(filters, cls):
        assert included(filters, [*cls, extra])


@given(filter_lists, st.lists(change_lists(), min_size=1, max_size=3), location_filter)
def test_a_last_exclude_filter_never_includes_and_a_last_include_never_excludes(filters, cls, last):
    extended = included([*filters, last], cls)
    if last.exclude and extended:
        assert included(filters, cls)
    if not last.exclude and included(filters, cls):
        assert extended


@given(filter_lists, change_lists(parents=st.integers(2, 3)))
def test_a_merge_commit_without_files_is_judged_by_its_repo(filters, cl):
    merge = without_files(cl, ())
    compiled = compile_location_filters(filters)
    expected = filters[0].exclude or any(
        not f.exclude and f.matches_repo(merge) for f in compiled.filters
    )
    assert location_included(compiled, [merge]) is expected


# ------------------------------------------------------------------------ the whole computation

builder = st.builds(
    dict,
    experiment=st.sampled_from([0, 0, 5, 50, 100]),
    equivalent=st.sampled_from([None, 0, 30, 100]),
    filters=st.lists(location_filter, max_size=2),
    disable_reuse=st.booleans(),
    allowlist=st.sampled_from([[], ["g"]]),
    skip=st.booleans(),
)


def group_of(builders: list[dict], experiments: bool = False) -> CompiledGroup:
    group = config_pb2.ConfigGroup(name="g")
    if experiments:
        group.tryjob_experiments.add(name="everyone")
        group.tryjob_experiments.add(name="in-g").condition.owner_group_allowlist.append("g")
    for i, spec in enumerate(builders):
        b = group.verifiers.tryjob.builders.add(
            name=f"p/try/b{i}",
            disable_reuse=spec["disable_reuse"],
            owner_whitelist_group=spec["allowlist"],
            location_filters=spec["filters"],
        )
        if spec["skip"]:
            b.skip_footers.add(key="Skip", value_regexp="^yes$")
        if spec["equivalent"] is not None:
            b.equivalent_to.name = f"p/try/e{i}"
            b.equivalent_to.percentage = spec["equivalent"]
        elif spec["experiment"]:
            b.experiment_percentage = spec["experiment"]
    return CompiledGroup(
        text_format.Parse(text_format.MessageToString(group), config_pb2.ConfigGroup())
    )


identities = Identities(groups={"a@example.com": frozenset({"g"})})


@settings(max_examples=50)
@given(
    st.lists(builder, min_size=1, max_size=8),
    st.lists(change_lists(), min_size=1, max_size=3, unique_by=lambda cl: cl.id),
    st.randoms(use_true_random=False),
)
def test_the_same_cls_and_triggers_give_the_same_requirement(builders, cls, rng: random.Random):
    group = group_of(builders)
    first = compute(group, RunInput("DRY_RUN", tuple(cls), identities))
    shuffled = list(cls)
    rng.shuffle(shuffled)
    assert compute(group_of(builders), RunInput("DRY_RUN", tuple(shuffled), identities)) == first


@settings(max_examples=50)
@given(
    st.lists(builder, min_size=1, max_size=8),
    st.lists(change_lists(), min_size=1, max_size=3, unique_by=lambda cl: cl.id),
)
def test_no_try_keeps_exactly_the_presubmit_builders(builders, cls):
    group = group_of(builders)
    plain = compute(group, RunInput("DRY_RUN", tuple(cls), identities))
    no_try = tuple(replace(cl, commit_message="T\n\nNo-Try: true\n") for cl in cls)
    expected = [d for d in plain.definitions if d.disable_reuse]
    assert list(compute(group, RunInput("DRY_RUN", no_try, identities)).definitions) == expected


# ------------------------------------------------------------------------ the precompiled plan


@given(
    st.lists(filter_lists, min_size=1, max_size=6),
    st.lists(change_lists(parents=st.integers(1, 2)), min_size=1, max_size=3),
)
def test_a_location_plan_judges_each_builder_as_location_included(lists, cls):
    paths = PathPatterns()
    compiled = [compile_location_filters(filters, paths) for filters in lists]
    mask = LocationPlan(list(enumerate(compiled))).mask(cls)
    assert [bool(mask >> bit & 1) for bit in range(len(lists))] == [
        location_included(filters, cls) for filters in compiled
    ]


@settings(max_examples=200)
@given(
    st.integers(-(2**63), 2**63 - 1),
    st.lists(st.integers(0, 700), min_size=1, max_size=6),
    st.sampled_from([0.001, 1, 5, 20, 33.3, 50, 99.9, 100]),
    st.integers(1, 80),
)
def test_draw_values_against_thresholds_are_gos_percent_draws(
    seed, positions, percentage, expected
):
    rand = GoRand(seed)
    sequence = [percent_draw(rand) for _ in range(max(positions) + 1)]
    draws = Draws(seed, expected)  # the values expected are made at once, the rest as read
    threshold = selection_threshold(as_float32(percentage))
    for position in positions:  # in any order, as builders read them
        assert draws.selected(position, threshold) == (sequence[position] <= as_float32(percentage))


def test_values_that_go_draws_again_from_are_skipped():
    assert draw_of(REDRAW_FROM) is None and draw_of(REDRAW_FROM - 1) is not None
    assert draw_of((1 << 63) - 1) is None
    # A threshold of 100% admits every value Go keeps.
    assert selection_threshold(as_float32(100)) == REDRAW_FROM - 1


FOOTERS = [
    "",
    "No-Try: true",
    "No-Presubmit: true",
    "Cq-Do-Not-Cancel-Tryjobs: true",
    "No-Equivalent-Builders: true",
    "Skip: yes",
]


@settings(max_examples=150)
@given(
    st.lists(builder, min_size=1, max_size=10),
    st.lists(change_lists(parents=st.integers(1, 2)), min_size=1, max_size=3),
    st.sampled_from(["DRY_RUN", "FULL_RUN", "NEW_PATCHSET_RUN"]),
    st.sampled_from(FOOTERS),
    st.lists(st.integers(0, 9), max_size=2),
    st.booleans(),
)
def test_the_plan_answers_as_each_builder_in_turn(builders, cls, mode, footer, named, experiments):
    group = group_of(builders, experiments)
    include = ",".join(f"b{i}" for i in named if i < len(builders))
    message = f"T\n\n{footer}\n" + (f"Cq-Include-Trybots: p/try:{include}\n" if include else "")
    cls = tuple(replace(cl, commit_message=message) for cl in cls)
    run = RunInput(mode, cls, identities)
    assert compute(group, run) == reference_requirement(group, run)


@pytest.mark.parametrize(
    ("named", "files"),
    [
        ("b0", ("a/x",)),  # a step named: its own place
        ("b1", ("a/x",)),  # includable only, between two steps
        ("b3", ("a/x",)),  # includable only, after the last step
        ("b1,b3", ("docs/x",)),  # named around steps the location leaves out
        ("b0,b1,b2,b3", ("a/x", "docs/x")),
    ],
)
def test_named_builders_take_their_place_in_config_order(named, files):
    group = config_pb2.ConfigGroup(name="g")
    for i in range(4):
        b = group.verifiers.tryjob.builders.add(name=f"p/try/b{i}", includable_only=i in (1, 3))
        b.location_filters.add(path_regexp="a/.+")
    compiled = CompiledGroup(group)
    cl = ChangeList(
        id=1,
        host=HOSTS[0],
        project="repo",
        ref="refs/heads/main",
        owner="a@example.com",
        files=files,
        commit_message=f"T\n\nCq-Include-Trybots: p/try:{named}\n",
    )
    run = RunInput("DRY_RUN", (cl,), identities)
    assert compute(compiled, run) == reference_requirement(compiled, run)
