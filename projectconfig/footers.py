"""A CL's metadata (git footers and legacy ``KEY=value`` lines) and the run options it sets.

Spec: cv_config.md §7. Pure: a commit message in, ``(key, value)`` pairs and ``RunOptions`` out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import NamedTuple

# A footer line of the last paragraph; other lines there are skipped, not fatal.
FOOTER_LINE = re.compile(r"^\s*([\w-]+): *(.*)$")
# A legacy metadata line, looked for on every line of the message.
LEGACY_LINE = re.compile(r"^([A-Z_]+)=(.*)$")
# Footer keys that are really URLs split at their colon ("https://...").
URL_SCHEMES = frozenset({"Http", "Https"})


@functools.lru_cache(maxsize=1024)  # keys are few (Bug, Change-Id, ...), messages many
def normalize_footer_key(key: str) -> str:
    """``cq-include-trybots`` -> ``Cq-Include-Trybots``: each dash-separated word capitalised."""
    return "-".join(word[:1].upper() + word[1:].lower() for word in key.split("-"))


def _last_paragraph(lines: list[str]) -> list[str]:
    """The lines after the last blank line, or none when the message is a single paragraph."""
    end = len(lines)
    while end and not lines[end - 1].strip():  # trailing blank lines end no paragraph
        end -= 1
    for i in range(end - 1, -1, -1):
        if not lines[i].strip():
            return lines[i + 1 : end]
    return []


def git_footers(message: str) -> list[tuple[str, str]]:
    """Footers of the last paragraph, lowest line first, keys normalised, values trimmed."""
    footers = []
    for line in reversed(_last_paragraph(message.splitlines())):
        match = FOOTER_LINE.match(line)
        if match is None:
            continue
        key = normalize_footer_key(match.group(1))
        if key not in URL_SCHEMES:
            footers.append((key, match.group(2).strip()))
    return footers


def legacy_metadata(message: str) -> list[tuple[str, str]]:
    """``KEY=value`` lines anywhere in the message, lowest line first, values trimmed."""
    pairs = []
    if "=" not in message:  # most messages: no line to look at
        return pairs
    for line in reversed(message.splitlines()):
        match = LEGACY_LINE.match(line)
        if match is not None:
            pairs.append((match.group(1), match.group(2).strip()))
    return pairs


class Metadata(NamedTuple):
    """What a commit message says: git footers and legacy pairs, each lowest line first.

    A named tuple, not a frozen dataclass: one is built per CL with footers, and a tuple is
    several times cheaper to build."""

    footers: tuple[tuple[str, str], ...] = ()
    legacy: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, message: str) -> Metadata:
        if ":" not in message and "=" not in message:  # no line can be a footer or a pair
            return _NO_METADATA
        return cls(tuple(git_footers(message)), tuple(legacy_metadata(message)))

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Every pair, footers first: upstream's CL metadata, which reuse keys read."""
        return self.footers + self.legacy


class RunOptions(NamedTuple):
    """The options of a run, merged over its CLs (booleans OR-ed, lists concatenated).

    A named tuple for the same reason as Metadata."""

    skip_equivalent_builders: bool = False
    avoid_cancelling_tryjobs: bool = False
    skip_tree_checks: bool = False
    skip_tryjobs: bool = False
    skip_presubmit: bool = False
    included_tryjobs: tuple[str, ...] = ()
    overridden_tryjobs: tuple[str, ...] = ()
    custom_tryjob_tags: tuple[str, ...] = ()

    @classmethod
    def of(cls, metadata: Metadata) -> RunOptions:
        if metadata is _NO_METADATA:  # most messages: nothing to look at
            return NO_OPTIONS
        # One pass over the pairs: each option's values, footer values before legacy ones.
        found: dict[str, list[str]] = {}
        for key, value in metadata.footers:
            if key in _OPTION_FOOTERS:
                found.setdefault(key, []).append(value)
        for key, value in metadata.legacy:
            footer = _LEGACY_FOOTERS.get(key)
            if footer is not None:
                found.setdefault(footer, []).append(value)
        if not found:  # most messages carry only other footers (Bug, Change-Id)
            return NO_OPTIONS
        # Only "true" in any case counts: "yes" or "1" do not turn an option on upstream.
        on = {footer for footer, values in found.items() if "true" in map(str.lower, values)}
        return cls(
            skip_equivalent_builders="No-Equivalent-Builders" in on,
            avoid_cancelling_tryjobs="Cq-Do-Not-Cancel-Tryjobs" in on,
            skip_tree_checks="No-Tree-Checks" in on,
            skip_tryjobs="No-Try" in on,
            skip_presubmit="No-Presubmit" in on,
            included_tryjobs=tuple(found.get("Cq-Include-Trybots", ())),
            overridden_tryjobs=tuple(found.get("Override-Tryjobs-For-Automation", ())),
            custom_tryjob_tags=tuple(found.get("Cq-Cl-Tag", ())),
        )

    @classmethod
    def merge(cls, options: Iterable[RunOptions]) -> RunOptions:
        # Most CLs set no option: only the others can change the merge.
        options = [each for each in options if each is not NO_OPTIONS]
        if len(options) <= 1:
            return options[0] if options else NO_OPTIONS
        merged = {name: any(getattr(each, name) for each in options) for name in _FLAGS}
        for name in _LISTS:
            merged[name] = tuple(item for each in options for item in getattr(each, name))
        return cls(**merged)


_NO_METADATA = Metadata()
NO_OPTIONS = RunOptions()  # what a message setting no option gives: always this object
# RunOptions' fields by how a merge combines them: booleans OR-ed, lists concatenated.
_FLAGS = tuple(n for n, d in RunOptions._field_defaults.items() if isinstance(d, bool))
_LISTS = tuple(n for n, d in RunOptions._field_defaults.items() if not isinstance(d, bool))
# The footers RunOptions.of reads.
_OPTION_FOOTERS = frozenset(
    {
        "No-Equivalent-Builders",
        "Cq-Do-Not-Cancel-Tryjobs",
        "No-Tree-Checks",
        "No-Try",
        "No-Presubmit",
        "Cq-Include-Trybots",
        "Override-Tryjobs-For-Automation",
        "Cq-Cl-Tag",
    }
)
# Legacy keys and the footer each stands for (Cq-Cl-Tag and the rest have none).
_LEGACY_FOOTERS = {
    "NO_EQUIVALENT_BUILDERS": "No-Equivalent-Builders",
    "NOTREECHECKS": "No-Tree-Checks",
    "NOTRY": "No-Try",
    "NOPRESUBMIT": "No-Presubmit",
    "CQ_INCLUDE_TRYBOTS": "Cq-Include-Trybots",
}
