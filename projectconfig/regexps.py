"""RE2 regular expressions, compiled once: upstream is Go, whose regexp package is RE2.

Python's ``re`` differs (``$`` before a final newline, lookaround, classes such as
``[[:alpha:]]``), so config patterns go through google-re2 to match exactly what upstream
matches (cv_config.md §10).
"""

from __future__ import annotations

import functools

import re2

Regexp = re2._Regexp

# Bad patterns are reported to the user as a RegexpError; RE2's own log line would be noise.
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
# A set of a few hundred patterns searches one DFA; RE2's default 8 MiB could run out on a
# large group, and a set that runs out answers "no match" instead of failing.
_SET_OPTIONS = re2.Options()
_SET_OPTIONS.log_errors = False
_SET_OPTIONS.max_mem = 64 << 20


class RegexpError(ValueError):
    """A pattern RE2 refuses; the message names the pattern and RE2's reason."""


@functools.lru_cache(maxsize=8192)
def compile_re2(pattern: str) -> Regexp:
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as e:
        reason = e.args[0].decode("utf-8", "replace") if e.args else "invalid"
        raise RegexpError(f"invalid regular expression {pattern!r}: {reason}") from None


def search_set() -> re2.Set:
    """An empty RE2 set searching (not anchoring) its patterns: ``Add``, ``Compile``, ``Match``."""
    return re2.Set.SearchSet(_SET_OPTIONS)
