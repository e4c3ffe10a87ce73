"""§8's normal path written builder by builder, as the computation first did it: the oracle the
plan-based computation (precompiled steps, encoded Definitions) must answer exactly as.

Every builder takes its draws from full Go generators, then its procedure (§8.5, §8.6) decides,
and each Definition is a message built field by field. Override runs are not modelled here.
"""

from __future__ import annotations

from collections.abc import Sequence

from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from projectconfig.directives import InvalidDirectiveError, parse_directives
from projectconfig.footers import Metadata, RunOptions
from projectconfig.go_rand import percent_draw
from projectconfig.location import location_included
from projectconfig.requirement import (
    NEW_PATCHSET_RUN,
    BuilderName,
    CompiledBuilder,
    CompiledGroup,
    ComputationFailure,
    RunInput,
    builders_not_defined,
    incompatible_tryjob_options,
    invalid_tryjob_directive,
    selection_streams,
    unauthorized_included_tryjob,
)


class _Run:
    def __init__(self, group: CompiledGroup, run: RunInput) -> None:
        metadata = [Metadata.of(cl.commit_message) for cl in run.cls]
        self.group = group
        self.run = run
        self.options = RunOptions.merge(RunOptions.of(m) for m in metadata)
        self.footers = [pair for m in metadata for pair in m.footers]
        self.owners = sorted({cl.owner for cl in run.cls if cl.owner})
        self.experiments = [
            experiment.name
            for experiment in group.group.tryjob_experiments
            if not experiment.condition.owner_group_allowlist
            or all(
                self.in_any(owner, experiment.condition.owner_group_allowlist)
                for owner in self.owners
            )
        ]

    def in_any(self, email: str, groups: Sequence[str]) -> bool:
        return self.run.identities.in_any(email, groups, self.group.honor_linked_accounts)

    def denied(self, allowlist: Sequence[str], realm: str | None = None) -> list[str]:
        if not allowlist:
            return []
        return [
            owner
            for owner in self.owners
            if not self.in_any(owner, allowlist)
            and not (realm is not None and self.run.identities.can_trigger(owner, realm))
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
        for message, name in ((definition, primary), (definition.equivalent_to, equivalent)):
            if name is not None:
                message.buildbucket.host = builder.host
                message.buildbucket.builder.project = name.project
                message.buildbucket.builder.bucket = name.bucket
                message.buildbucket.builder.builder = name.builder
        return definition


def builder_outcome(
    run: _Run,
    builder: CompiledBuilder,
    included: set[str],
    is_optional: bool,
    use_equivalent: bool,
) -> tryjob_pb.Definition | ComputationFailure | None:
    """One builder's Definition, failure, or None when it is skipped (§8.5)."""
    config = builder.config
    if run.skipped_by_footers(builder):
        return None
    if builder.name in included:
        denied = run.denied(config.owner_whitelist_group, builder.main.realm)
        if denied:
            return unauthorized_included_tryjob(denied, builder.name)
        return run.definition(builder, builder.main, None, critical=True)
    if builder.equivalent_name in included:
        equivalent_group = config.equivalent_to.owner_whitelist_group
        denied = run.denied(
            [equivalent_group] if equivalent_group else [], builder.equivalent.realm
        )
        if denied:
            return unauthorized_included_tryjob(denied, builder.equivalent_name)
        return run.definition(builder, builder.equivalent, None, critical=True)
    if config.experiment_percentage != 0 and not is_optional:
        return None
    if config.includable_only or run.run.mode not in builder.modes:
        return None
    if builder.location_filters and not location_included(builder.location_filters, run.run.cls):
        return None
    # The owner-allowlist and equivalent-builder table of §8.6.
    critical = config.experiment_percentage == 0
    main_allowed = not run.denied(config.owner_whitelist_group)
    has_equivalent = builder.equivalent is not None and not run.options.skip_equivalent_builders
    equivalent_group = config.equivalent_to.owner_whitelist_group
    equivalent_allowed = has_equivalent and not run.denied(
        [equivalent_group] if equivalent_group else []
    )
    if main_allowed:
        if not equivalent_allowed:
            return run.definition(builder, builder.main, None, critical)
        if use_equivalent:
            return run.definition(builder, builder.equivalent, builder.main, critical)
        return run.definition(builder, builder.main, builder.equivalent, critical)
    if equivalent_allowed:
        return run.definition(builder, builder.equivalent, None, critical)
    return None


def reference_requirement(
    group: CompiledGroup, run_input: RunInput
) -> tryjob_pb.Requirement | ComputationFailure:
    run = _Run(group, run_input)
    options = run.options
    if options.included_tryjobs and options.overridden_tryjobs:
        return incompatible_tryjob_options()
    if options.overridden_tryjobs:
        raise NotImplementedError("override runs are not modelled")
    included: set[str] = set()
    if options.included_tryjobs and run_input.mode != NEW_PATCHSET_RUN:
        try:
            included = parse_directives(options.included_tryjobs)
        except InvalidDirectiveError as e:
            return invalid_tryjob_directive(e.value)
        undefined = sorted(included - group.names)
        if undefined:
            return builders_not_defined(undefined)
    experiment_stream, equivalent_stream = selection_streams(run_input.cls)
    definitions, failure = [], None
    for builder in group.builders:
        is_optional = builder.experiment != 0 and (
            percent_draw(experiment_stream) <= builder.experiment
        )
        use_equivalent = builder.equivalent_share != 0 and (
            percent_draw(equivalent_stream) <= builder.equivalent_share
        )
        outcome = builder_outcome(run, builder, included, is_optional, use_equivalent)
        if isinstance(outcome, ComputationFailure):
            failure = failure or outcome
        elif outcome is not None:
            definitions.append(outcome)
    if failure:
        return failure
    requirement = tryjob_pb.Requirement(definitions=definitions)
    if group.retry_config is not None:
        requirement.retry_config.CopyFrom(group.retry_config)
    return requirement
