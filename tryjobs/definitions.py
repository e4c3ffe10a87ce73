"""Tryjob definitions: identity, matching a tryjob to wanted definitions, requirement diffs.

Pure helpers over cv.internal.tryjob messages (no ORM, no clock). Spec: tryjob_semantics.md
§2.3. The executor (tryjobs/executor.py) documents how they fit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cvproto.buildbucket.v2 import builder_common_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb

__all__ = [
    "BuilderKey",
    "DefinitionKey",
    "DuplicateDefinitionError",
    "RequirementDiff",
    "build_matches",
    "builder_key",
    "definition_key",
    "diff_requirements",
    "find_matching_definition",
    "keyed_definitions",
    "tryjob_matches",
]

Definition = tryjob_pb.Definition
Requirement = tryjob_pb.Requirement
BuilderID = builder_common_pb2.BuilderID

# (host, project, bucket, builder) of a definition's main builder.
DefinitionKey = tuple[str, str, str, str]
# (project, bucket, builder): how a build's builder is compared (hosts are not).
BuilderKey = tuple[str, str, str]


class DuplicateDefinitionError(ValueError):
    """A requirement lists the same main builder twice, so its executions would be ambiguous."""


def builder_key(builder: BuilderID) -> BuilderKey:
    return builder.project, builder.bucket, builder.builder


def definition_key(definition: Definition) -> DefinitionKey:
    """The identity of a definition across requirement versions: its main builder."""
    bb = definition.buildbucket
    return bb.host, bb.builder.project, bb.builder.bucket, bb.builder.builder


def _builders_of(definition: Definition) -> list[BuilderKey]:
    builders = [builder_key(definition.buildbucket.builder)]
    if definition.HasField("equivalent_to"):
        builders.append(builder_key(definition.equivalent_to.buildbucket.builder))
    return builders


def tryjob_matches(
    tryjob_definition: Definition | None, result: tryjob_pb.Result | None, wanted: Definition
) -> bool:
    """Whether a stored tryjob can stand for `wanted` (CV-store reuse, §2.3).

    It does when its definition equals `wanted`, or when the builder that actually ran
    (`result.buildbucket.builder`) is wanted's main or equivalent builder (hosts not compared).
    """
    if tryjob_definition is not None and tryjob_definition == wanted:
        return True
    if (
        result is None
        or result.WhichOneof("backend") != "buildbucket"
        or not result.buildbucket.HasField("builder")
    ):
        return False
    return builder_key(result.buildbucket.builder) in _builders_of(wanted)


def find_matching_definition(
    tryjob_definition: Definition | None,
    result: tryjob_pb.Result | None,
    wanted: Sequence[Definition],
) -> int | None:
    """Index of the first of `wanted` that the tryjob matches (`tryjob_matches`), or None."""
    for i, definition in enumerate(wanted):
        if tryjob_matches(tryjob_definition, result, definition):
            return i
    return None


def build_matches(host: str, builder: BuilderID, wanted: Definition) -> bool:
    """Whether a Buildbucket build (host + builder) is of `wanted`'s main or equivalent builder.

    The Buildbucket search rule of §2.3: the host must be the definition's host.
    """
    return host == wanted.buildbucket.host and builder_key(builder) in _builders_of(wanted)


@dataclass(frozen=True)
class RequirementDiff:
    """How a new requirement differs from the old one, by main builder (each list key-sorted).

    `changed` and `unchanged` hold (old, new) pairs; `retry_config_changed` counts an absent
    config against a present one as a change.
    """

    added: tuple[Definition, ...] = ()
    removed: tuple[Definition, ...] = ()
    changed: tuple[tuple[Definition, Definition], ...] = ()
    unchanged: tuple[tuple[Definition, Definition], ...] = ()
    retry_config_changed: bool = False

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.retry_config_changed)


def keyed_definitions(requirement: Requirement | None, which: str) -> dict[DefinitionKey, int]:
    """Maps each definition's key to its index; refuses a requirement with a repeated key."""
    keys: dict[DefinitionKey, int] = {}
    if requirement is None:
        return keys
    for i, definition in enumerate(requirement.definitions):
        key = definition_key(definition)
        if key in keys:
            raise DuplicateDefinitionError(
                f"{which}.definitions[{i}]: builder {'/'.join(key)} is already "
                f"definitions[{keys[key]}]; each main builder may appear once"
            )
        keys[key] = i
    return keys


def diff_requirements(old: Requirement | None, new: Requirement | None) -> RequirementDiff:
    """Compares two requirements definition by definition (main builder = identity)."""
    old_keys = keyed_definitions(old, "old requirement")
    new_keys = keyed_definitions(new, "new requirement")
    added, removed, changed, unchanged = [], [], [], []
    for key in sorted(old_keys.keys() | new_keys.keys()):
        if key not in new_keys:
            removed.append(old.definitions[old_keys[key]])
        elif key not in old_keys:
            added.append(new.definitions[new_keys[key]])
        else:
            pair = (old.definitions[old_keys[key]], new.definitions[new_keys[key]])
            (unchanged if pair[0] == pair[1] else changed).append(pair)

    def retry_config(requirement: Requirement | None):
        if requirement is None or not requirement.HasField("retry_config"):
            return None
        return requirement.retry_config

    return RequirementDiff(
        added=tuple(added),
        removed=tuple(removed),
        changed=tuple(changed),
        unchanged=tuple(unchanged),
        retry_config_changed=retry_config(old) != retry_config(new),
    )
