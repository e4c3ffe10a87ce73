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

import hashlib
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from projectconfig.directives import InvalidDirectiveError, parse_directives
from projectconfig.footers import Metadata, RunOptions
from projectconfig.go_rand import GoRand, as_float32, percent_draw
from projectconfig.location import (
    LocationFilters,
    LocationMemo,
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

    @property
    def metadata(self) -> Metadata:
        return Metadata.of(self.commit_message)


@dataclass(frozen=True)
class Identities:
    """Who is who: LUCI groups, realms with builds.add and linked accounts, per email."""

    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)
    can_add_builds: Mapping[str, frozenset[str]] = field(default_factory=dict)
    linked_accounts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def in_any(self, email: str, groups: Sequence[str], honor_linked: bool) -> bool:
        emails = (email, *self.linked_accounts.get(email, ())) if honor_linked else (email,)
        return any(not self.groups.get(e, frozenset()).isdisjoint(groups) for e in emails)

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


class CompiledGroup:
    """A config group ready for many runs: builders parsed and their patterns compiled."""

    def __init__(self, group: config_pb2.ConfigGroup, honor_linked_accounts: bool = False):
        self.group = group
        self.honor_linked_accounts = honor_linked_accounts
        tryjob = group.verifiers.tryjob
        # Every builder's path patterns in one set: a file is searched once per run.
        paths = PathPatterns()
        self.builders = [CompiledBuilder.of(b, paths) for b in tryjob.builders]
        self.names = {b.name for b in self.builders} | {
            b.equivalent_name for b in self.builders if b.equivalent_name
        }
        self.retry_config = tryjob.retry_config if tryjob.HasField("retry_config") else None


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
    for cl in sorted(cls, key=lambda cl: cl.id):
        digest.update(struct.pack("<q", cl.id))
        if cl.trigger_time is not None:
            digest.update(struct.pack("<q", math.floor(cl.trigger_time.timestamp())))
    return struct.unpack("<q", digest.digest()[:8])[0]


def selection_streams(cls: Sequence[ChangeList]) -> tuple[GoRand, GoRand]:
    """The (experiment, equivalent) generators: two streams, so one never shifts the other."""
    base = GoRand(selection_seed(cls))
    return GoRand(base.int63()), GoRand(base.int63())


# ---------------------------------------------------------------------------- computation


@dataclass(frozen=True)
class _Context:
    group: CompiledGroup
    run: RunInput
    options: RunOptions
    owners: tuple[str, ...]
    experiments: tuple[str, ...]
    footers: tuple[tuple[str, str], ...]
    location_memo: LocationMemo = field(default_factory=LocationMemo)

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

    def skipped_by_footers(self, builder: CompiledBuilder) -> bool:
        disable_reuse = builder.config.disable_reuse
        if self.options.skip_tryjobs and not disable_reuse:
            return True
        if self.options.skip_presubmit and disable_reuse:
            return True
        return any(
            key in builder.skip_footers and builder.skip_footers[key].search(value) is not None
            for key, value in self.footers
        )

    def definition(
        self,
        builder: CompiledBuilder,
        primary: BuilderName,
        equivalent: BuilderName | None,
        critical: bool,
    ) -> tryjob_pb.Definition:
        config = builder.config
        definition = tryjob_pb.Definition(
            disable_reuse=config.disable_reuse,
            skip_stale_check=self.options.avoid_cancelling_tryjobs
            or config.cancel_stale == config_pb2.NO,
            critical=critical,
            optional=config.experiment_percentage > 0,
            result_visibility=config.result_visibility,
            experiments=self.experiments,
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
    names = []
    for experiment in group.group.tryjob_experiments:
        allowlist = experiment.condition.owner_group_allowlist
        if all(
            run.identities.in_any(owner, allowlist, group.honor_linked_accounts)
            for owner in (owners if allowlist else ())
        ):
            names.append(experiment.name)
    return tuple(names)


def _undefined(group: CompiledGroup, names: set[str]) -> ComputationFailure | None:
    undefined = sorted(names - group.names)
    return builders_not_defined(undefined) if undefined else None


def compute(group: CompiledGroup, run: RunInput) -> tryjob_pb.Requirement | ComputationFailure:
    """The run's Requirement, or why it cannot have one (see the module docstring)."""
    metadata = [cl.metadata for cl in run.cls]
    options = RunOptions.merge(RunOptions.of(m) for m in metadata)
    if options.included_tryjobs and options.overridden_tryjobs:
        return incompatible_tryjob_options()
    owners = tuple(sorted({cl.owner for cl in run.cls if cl.owner}))
    context = _Context(
        group=group,
        run=run,
        options=options,
        owners=owners,
        experiments=_experiments(group, run, owners),
        footers=tuple(pair for m in metadata for pair in m.footers),
    )
    requirement = tryjob_pb.Requirement()
    if group.retry_config is not None:
        requirement.retry_config.CopyFrom(group.retry_config)

    if options.overridden_tryjobs:
        try:
            overridden = parse_directives(options.overridden_tryjobs)
        except InvalidDirectiveError as e:
            return invalid_tryjob_directive(e.value)
        outcome = _overridden(context, overridden)
    else:
        included: set[str] = set()
        # New-patchset runs ignore the include footer entirely, without even parsing it.
        if options.included_tryjobs and run.mode != NEW_PATCHSET_RUN:
            try:
                included = parse_directives(options.included_tryjobs)
            except InvalidDirectiveError as e:
                return invalid_tryjob_directive(e.value)
            failure = _undefined(group, included)
            if failure is not None:
                return failure
        outcome = _selected(context, included)
    if isinstance(outcome, ComputationFailure):
        return outcome
    requirement.definitions.extend(outcome)
    return requirement


def _overridden(
    context: _Context, overridden: set[str]
) -> list[tryjob_pb.Definition] | ComputationFailure:
    """The override path (§8.2.2): exactly the named builders, no draws, no filters."""
    failure = _undefined(context.group, overridden)
    if failure is not None:
        return failure
    definitions = []
    for builder in context.group.builders:
        main_named = builder.name in overridden
        equivalent_named = builder.equivalent_name in overridden
        if not (main_named or equivalent_named) or context.skipped_by_footers(builder):
            continue
        if equivalent_named:
            name, primary = builder.equivalent_name, builder.equivalent
            allowlist = (
                [builder.config.equivalent_to.owner_whitelist_group]
                if (builder.config.equivalent_to.owner_whitelist_group)
                else builder.config.owner_whitelist_group
            )
        else:
            name, primary = builder.name, builder.main
            allowlist = builder.config.owner_whitelist_group
        denied = context.denied(allowlist)
        if denied:
            return unauthorized_included_tryjob(denied, name)
        definitions.append(context.definition(builder, primary, None, critical=True))
    return definitions


def _selected(
    context: _Context, included: set[str]
) -> list[tryjob_pb.Definition] | ComputationFailure:
    """The normal path (§8.4-§8.6): draws first, then each builder's procedure in order."""
    optional_stream, equivalent_stream = selection_streams(context.run.cls)
    mode = context.run.mode
    definitions = []
    first_failure = None
    for builder in context.group.builders:
        is_optional = (
            builder.experiment != 0 and percent_draw(optional_stream) <= builder.experiment
        )
        use_equivalent = builder.equivalent_share != 0 and (
            percent_draw(equivalent_stream) <= builder.equivalent_share
        )
        # A builder that runs only when named (includable_only, or not for this mode) is
        # skipped whatever else holds unless named: most of Chromium's 595 stop here.
        if (builder.config.includable_only or mode not in builder.modes) and not (
            included and (builder.name in included or builder.equivalent_name in included)
        ):
            continue
        outcome = _builder_outcome(context, builder, included, is_optional, use_equivalent)
        if isinstance(outcome, ComputationFailure):
            first_failure = first_failure or outcome
        elif outcome is not None:
            definitions.append(outcome)
    return first_failure or definitions


def _builder_outcome(
    context: _Context,
    builder: CompiledBuilder,
    included: set[str],
    is_optional: bool,
    use_equivalent: bool,
) -> tryjob_pb.Definition | ComputationFailure | None:
    """One builder's Definition, failure, or None when it is skipped (§8.5)."""
    config = builder.config
    if context.skipped_by_footers(builder):
        return None
    if builder.name in included:
        denied = context.denied(config.owner_whitelist_group, builder.main.realm)
        if denied:
            return unauthorized_included_tryjob(denied, builder.name)
        return context.definition(builder, builder.main, None, critical=True)
    if builder.equivalent_name in included:
        equivalent_group = config.equivalent_to.owner_whitelist_group
        denied = context.denied(
            [equivalent_group] if equivalent_group else [], builder.equivalent.realm
        )
        if denied:
            return unauthorized_included_tryjob(denied, builder.equivalent_name)
        return context.definition(builder, builder.equivalent, None, critical=True)
    if config.experiment_percentage != 0 and not is_optional:
        return None
    if config.includable_only or context.run.mode not in builder.modes:
        return None
    if builder.location_filters and not location_included(
        builder.location_filters, context.run.cls, context.location_memo
    ):
        return None
    return _with_equivalent(context, builder, use_equivalent)


def _with_equivalent(
    context: _Context, builder: CompiledBuilder, use_equivalent: bool
) -> tryjob_pb.Definition | None:
    """The owner-allowlist and equivalent-builder table of §8.6."""
    config = builder.config
    critical = config.experiment_percentage == 0
    main_allowed = not context.denied(config.owner_whitelist_group)
    has_equivalent = builder.equivalent is not None and not (
        context.options.skip_equivalent_builders
    )
    equivalent_group = config.equivalent_to.owner_whitelist_group
    equivalent_allowed = has_equivalent and not context.denied(
        [equivalent_group] if equivalent_group else []
    )
    if main_allowed:
        if not equivalent_allowed:
            return context.definition(builder, builder.main, None, critical)
        if use_equivalent:
            return context.definition(builder, builder.equivalent, builder.main, critical)
        return context.definition(builder, builder.main, builder.equivalent, critical)
    if equivalent_allowed:
        return context.definition(builder, builder.equivalent, None, critical)
    return None
