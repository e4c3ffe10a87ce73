"""A project's config ready for runs: group choice and compiled groups, built once per version.

Pure (no ORM): ``CompiledConfig(config)`` from a ``cv.config.Config``;
``requirement_for_run(compiled, run)`` chooses the run's config group (§5) and computes its
Requirement (§8), answering ``RunRequirement(group_index, group_name, outcome)``.
"""

from __future__ import annotations

from typing import NamedTuple

from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from projectconfig.matcher import Matcher
from projectconfig.requirement import CompiledGroup, ComputationFailure, RunInput, compute


class CompiledConfig:
    def __init__(self, config: config_pb2.Config) -> None:
        self.config = config
        self.matcher = Matcher(config)
        self._groups: dict[int, CompiledGroup] = {}

    def group(self, index: int) -> CompiledGroup:
        group = self._groups.get(index)
        if group is None:
            group = self._groups[index] = CompiledGroup(
                self.config.config_groups[index], self.config.honor_gerrit_linked_accounts
            )
        return group


class RunRequirement(NamedTuple):  # one per run: a tuple is the cheapest to build
    group_index: int
    group_name: str
    outcome: tryjob_pb.Requirement | ComputationFailure


def requirement_for_run(compiled: CompiledConfig, run: RunInput) -> RunRequirement:
    """The run's group and requirement; the matcher's errors say why no single group applies."""
    index = compiled.matcher.group_for_run([(cl.host, cl.project, cl.ref) for cl in run.cls])
    group = compiled.group(index)
    return RunRequirement(index, group.name, compute(group, run))
