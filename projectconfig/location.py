"""A builder's ``location_filters``: does a run touch a file the builder cares about (§8.7)?

Pure. Upstream searches ``"^" + pattern + "$"`` with RE2 and no group around the pattern, so a
top-level alternation binds loosely: ``^docs|infra$`` is "starts with docs or ends with infra"
(example G01). An empty pattern matches anything.

Speed: one Chromium run meets about 130 filtered builders of some 300 distinct path patterns.
All path patterns of a config group go into one RE2 set, so a file is searched once for all of
them; the host, project and ref patterns (``.*`` in every real config) are judged once per CL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from projectconfig.regexps import Regexp, compile_re2, search_set


class Change(Protocol):
    host: str
    project: str
    ref: str
    files: tuple[str, ...]
    parent_count: int


def _anchored(pattern: str) -> str:
    return "^" + pattern + "$"


def _no_patterns(path: bytes) -> None:
    return None


class PathPatterns:
    """Path patterns searched together: ``matching(path)`` answers for all of them at once."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._set = search_set()
        self._ready = False

    def number(self, pattern: str) -> int:
        """The pattern's number in the set; RegexpError if RE2 refuses it."""
        number = self._numbers.get(pattern)
        if number is None:
            if self._ready:
                raise RuntimeError("PathPatterns takes no pattern once it has searched")
            compile_re2(_anchored(pattern))  # names the pattern if RE2 refuses it
            number = self._numbers[pattern] = self._set.Add(_anchored(pattern))
        return number

    def matching(self, path: str) -> tuple[int, ...]:
        """The numbers of the patterns `path` matches, in RE2's order (for a given path
        always the same): a collection to test membership in, not a sorted one."""
        return tuple(self.searcher()(path.encode()) or ())

    def searcher(self) -> Callable[[bytes], list[int] | None]:
        """What ``matching`` calls with the encoded path (None for no pattern): a caller
        searching many paths calls it directly."""
        if not self._ready:
            if self._numbers:
                self._set.Compile()
            self._ready = True
        return self._set.Match if self._numbers else _no_patterns


@dataclass(frozen=True)
class RepoPattern:
    """A host, project or ref pattern."""

    source: str
    regexp: Regexp | None  # None for ".*", which every real config uses: no RE2 call needed

    @classmethod
    def of(cls, pattern: str) -> RepoPattern | None:
        if not pattern:
            return None
        return cls(pattern, None if pattern == ".*" else compile_re2(_anchored(pattern)))

    def matches(self, value: str) -> bool:
        if self.regexp is None:
            return "\n" not in value  # RE2's "." stops at a newline, and "$" is the text's end
        return self.regexp.search(value) is not None


@dataclass(frozen=True)
class LocationFilter:
    host: RepoPattern | None
    project: RepoPattern | None
    ref: RepoPattern | None
    path: int | None  # the pattern's number in its PathPatterns; None matches any path
    exclude: bool

    # The three patterns' sources: filters repeat them, so a run judges each CL once per key.
    repo_key: tuple[str, str, str]

    def matches_repo(self, change: Change) -> bool:
        return (
            (self.host is None or self.host.matches(change.host))
            and (self.project is None or self.project.matches(change.project))
            and (self.ref is None or self.ref.matches(change.ref))
        )


@dataclass(frozen=True)
class LocationFilters:
    """A builder's ordered filters, and the group-wide set their path patterns belong to."""

    filters: tuple[LocationFilter, ...]
    paths: PathPatterns

    def __bool__(self) -> bool:
        return bool(self.filters)


def compile_location_filters(filters, paths: PathPatterns | None = None) -> LocationFilters:
    """RegexpError (naming the pattern) for a pattern RE2 refuses."""
    paths = PathPatterns() if paths is None else paths
    compiled = []
    for f in filters:
        compiled.append(
            LocationFilter(
                host=RepoPattern.of(f.gerrit_host_regexp),
                project=RepoPattern.of(f.gerrit_project_regexp),
                ref=RepoPattern.of(f.gerrit_ref_regexp),
                path=paths.number(f.path_regexp) if f.path_regexp else None,
                exclude=f.exclude,
                repo_key=(f.gerrit_host_regexp, f.gerrit_project_regexp, f.gerrit_ref_regexp),
            )
        )
    return LocationFilters(tuple(compiled), paths)


@dataclass
class LocationMemo:
    """What one run's CLs match, shared by every builder of the run."""

    repos: dict[tuple[tuple[str, str, str], int], bool] = field(default_factory=dict)
    paths: dict[tuple[int, str], tuple[int, ...]] = field(default_factory=dict)

    def repo_matches(self, f: LocationFilter, change: Change) -> bool:
        key = (f.repo_key, id(change))
        matched = self.repos.get(key)
        if matched is None:
            matched = self.repos[key] = f.matches_repo(change)
        return matched

    def path_matches(self, paths: PathPatterns, path: str) -> tuple[int, ...]:
        key = (id(paths), path)
        matched = self.paths.get(key)
        if matched is None:
            matched = self.paths[key] = paths.matching(path)
        return matched


def location_included(
    location: LocationFilters, changes: Sequence[Change], memo: LocationMemo | None = None
) -> bool:
    """Whether some file of some CL is included by the ordered filters."""
    memo = LocationMemo() if memo is None else memo
    filters = location.filters
    default = filters[0].exclude  # an exclude-first list includes what no filter matches
    for change in changes:
        if not change.files:
            # A merge commit touches no files of its own: only its repo can decide.
            if change.parent_count > 1 and (
                default or any(not f.exclude and memo.repo_matches(f, change) for f in filters)
            ):
                return True
            continue
        for path in change.files:
            matched_paths = memo.path_matches(location.paths, path)
            included = default
            for f in reversed(filters):  # the last matching filter decides
                if (f.path is None or f.path in matched_paths) and memo.repo_matches(f, change):
                    included = not f.exclude
                    break
            if included:
                return True
    return False


# ---------------------------------------------------------------------------- many builders


@dataclass(frozen=True)
class _Repo:
    host: str
    project: str
    ref: str


class _RepoLocations:
    """The filter lists of a LocationPlan as they stand for CLs of one host, project and ref:
    only the filters whose repo patterns match remain, so a file is judged by its path alone.
    """

    def __init__(self, lists: Sequence[tuple[LocationFilters, int]], repo: _Repo) -> None:
        self._lists = []  # (remaining (path, exclude) filters, default, step mask)
        self._by_pattern: dict[int, list[int]] = {}
        self._unmatched = 0  # the steps a path matching none of the patterns includes
        self.merge_mask = 0  # the steps a merge commit without files includes
        for number, (location, mask) in enumerate(lists):
            filters = location.filters
            default = filters[0].exclude  # over all filters, as location_included
            remaining = tuple((f.path, f.exclude) for f in filters if f.matches_repo(repo))
            self._lists.append((remaining, default, mask))
            for path, _ in remaining:
                if path is not None:
                    self._by_pattern.setdefault(path, []).append(number)
            if self._decide(remaining, default, ()):
                self._unmatched |= mask
            if default or any(not exclude for _, exclude in remaining):
                self.merge_mask |= mask
        # What a path matching exactly these patterns includes, as worked out so far.
        self.masks: dict[tuple[int, ...], int] = {}

    @staticmethod
    def _decide(remaining, default: bool, matched: tuple[int, ...]) -> bool:
        for path, exclude in reversed(remaining):  # the last matching filter decides
            if path is None or path in matched:
                return not exclude
        return default

    def path_mask(self, matched: tuple[int, ...]) -> int:
        """The steps a file whose path matches exactly the patterns `matched` includes."""
        mask = self.masks.get(matched)
        if mask is None:
            mask = self._unmatched
            touched = {n for pattern in matched for n in self._by_pattern.get(pattern, ())}
            for number in touched:
                remaining, default, list_mask = self._lists[number]
                if self._decide(remaining, default, matched):
                    mask |= list_mask
                else:
                    mask &= ~list_mask
            if len(self.masks) >= _MEMO_LIMIT:
                self.masks.clear()
            self.masks[matched] = mask
        return mask


# A config's patterns split paths into few classes; the memos stay small, but never unbounded.
_MEMO_LIMIT = 4096


class LocationPlan:
    """Many builders' location filters judged at once, as one bit mask of steps.

    ``LocationPlan([(step_bit, filters), ...])`` (every filters of one PathPatterns); then
    ``mask(changes)`` has the bit of each step whose filters include some file of `changes`,
    exactly as ``location_included`` judges each alone. Builders with the same filters are
    judged once, and what a path decides is remembered by the set of patterns it matches.
    """

    def __init__(self, located: Sequence[tuple[int, LocationFilters]]) -> None:
        by_filters: dict[tuple, list] = {}
        self._paths: PathPatterns | None = None
        for bit, location in located:
            if self._paths is None:
                self._paths = location.paths
            elif location.paths is not self._paths:
                raise ValueError("a LocationPlan's filters share one PathPatterns")
            key = tuple((f.repo_key, f.path, f.exclude) for f in location.filters)
            entry = by_filters.setdefault(key, [location, 0])
            entry[1] |= 1 << bit
        self._lists = [(location, mask) for location, mask in by_filters.values()]
        self._repos: dict[tuple[str, str, str], _RepoLocations] = {}

    def _new_repo(self, key: tuple[str, str, str]) -> _RepoLocations:
        if len(self._repos) >= _MEMO_LIMIT:
            self._repos.clear()
        repo = self._repos[key] = _RepoLocations(self._lists, _Repo(*key))
        return repo

    def mask(self, changes: Sequence[Change]) -> int:
        if not self._lists:
            return 0
        mask = 0
        search = self._paths.searcher()
        repos = self._repos
        for change in changes:
            key = (change.host, change.project, change.ref)
            repo = repos.get(key) or self._new_repo(key)
            if not change.files:
                # A merge commit touches no files of its own: only its repo can decide.
                if change.parent_count > 1:
                    mask |= repo.merge_mask
                continue
            masks = repo.masks
            for path in change.files:
                patterns = tuple(search(path.encode()) or ())
                # Most paths fall in a class of patterns seen before: no call to work it out.
                path_mask = masks.get(patterns)
                mask |= repo.path_mask(patterns) if path_mask is None else path_mask
        return mask
