"""A run's tryjob Requirement from its config group: pure, no ORM, no clock (cv_config.md §8).

Inputs
------
``CompiledGroup(group, honor_linked_accounts=False)``
    A ``cv.config.ConfigGroup`` with its builders' names split and patterns compiled once
    (build it once per config version and reuse it for every run).
``RunInput(mode, cls, identities)``
    The run: its mode string, its CLs (``ChangeList``: internal ID, Gerrit host/project/ref,
    owner, trigger time, files, parent count, commit message) and ``Identities`` (the LUCI
    groups, ``buildbucket.builds.add`` realms and linked accounts of the emails involved, as
    the auth service would answer).

Entry point
-----------
``compute(group, run) -> Requirement | ComputationFailure``. A ``ComputationFailure`` carries
upstream's user-facing reason (the run does not start, or fails, with it). A genuine error
(an invalid location regexp reached by the computation) raises ``RequirementError``.

Upstream QUIRKs, decided
------------------------
* Several builders fail at once: upstream computes builders in parallel and keeps whichever
  failure was stored last; here the first builder in config order wins, so the answer is
  stable.
* ``RunOwner`` is unused upstream and every allowlist checks the CL owners: kept.
* No-Try skips a builder even when ``Cq-Include-Trybots`` names it: kept.
* The override path checks an equivalent builder without a group against the *main*
  builder's allowlist, and has no ``builds.add`` fallback: kept.
* Draws happen before any skip, so adding a non-zero-percentage builder shifts the draws of
  every later one: kept (bit-compatibility is the point).
* Linked accounts (``honor_gerrit_linked_accounts``) count for group membership only; the
  ``builds.add`` fallback checks the owner's own email.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import struct
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime

from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.wire import length_delimited
from projectconfig.directives import InvalidDirectiveError, parse_directives
from projectconfig.footers import NO_OPTIONS, Metadata, RunOptions
from projectconfig.go_rand import (
    EVERY_DRAW,
    Draws,
    GoRand,
    as_float32,
    fresh_value,
    selection_threshold,
)
from projectconfig.location import (
    LocationFilters,
    LocationPlan,
    PathPatterns,
    compile_location_filters,
    location_included,
)
from projectconfig.regexps import Regexp, RegexpError, compile_re2

DEFAULT_BUILDBUCKET_HOST = "cr-buildbucket.appspot.com"
DRY_RUN = "DRY_RUN"
FULL_RUN = "FULL_RUN"
NEW_PATCHSET_RUN = "NEW_PATCHSET_RUN"
# A builder without mode_allowlist runs in these modes only.
DEFAULT_MODES = frozenset({DRY_RUN, FULL_RUN})
_NOTHING_INCLUDED: frozenset[str] = frozenset()  # no Cq-Include-Trybots

Builder = config_pb2.Verifiers.Tryjob.Builder


class RequirementError(Exception):
    """Not the user's doing (e.g. an invalid location regexp): upstream retries, never posts."""


@dataclass(frozen=True)
class ComputationFailure:
    """Why the run cannot have a requirement, as upstream tells the CLs' owners."""

    kind: str
    reason: str


@dataclass(frozen=True)
class ChangeList:
    id: int
    host: str
    project: str
    ref: str
    owner: str
    trigger_time: datetime | None = None
    files: tuple[str, ...] = ()
    parent_count: int = 1
    commit_message: str = ""


_NO_GROUPS: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Identities:
    """Who is who: LUCI groups, realms with builds.add and linked accounts, per email."""

    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)
    can_add_builds: Mapping[str, frozenset[str]] = field(default_factory=dict)
    linked_accounts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def in_any(self, email: str, groups: Sequence[str], honor_linked: bool) -> bool:
        if not self.groups.get(email, _NO_GROUPS).isdisjoint(groups):
            return True
        return honor_linked and any(
            not self.groups.get(e, _NO_GROUPS).isdisjoint(groups)
            for e in self.linked_accounts.get(email, ())
        )

    def can_trigger(self, email: str, realm: str) -> bool:
        return realm in self.can_add_builds.get(email, frozenset())


@dataclass(frozen=True)
class RunInput:
    mode: str
    cls: tuple[ChangeList, ...]
    identities: Identities = field(default_factory=Identities)


@dataclass(frozen=True)
class BuilderName:
    project: str
    bucket: str
    builder: str

    @classmethod
    def parse(cls, name: str) -> BuilderName:
        parts = name.split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"builder name {name!r} is not project/bucket/builder")
        return cls(*parts)

    @property
    def realm(self) -> str:
        return f"{self.project}:{self.bucket}"


@dataclass
class CompiledBuilder:
    config: Builder
    name: str
    main: BuilderName
    equivalent_name: str | None
    equivalent: BuilderName | None
    host: str
    modes: frozenset[str]
    skip_footers: dict[str, Regexp]
    # The float32 percentages upstream compares draws with; 0 means no draw.
    experiment: float
    equivalent_share: float
    # The greatest draw values that select the builder as an experiment, or its equivalent.
    experiment_threshold: int
    equivalent_threshold: int
    # The config fields each run reads, as plain values (a message field costs more to read).
    disable_reuse: bool = False
    critical: bool = True  # no experiment_percentage
    allowlist: tuple[str, ...] = ()
    equivalent_allowlist: tuple[str, ...] = ()
    _filters: LocationFilters | None = None
    _filter_error: str | None = None

    @classmethod
    def of(cls, config: Builder, paths: PathPatterns) -> CompiledBuilder:
        equivalent_name = config.equivalent_to.name if config.HasField("equivalent_to") else None
        compiled = cls(
            config=config,
            name=config.name,
            main=BuilderName.parse(config.name),
            equivalent_name=equivalent_name,
            equivalent=BuilderName.parse(equivalent_name) if equivalent_name else None,
            host=config.host or DEFAULT_BUILDBUCKET_HOST,
            modes=frozenset(config.mode_allowlist) or DEFAULT_MODES,
            # Keyed by footer: of two entries for one key only the last counts, as upstream.
            skip_footers={f.key: compile_re2(f.value_regexp) for f in config.skip_footers},
            experiment=as_float32(config.experiment_percentage),
            equivalent_share=as_float32(config.equivalent_to.percentage),
            experiment_threshold=_threshold(config.experiment_percentage),
            equivalent_threshold=_threshold(config.equivalent_to.percentage),
            disable_reuse=config.disable_reuse,
            critical=config.experiment_percentage == 0,
            allowlist=tuple(config.owner_whitelist_group),
            equivalent_allowlist=(
                (config.equivalent_to.owner_whitelist_group,)
                if config.equivalent_to.owner_whitelist_group
                else ()
            ),
        )
        try:
            compiled._filters = compile_location_filters(config.location_filters, paths)
        except RegexpError as e:
            # Upstream fails only when a run reaches this builder's location step.
            compiled._filter_error = f"builder {config.name!r}: location_filters: {e}"
        return compiled

    @property
    def location_filters(self) -> LocationFilters:
        if self._filter_error is not None:
            raise RequirementError(self._filter_error)
        return self._filters

    @property
    def main_only(self) -> bool:
        """Whether, once its mode and location admit it and it is not named in a footer,
        it gives one main-only Definition or nothing, decided by its experiment draw and
        owner allowlist alone: no equivalent, no skip footer (most builders of a config)."""
        return not (self.equivalent is not None or self.skip_footers or self._filter_error)


@functools.lru_cache(maxsize=1024)
def _threshold(percentage: float) -> int:
    return selection_threshold(as_float32(percentage))


class CompiledGroup:
    """A config group ready for many runs: builders parsed and their patterns compiled."""

    def __init__(self, group: config_pb2.ConfigGroup, honor_linked_accounts: bool = False):
        self.group = group
        self.name = group.name  # read for every run: a plain value, not a message field
        self.honor_linked_accounts = honor_linked_accounts
        tryjob = group.verifiers.tryjob
        # Every builder's path patterns in one set: a file is searched once per run.
        paths = PathPatterns()
        self.builders = [CompiledBuilder.of(b, paths) for b in tryjob.builders]
        self.names = {b.name for b in self.builders} | {
            b.equivalent_name for b in self.builders if b.equivalent_name
        }
        # Builder indices by main and equivalent name (the validator keeps them apart).
        self.by_name: dict[str, list[int]] = {}
        for index, b in enumerate(self.builders):
            self.by_name.setdefault(b.name, []).append(index)
            if b.equivalent_name:
                self.by_name.setdefault(b.equivalent_name, []).append(index)
        self.retry_config = tryjob.retry_config if tryjob.HasField("retry_config") else None
        self.experiments = tuple(
            (e.name, tuple(e.condition.owner_group_allowlist)) for e in group.tryjob_experiments
        )
        self.encoded_retry_config = (
            length_delimited(2, self.retry_config.SerializeToString())
            if self.retry_config is not None
            else b""
        )
        # Every builder with a percentage takes the next draw of its stream, skipped or not:
        # a builder's draw is the one at its position (§8.4).
        self.experiment_draw: list[int] = []
        self.equivalent_draw: list[int] = []
        experiments = equivalents = 0
        for b in self.builders:
            self.experiment_draw.append(experiments)
            self.equivalent_draw.append(equivalents)
            experiments += b.experiment != 0
            equivalents += b.equivalent_share != 0
        self._plans: dict[tuple[str, bool, bool, bool], _Plan] = {}
        # By mode, the plan of runs whose CLs set no option (most runs): no key to build.
        self._plain_plans: dict[str, _Plan] = {}

    def plan(self, mode: str, options: RunOptions) -> _Plan:
        if options is NO_OPTIONS:
            plan = self._plain_plans.get(mode)
            if plan is None:
                plan = self._plain_plans[mode] = self._plan(mode, options)
            return plan
        return self._plan(mode, options)

    def _plan(self, mode: str, options: RunOptions) -> _Plan:
        key = (
            mode,
            options.skip_tryjobs,
            options.skip_presubmit,
            options.avoid_cancelling_tryjobs,
        )
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= 64:  # modes are the config's; never unbounded anyway
                self._plans.clear()
                self._plain_plans.clear()
            plan = self._plans[key] = _Plan(self, *key)
        return plan


@dataclass(frozen=True, slots=True)
class _Step:
    """A builder a run in the plan's mode runs unless its location, draw or owners rule it
    out. For a main-only builder, `entry` is its one encoded Definition (field 1 of a
    Requirement), given when its experiment draw (if any, in the plan's `draw_checks`)
    selects it and every owner is in a group of its allowlist (if any); otherwise the run
    decides (`_builder_outcome`)."""

    index: int
    builder: CompiledBuilder
    entry: bytes | None = None
    definition: bytes = b""  # the Definition alone, for runs that add experiments
    fixed: bool = False  # it gives its entry whenever admitted: no draw, no allowlist


class _Plan:
    """A group's builders for one mode and one set of the presubmit and stale-check options,
    worked out once (§8.5's per-builder steps that do not depend on the run).

    Steps are the builders neither includable_only nor outside the mode nor skipped by No-Try
    or No-Presubmit, in config order; step i is bit i of the run's masks. `unfiltered` has the
    bits of steps without location filters, `location` judges the others for a run's CLs.

    Every Definition a run of the plan can give is encoded once, here or when a run first
    needs it (`entry`): a run only picks entries and joins them. A fixed step (no draw to
    make, no owners to check) gives its entry whenever admitted; `run_decides` has the bits
    of the others. A 100% draw selects whatever Go draws, so it is never made.
    """

    def __init__(
        self,
        group: CompiledGroup,
        mode: str,
        skip_tryjobs: bool,
        skip_presubmit: bool,
        avoid_cancelling: bool,
    ) -> None:
        self.builders = group.builders
        self.avoid_cancelling = avoid_cancelling
        # Encoded Definitions by (builder index, names, critical), made when a run first needs
        # one: at most four name choices and two criticalities per builder.
        self._definitions: dict[tuple[int, str, bool], tuple[bytes, bytes]] = {}
        self.steps: list[_Step] = []
        # By step: its entry when main-only (fixed or not), None otherwise; a run takes the
        # ones its mask admits, so it copies this only for entries of its own.
        self._main_entries: list[bytes | None] = []
        self._main_with_experiments: dict[bytes, list[bytes | None]] = {}
        self.run_decides = 0  # the bits of the steps that are not fixed
        # The bits of the steps that are not main-only: a run makes their entries.
        self.gives_own = 0
        # The bits of the main-only steps with a draw to make, and (bit, draw position,
        # threshold) of each.
        self.drawn = 0
        self.draw_checks: list[tuple[int, int, int]] = []
        # The main-only steps' bits by owner allowlist (steps often share one).
        allowlisted: dict[tuple[str, ...], int] = {}
        # How many draws of each stream the steps may read (the named builders read none).
        self.experiment_reads = self.equivalent_reads = 0
        # By builder index: its step's bit if it is a step, and the bit of the first step at
        # or after it (where a named builder's entry goes).
        self.step_bits: dict[int, int] = {}
        self.slots: list[int] = []
        self.unfiltered = 0
        located = []
        for index, builder in enumerate(group.builders):
            self.slots.append(len(self.steps))
            disable_reuse = builder.config.disable_reuse
            if (
                builder.config.includable_only
                or mode not in builder.modes
                or (skip_tryjobs and not disable_reuse)
                or (skip_presubmit and disable_reuse)
            ):
                continue
            bit = len(self.steps)
            if builder.main_only:
                config = builder.config
                definition = _definition(
                    builder,
                    builder.main,
                    None,
                    config.experiment_percentage == 0,
                    avoid_cancelling,
                    (),
                ).SerializeToString()
                draw = (
                    group.experiment_draw[index]
                    if builder.experiment != 0 and builder.experiment_threshold < EVERY_DRAW
                    else None
                )
                allowlist = tuple(config.owner_whitelist_group)
                if allowlist:
                    allowlisted[allowlist] = allowlisted.get(allowlist, 0) | 1 << bit
                if draw is not None:
                    self.drawn |= 1 << bit
                    self.draw_checks.append((bit, draw, builder.experiment_threshold))
                step = _Step(
                    index,
                    builder,
                    length_delimited(1, definition),
                    definition,
                    fixed=draw is None and not allowlist,
                )
            else:
                step = _Step(index, builder)
                self.gives_own |= 1 << bit
            self.steps.append(step)
            self.step_bits[index] = bit
            if builder.experiment != 0 and builder.experiment_threshold < EVERY_DRAW:
                self.experiment_reads = group.experiment_draw[index] + 1
            if builder.equivalent_share != 0 and builder.equivalent_threshold < EVERY_DRAW:
                self.equivalent_reads = group.equivalent_draw[index] + 1
            self._main_entries.append(step.entry)
            if not step.fixed:
                self.run_decides |= 1 << bit
            if builder._filter_error is None and builder._filters:
                located.append((bit, builder._filters))
            else:
                self.unfiltered |= 1 << bit
        self._main_entries.append(b"")  # the slot of named builders after the last step
        self.location = LocationPlan(located)
        self.allowlisted = list(allowlisted.items())

    def main_entries(self, suffix: bytes) -> list[bytes | None]:
        """By step, its entry when main-only (None for the others), for runs whose
        experiments encode as `suffix` (a config's experiments give few of them)."""
        if not suffix:
            return self._main_entries
        entries = self._main_with_experiments.get(suffix)
        if entries is None:
            if len(self._main_with_experiments) >= 64:
                self._main_with_experiments.clear()
            entries = self._main_with_experiments[suffix] = [
                None if step.entry is None else length_delimited(1, step.definition + suffix)
                for step in self.steps
            ] + [b""]
        return entries

    def entry(self, index: int, names: str, critical: bool, suffix: bytes) -> bytes:
        """Builder `index`'s Definition with `names` as a Requirement's field 1, its
        `suffix` (the run's experiments, encoded) added."""
        key = (index, names, critical)
        known = self._definitions.get(key)
        if known is None:
            builder = self.builders[index]
            primary, equivalent = _names(builder, names)
            definition = _definition(
                builder, primary, equivalent, critical, self.avoid_cancelling, ()
            ).SerializeToString()
            known = self._definitions[key] = (definition, length_delimited(1, definition))
        definition, entry = known
        return entry if not suffix else length_delimited(1, definition + suffix)


# Which names a Definition carries: (its builder, its equivalent_to).
_MAIN = "main"
_MAIN_THEN_EQUIVALENT = "main, equivalent"
_EQUIVALENT_THEN_MAIN = "equivalent, main"
_EQUIVALENT = "equivalent"


def _names(builder: CompiledBuilder, names: str) -> tuple[BuilderName, BuilderName | None]:
    if names == _MAIN:
        return builder.main, None
    if names == _MAIN_THEN_EQUIVALENT:
        return builder.main, builder.equivalent
    if names == _EQUIVALENT_THEN_MAIN:
        return builder.equivalent, builder.main
    return builder.equivalent, None


# ---------------------------------------------------------------------------- failures


def _quoted(names) -> str:
    return ", ".join(f'"{n}"' for n in names)


def incompatible_tryjob_options() -> ComputationFailure:
    return ComputationFailure(
        "incompatibleTryjobOptions",
        "Both `Cq-Include-Trybots` and `Override-Tryjobs-For-Automation` footers are present; "
        "only one of them may be given.",
    )


def invalid_tryjob_directive(value: str) -> ComputationFailure:
    return ComputationFailure(
        "invalidTryjobDirectives",
        f'The tryjob directive "{value}" is invalid. The canonical format is '
        "`project/bucket:builder1,builder2;project2/bucket:builder3`.",
    )


def builders_not_defined(names: Sequence[str]) -> ComputationFailure:
    if len(names) == 1:
        reason = f'builder "{names[0]}" is included but not defined in the LUCI project'
    else:
        reason = (
            f"the following builders are included but not defined in the LUCI project: "
            f"{_quoted(names)}"
        )
    return ComputationFailure("buildersNotDefined", reason)


def unauthorized_included_tryjob(users: Sequence[str], builder: str) -> ComputationFailure:
    if len(users) == 1:
        reason = f'user {users[0]} is not allowed to trigger "{builder}"'
    else:
        reason = f'the following users are not allowed to trigger "{builder}": {", ".join(users)}'
    return ComputationFailure("unauthorizedIncludedTryjob", reason)


def failure_message(failure: ComputationFailure) -> str:
    """What upstream posts to the run's CLs when the computation fails."""
    return f"Failed to compute tryjob requirement. Reason:\n\n{failure.reason}"


# ---------------------------------------------------------------------------- draws


def selection_seed(cls: Sequence[ChangeList]) -> int:
    """MD5 of the CLs' IDs and trigger seconds (sorted by ID), first 8 bytes as a signed int64."""
    digest = hashlib.md5()
    for cl in cls if len(cls) == 1 else sorted(cls, key=_cl_id):
        if cl.trigger_time is None:
            digest.update(_INT64.pack(cl.id))
        else:
            digest.update(_TWO_INT64.pack(cl.id, math.floor(cl.trigger_time.timestamp())))
    return _INT64.unpack_from(digest.digest())[0]


_INT64 = struct.Struct("<q")
_TWO_INT64 = struct.Struct("<qq")


def _cl_id(cl: ChangeList) -> int:
    return cl.id


def selection_streams(cls: Sequence[ChangeList]) -> tuple[GoRand, GoRand]:
    """The (experiment, equivalent) generators: two streams, so one never shifts the other."""
    base = GoRand(selection_seed(cls))
    return GoRand(base.int63()), GoRand(base.int63())


# ---------------------------------------------------------------------------- computation


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to build, once per run
class _Context:
    group: CompiledGroup
    plan: _Plan
    run: RunInput
    options: RunOptions
    owners: tuple[str, ...]
    experiments: tuple[str, ...]
    footers: tuple[tuple[str, str], ...]

    def denied(self, allowlist: Sequence[str], realm: str | None = None) -> list[str]:
        """Owners outside every group of `allowlist` (and without builds.add in `realm`)."""
        if not allowlist:
            return []
        identities = self.run.identities
        return [
            owner
            for owner in self.owners
            if not identities.in_any(owner, allowlist, self.group.honor_linked_accounts)
            and not (realm is not None and identities.can_trigger(owner, realm))
        ]

    def allowed(self, allowlist: Sequence[str]) -> bool:
        """Whether every owner is in a group of `allowlist` (always, when it is empty)."""
        if not allowlist:
            return True
        identities = self.run.identities
        honor_linked = self.group.honor_linked_accounts
        for owner in self.owners:
            if not identities.in_any(owner, allowlist, honor_linked):
                return False
        return True

    def skipped_by_footers(self, builder: CompiledBuilder) -> bool:
        disable_reuse = builder.disable_reuse
        if self.options.skip_tryjobs and not disable_reuse:
            return True
        if self.options.skip_presubmit and disable_reuse:
            return True
        skip_footers = builder.skip_footers
        return bool(skip_footers) and any(
            key in skip_footers and skip_footers[key].search(value) is not None
            for key, value in self.footers
        )


def _definition(
    builder: CompiledBuilder,
    primary: BuilderName,
    equivalent: BuilderName | None,
    critical: bool,
    avoid_cancelling: bool,
    experiments: Sequence[str],
) -> tryjob_pb.Definition:
    config = builder.config
    definition = tryjob_pb.Definition(
        disable_reuse=config.disable_reuse,
        skip_stale_check=avoid_cancelling or config.cancel_stale == config_pb2.NO,
        critical=critical,
        optional=config.experiment_percentage > 0,
        result_visibility=config.result_visibility,
        experiments=experiments,
        disable_reuse_footers=config.disable_reuse_footers,
    )
    if config.HasField("reuse_window"):
        definition.reuse_window.CopyFrom(config.reuse_window)
    _set_builder(definition, builder.host, primary)
    if equivalent is not None:
        _set_builder(definition.equivalent_to, builder.host, equivalent)
    return definition


def _set_builder(definition: tryjob_pb.Definition, host: str, name: BuilderName) -> None:
    definition.buildbucket.host = host
    builder = definition.buildbucket.builder
    builder.project, builder.bucket, builder.builder = name.project, name.bucket, name.builder


def _experiments(group: CompiledGroup, run: RunInput, owners: Sequence[str]) -> tuple[str, ...]:
    return tuple(
        name
        for name, allowlist in group.experiments
        if all(
            run.identities.in_any(owner, allowlist, group.honor_linked_accounts)
            for owner in (owners if allowlist else ())
        )
    )


def _undefined(group: CompiledGroup, names: set[str]) -> ComputationFailure | None:
    undefined = sorted(names - group.names)
    return builders_not_defined(undefined) if undefined else None


def compute(group: CompiledGroup, run: RunInput) -> tryjob_pb.Requirement | ComputationFailure:
    """The run's Requirement, or why it cannot have one (see the module docstring)."""
    if len(run.cls) == 1:  # most runs: no merging, sorting or deduplicating
        (cl,) = run.cls
        metadata = Metadata.of(cl.commit_message)
        options = RunOptions.of(metadata)
        footers = metadata.footers
        owners = (cl.owner,) if cl.owner else ()
    else:
        metadata = [Metadata.of(cl.commit_message) for cl in run.cls]
        options = RunOptions.merge(RunOptions.of(m) for m in metadata)
        footers = tuple(pair for m in metadata for pair in m.footers)
        owners = tuple(sorted({cl.owner for cl in run.cls if cl.owner}))
    if options.included_tryjobs and options.overridden_tryjobs:
        return incompatible_tryjob_options()
    context = _Context(
        group,
        group.plan(run.mode, options),
        run,
        options,
        owners,
        _experiments(group, run, owners) if group.experiments else (),
        footers,
    )

    if options.overridden_tryjobs:
        try:
            overridden = parse_directives(options.overridden_tryjobs)
        except InvalidDirectiveError as e:
            return invalid_tryjob_directive(e.value)
        outcome = _overridden(context, overridden)
    elif options.included_tryjobs and run.mode != NEW_PATCHSET_RUN:
        # New-patchset runs ignore the include footer entirely, without even parsing it.
        outcome = _included_and_selected(context)
    else:
        outcome = _selected(context, _NOTHING_INCLUDED)
    if isinstance(outcome, ComputationFailure):
        return outcome
    # The Definitions arrive encoded: one parse builds the message (the same message as
    # adding them one by one, a fraction of the work).
    return tryjob_pb.Requirement.FromString(group.encoded_retry_config + outcome)


def _included_and_selected(context: _Context) -> bytes | ComputationFailure:
    """The normal path of a run naming builders in Cq-Include-Trybots."""
    try:
        included = parse_directives(context.options.included_tryjobs)
    except InvalidDirectiveError as e:
        return invalid_tryjob_directive(e.value)
    failure = _undefined(context.group, included)
    if failure is not None:
        return failure
    return _selected(context, included)


def _overridden(context: _Context, overridden: set[str]) -> bytes | ComputationFailure:
    """The override path (§8.2.2): exactly the named builders, no draws, no filters."""
    failure = _undefined(context.group, overridden)
    if failure is not None:
        return failure
    suffix = _experiments_suffix(context)
    entries = []
    for index, builder in enumerate(context.group.builders):
        main_named = builder.name in overridden
        equivalent_named = builder.equivalent_name in overridden
        if not (main_named or equivalent_named) or context.skipped_by_footers(builder):
            continue
        if equivalent_named:
            name, names = builder.equivalent_name, _EQUIVALENT
            allowlist = builder.equivalent_allowlist or builder.allowlist
        else:
            name, names = builder.name, _MAIN
            allowlist = builder.allowlist
        denied = context.denied(allowlist)
        if denied:
            return unauthorized_included_tryjob(denied, name)
        entries.append(context.plan.entry(index, names, True, suffix))
    return b"".join(entries)


def _selected(context: _Context, included: Set[str]) -> bytes | ComputationFailure:
    """The normal path (§8.4-§8.6), as the Requirement's encoded Definitions: each builder's
    procedure in config order, with what does not depend on the run worked out by its plan.

    A builder runs only if it is a step of the plan (or named in a footer) and its location
    filters include a file. A fixed step then gives its entry; a main-only step gives its
    one Definition if its draw (if any) selects it and its owners (if listed) are allowed;
    the others, and named builders, go through `_builder_outcome` with the draws at their
    positions. The entries are then taken in step order in one pass, without a Python step
    per builder: a named builder that is not a step goes before the next step in order.
    """
    group = context.group
    run = context.run
    plan = context.plan
    admitted = plan.unfiltered | plan.location.mask(run.cls)
    suffix = _experiments_suffix(context) if context.experiments else b""
    entries = plan.main_entries(suffix)
    deciding = admitted & plan.run_decides
    if not (deciding or included):
        return b"".join(itertools.compress(entries, _bits(admitted)))
    # This run's entries where its steps or named builders give their own (a copy of the
    # plan's only then: a main-only step selected gives the plan's entry).
    own = entries.copy() if included or deciding & plan.gives_own else entries
    before: dict[int, bytes] = {}  # named builders that are not steps, by the next step's bit
    # Most runs name none: no set to build.
    named_indices = (
        sorted({i for n in included for i in group.by_name.get(n, ())}) if included else ()
    )
    for index in named_indices:
        outcome = _builder_outcome(context, index, included, False, False, suffix)
        if isinstance(outcome, ComputationFailure):
            return outcome  # the first failure in config order wins; nothing else counts
        bit = plan.slots[index]
        if plan.step_bits.get(index) == bit:  # a named step goes through this procedure only
            deciding &= ~(1 << bit)
            if outcome is None:
                admitted &= ~(1 << bit)
            else:
                admitted |= 1 << bit
                own[bit] = outcome
        elif outcome is not None:
            before[bit] = before.get(bit, b"") + outcome
    if deciding:
        # A main-only step needs its draw and its allowlist: each judged apart (both are
        # pure), the draws step by step, each allowlist once for all its steps still in.
        draws = _RunDraws(run.cls, plan)
        steps = plan.steps
        drawn = deciding & plan.drawn
        if drawn:
            selected = draws.experiment_stream().selected
            for bit, position, threshold in plan.draw_checks:
                if drawn >> bit & 1 and not selected(position, threshold):
                    admitted ^= 1 << bit
        for allowlist, mask in plan.allowlisted:
            reached = admitted & deciding & mask  # not the named steps: they were judged
            if reached and not context.allowed(allowlist):
                admitted ^= reached
        giving = deciding & plan.gives_own
        while giving:
            low = giving & -giving
            giving ^= low
            bit = low.bit_length() - 1
            entry = _builder_outcome_of_step(context, draws, steps[bit], suffix)
            if entry is None:
                admitted ^= low
            else:
                own[bit] = entry
    for bit, named in before.items():
        own[bit] = named + own[bit] if admitted >> bit & 1 else named
        admitted |= 1 << bit
    return b"".join(itertools.compress(own, _bits(admitted)))


# bin()'s digits as the bytes 0 and 1.
_DIGIT_BITS = bytes.maketrans(b"01", b"\0\1")


def _bits(mask: int) -> bytes:
    """The mask's bits, lowest first, one byte (0 or 1) each, up to its highest set bit."""
    return bin(mask)[:1:-1].encode().translate(_DIGIT_BITS)


def _builder_outcome_of_step(
    context: _Context, draws: _RunDraws, step: _Step, suffix: bytes
) -> bytes | None:
    """The encoded Definition an admitted step that is not main-only gives, if any."""
    builder = step.builder
    group = context.group
    index = step.index
    is_optional = builder.experiment != 0 and draws.experiment(
        group.experiment_draw[index], builder.experiment_threshold
    )
    use_equivalent = builder.equivalent_share != 0 and draws.equivalent(
        group.equivalent_draw[index], builder.equivalent_threshold
    )
    if builder._filter_error is not None:
        # Only a named builder can fail: here it is a Definition or nothing (or the
        # location error, raised where _builder_outcome reaches it).
        return _builder_outcome(
            context, index, _NOTHING_INCLUDED, is_optional, use_equivalent, suffix
        )
    # What _builder_outcome would also check is settled: the plan admitted the step for the
    # run's mode and options, its location for the run's files, and no footer names it.
    if not builder.critical and not is_optional:
        return None
    if builder.skip_footers and context.skipped_by_footers(builder):
        return None
    names = _with_equivalent(context, builder, use_equivalent)
    if names is None:
        return None
    return context.plan.entry(index, names, builder.critical, suffix)


def _experiments_suffix(context: _Context) -> bytes:
    """The run's experiments as the Definition fields that end every Definition."""
    if not context.experiments:
        return b""
    return b"".join(length_delimited(9, name.encode()) for name in context.experiments)


class _RunDraws:
    """A run's two streams of draws (§8.4), each seeded only if a builder reads it."""

    __slots__ = ("_cls", "_plan", "_seed", "_experiment", "_equivalent")

    def __init__(self, cls: Sequence[ChangeList], plan: _Plan) -> None:
        self._cls = cls
        self._plan = plan
        self._seed: int | None = None
        self._experiment: Draws | None = None
        self._equivalent: Draws | None = None

    def _stream_seed(self, stream: int) -> int:
        """Value `stream` of the generator the CLs seed: the seed of that stream."""
        if self._seed is None:
            self._seed = selection_seed(self._cls)
        return fresh_value(self._seed, stream)

    def experiment_stream(self) -> Draws:
        experiment = self._experiment
        if experiment is None:
            # A run reading one draw most likely reads the others its plan may read.
            experiment = self._experiment = Draws(self._stream_seed(0), self._plan.experiment_reads)
        return experiment

    def experiment(self, position: int, threshold: int) -> bool:
        if threshold >= EVERY_DRAW:  # selected whatever the draw: the run needs no seed
            return True
        return self.experiment_stream().selected(position, threshold)

    def equivalent(self, position: int, threshold: int) -> bool:
        if threshold >= EVERY_DRAW:
            return True
        if self._equivalent is None:
            self._equivalent = Draws(self._stream_seed(1), self._plan.equivalent_reads)
        return self._equivalent.selected(position, threshold)


def _builder_outcome(
    context: _Context,
    index: int,
    included: Set[str],
    is_optional: bool,
    use_equivalent: bool,
    suffix: bytes,
) -> bytes | ComputationFailure | None:
    """Builder `index`'s encoded Definition, failure, or None when it is skipped (§8.5)."""
    builder = context.group.builders[index]
    entry = context.plan.entry
    if context.skipped_by_footers(builder):
        return None
    if builder.name in included:
        denied = context.denied(builder.allowlist, builder.main.realm)
        if denied:
            return unauthorized_included_tryjob(denied, builder.name)
        return entry(index, _MAIN, True, suffix)
    if builder.equivalent_name in included:
        denied = context.denied(builder.equivalent_allowlist, builder.equivalent.realm)
        if denied:
            return unauthorized_included_tryjob(denied, builder.equivalent_name)
        return entry(index, _EQUIVALENT, True, suffix)
    if not builder.critical and not is_optional:
        return None
    if builder.config.includable_only or context.run.mode not in builder.modes:
        return None
    if builder.location_filters and not location_included(
        builder.location_filters, context.run.cls
    ):
        return None
    names = _with_equivalent(context, builder, use_equivalent)
    if names is None:
        return None
    return entry(index, names, builder.critical, suffix)


def _with_equivalent(
    context: _Context, builder: CompiledBuilder, use_equivalent: bool
) -> str | None:
    """The owner-allowlist and equivalent-builder table of §8.6: the names the builder's
    Definition carries, or None when the run's owners may use neither."""
    main_allowed = context.allowed(builder.allowlist)
    has_equivalent = builder.equivalent is not None and not (
        context.options.skip_equivalent_builders
    )
    equivalent_allowed = has_equivalent and context.allowed(builder.equivalent_allowlist)
    if main_allowed:
        if not equivalent_allowed:
            return _MAIN
        if use_equivalent:
            return _EQUIVALENT_THEN_MAIN
        return _MAIN_THEN_EQUIVALENT
    if equivalent_allowed:
        return _EQUIVALENT
    return None
