"""Which config group watches a CL: by Gerrit host, project and ref (cv_config.md §5).

Pure over a ``cv.config.Config``; regexps are RE2 and anchored as upstream anchors them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from cvproto.cv.config import config_pb2
from projectconfig.regexps import Regexp, compile_re2

# Upstream's default when a project lists no ref_regexp (not refs/heads/main).
DEFAULT_REF_REGEXP = "refs/heads/master"


def gerrit_hostname(url: str) -> str:
    return urlsplit(url).hostname or ""


def anchored_alternation(patterns: Sequence[str]) -> str:
    """``^((p1)|(p2))$``: each pattern in its own group, so its own ``|`` stays inside it."""
    return "^(" + "|".join(f"({p})" for p in patterns) + ")$"


@dataclass(frozen=True)
class _Watch:
    group_index: int
    include: Regexp
    exclude: Regexp | None

    def watches(self, ref: str) -> bool:
        if self.include.search(ref) is None:
            return False
        return self.exclude is None or self.exclude.search(ref) is None


class NoGroupError(Exception):
    """No config group watches the CL: CV ignores it."""


class SeveralGroupsError(Exception):
    """More than one non-fallback group watches the CL: CV purges its trigger."""


class DifferentGroupsError(Exception):
    """A run's CLs fall into different config groups."""


class Matcher:
    """The config groups of one project's config, indexed by (Gerrit host, project)."""

    def __init__(self, config: config_pb2.Config) -> None:
        self.config = config
        self._watches: dict[tuple[str, str], list[_Watch]] = {}
        for index, group in enumerate(config.config_groups):
            for gerrit in group.gerrit:
                host = gerrit_hostname(gerrit.url)
                for project in gerrit.projects:
                    include = compile_re2(
                        anchored_alternation(project.ref_regexp or [DEFAULT_REF_REGEXP])
                    )
                    exclude = (
                        compile_re2(anchored_alternation(project.ref_regexp_exclude))
                        if project.ref_regexp_exclude
                        else None
                    )
                    self._watches.setdefault((host, project.name), []).append(
                        _Watch(index, include, exclude)
                    )

    def match(self, host: str, project: str, ref: str) -> list[int]:
        """Indexes of the groups watching the ref, in config order.

        Non-fallback groups win; the fallback group is the answer only when none matched.
        """
        matched, fallback = [], []
        for watch in self._watches.get((host, project), ()):
            if not watch.watches(ref):
                continue
            is_fallback = self.config.config_groups[watch.group_index].fallback == config_pb2.YES
            bucket = fallback if is_fallback else matched
            if watch.group_index not in bucket:
                bucket.append(watch.group_index)
        return matched or fallback

    def group_for(self, host: str, project: str, ref: str) -> int:
        """The one group watching the ref, or NoGroupError / SeveralGroupsError as upstream."""
        indexes = self.match(host, project, ref)
        if not indexes:
            raise NoGroupError(f"no config group watches {host}/{project} on ref {ref}")
        if len(indexes) > 1:
            names = ", ".join(f'"{self.config.config_groups[i].name}"' for i in indexes)
            raise SeveralGroupsError(
                f"the CL is watched by more than 1 config group: {names} "
                f"(target ref {ref}); CV cannot decide which one applies"
            )
        return indexes[0]

    def group_for_run(self, cls: Sequence[tuple[str, str, str]]) -> int:
        """The single group of every (host, project, ref) of a run's CLs."""
        if not cls:
            raise NoGroupError("the run has no CLs, so no config group watches it")
        chosen: dict[int, str] = {}
        for host, project, ref in cls:
            chosen.setdefault(self.group_for(host, project, ref), f"{host}/{project} ({ref})")
        if len(chosen) > 1:
            parts = "; ".join(
                f'{where} in "{self.config.config_groups[i].name}"' for i, where in chosen.items()
            )
            raise DifferentGroupsError(
                f"the run's CLs fall into different config groups: {parts}; "
                "all CLs of a run must belong to one config group"
            )
        (index,) = chosen
        return index
