"""``Cq-Include-Trybots`` / ``Override-Tryjobs-For-Automation`` values (cv_config.md §8.3).

``project/bucket:builder1,builder2;project2/bucket:builder3`` (or the legacy
``luci.project.bucket:builder``) becomes the set of ``project/bucket/builder`` names.
"""

from __future__ import annotations

from collections.abc import Iterable

from projectconfig.regexps import compile_re2

_SEGMENT = (
    r"(?:[a-z0-9-]+/[a-z0-9-_.]+|luci\.[a-z0-9-]+\.[a-z0-9-_.]+)"
    r"\s*:\s*[a-zA-Z0-9-_.() ]+(?:\s*,\s*[a-zA-Z0-9-_.() ]+)*"
)
DIRECTIVE = compile_re2(rf"^\s*{_SEGMENT}(?:\s*;\s*{_SEGMENT})*\s*$")


class InvalidDirectiveError(ValueError):
    """A footer value outside the grammar; ``value`` is the whole offending value."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


def parse_directive(value: str) -> set[str]:
    """The builders one footer value names; InvalidDirectiveError outside the grammar."""
    # Searched as UTF-8 bytes (what RE2 reads anyway): for a str the wrapper also maps
    # the match's offsets back to characters, work a yes-or-no question does not need.
    if DIRECTIVE.search(value.encode()) is None:
        raise InvalidDirectiveError(value)
    builders = set()
    for segment in value.split(";"):
        bucket_part, builder_part = (part.strip() for part in segment.split(":"))
        if bucket_part.startswith("luci."):
            _, project, bucket = bucket_part.split(".", 2)
        else:
            project, bucket = bucket_part.split("/", 1)
        for builder in builder_part.split(","):
            builders.add(f"{project}/{bucket}/{builder.strip()}")
    return builders


def parse_directives(values: Iterable[str]) -> set[str]:
    """The union of the builders of several footer values (the first invalid one is refused)."""
    builders: set[str] = set()
    for value in values:
        builders |= parse_directive(value)
    return builders
