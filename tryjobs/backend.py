"""Where tryjobs run: the interface the executor launches and cancels tryjobs through.

`get_backend()` returns the backend named by `settings.TRYJOB_BACKEND` (a dotted path to a
`TryjobBackend` class, instantiated once per process), or `NoBackend` when it is empty: with
no backend, every launch fails with a reason that says so, and the tryjob is UNTRIGGERED.
`tryjobs.buildbucket.backend.BuildbucketBackend` launches Buildbucket builds;
`tryjobs.fake_backend.FakeBackend` is an in-memory one for tests and demos.

A backend is called by an executor pass (tryjobs/launching.py) and by the stale-tryjob
cancellation (tryjobs/stale.py), both outside any transaction and without the run's lock;
it must not touch the database.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb

__all__ = [
    "FAILED_PRECONDITION",
    "NO_BACKEND_REASON",
    "BackendError",
    "LaunchCL",
    "LaunchError",
    "LaunchRequest",
    "LaunchResult",
    "NoBackend",
    "ReuseCandidate",
    "Started",
    "TryjobBackend",
    "get_backend",
]

# gRPC status codes used here (tryjobs.executor names them all for launch failure reasons).
FAILED_PRECONDITION = 9
NO_BACKEND_REASON = (
    "no tryjob backend is configured: set TRYJOB_BACKEND to launch tryjobs (nothing was launched)"
)


@dataclass(frozen=True)
class LaunchCL:
    """A CL of the run, as the backend needs it to build the patch and tag the build.

    `min_equivalent_patchset` 0 means the current patchset (no trivial rebases before it).
    """

    host: str
    change: int
    patchset: int
    revision: str
    gerrit_project: str
    min_equivalent_patchset: int = 0
    owner_email: str = ""
    trigger_email: str = ""

    def __post_init__(self):
        if not self.min_equivalent_patchset:
            object.__setattr__(self, "min_equivalent_patchset", self.patchset)


@dataclass(frozen=True, kw_only=True)
class LaunchRequest:
    """Launch one tryjob: the main builder of `definition`, for the run's CLs.

    `tryjob_id` is unique and stable for this tryjob: a backend uses it as its request ID, so
    launching the same tryjob twice starts one build. `cls` are in submission order
    (dependencies first). `cl_tags` are the values of the CLs' `Cq-Cl-Tag` footers;
    `owner_is_googler` tells the build whether the run's owner is a Googler.
    """

    tryjob_id: int
    definition: tryjob_pb.Definition
    run_id: str
    mode: str
    owner: str
    attempt_key: str
    cls: tuple[LaunchCL, ...]
    is_retry: bool = False
    cl_tags: tuple[str, ...] = ()
    owner_is_googler: bool = False

    @property
    def project(self) -> str:
        """The run's LUCI project (a run ID starts with it), which the launch is made as."""
        return self.run_id.partition("/")[0]


@dataclass(frozen=True)
class Started:
    """The tryjob runs (TRIGGERED), or had already ended (ENDED, with a final result)."""

    external_id: str
    status: int = tryjob_pb.TRIGGERED
    result: tryjob_pb.Result | None = None


@dataclass(frozen=True)
class LaunchError:
    """The launch failed: `code` is the gRPC status code, None for an error without one.

    `reason`, when set, is the tryjob's `untriggered_reason` as is (otherwise it is made from
    the code and message, tryjobs.executor.launch_failure_reason).
    """

    code: int | None
    message: str = ""
    reason: str = ""


LaunchResult = Started | LaunchError


@dataclass(frozen=True)
class ReuseCandidate:
    """A tryjob the backend knows of (not necessarily cvsite) that could serve `definition`."""

    external_id: str
    definition: tryjob_pb.Definition
    status: int
    result: tryjob_pb.Result
    # The (Gerrit host, change, patchset) it tested: a definition's disable_reuse_footers
    # must read the same at those patchsets as now (tryjobs.reuse.footers_changed).
    tested: tuple[tuple[str, int, int], ...] = ()


class BackendError(Exception):
    """A whole call failed (every request of a launch call, or a cancel)."""

    def __init__(self, code: int | None, message: str = ""):
        super().__init__(message or f"backend error with code {code}")
        self.code = code
        self.message = message


class TryjobBackend:
    """What the executor needs of a backend. Subclasses implement both methods."""

    #: The backend kind, as in external IDs and launch failure reasons ("buildbucket").
    kind = "buildbucket"

    def launch(self, requests: Sequence[LaunchRequest]) -> Sequence[LaunchResult]:
        """One result per request, in order; may raise BackendError for the whole call."""
        raise NotImplementedError

    def cancel(self, external_id: str, summary: str, *, project: str) -> None:
        """Asks the backend, as LUCI `project`, to stop the tryjob; raises BackendError when
        it cannot."""
        raise NotImplementedError

    def find_reusable(
        self,
        cls: Sequence[LaunchCL],
        definitions: Sequence[tryjob_pb.Definition],
        *,
        project: str,
    ) -> Iterable[ReuseCandidate]:
        """Tryjobs of exactly these CLs (patchsets within their equivalent ranges) for
        `definitions` that LUCI `project` can see, newest first; may raise BackendError. By
        default: none."""
        return ()


class NoBackend(TryjobBackend):
    """No backend configured: nothing is launched, and the reason says why."""

    kind = "none"

    def launch(self, requests: Sequence[LaunchRequest]) -> list[LaunchResult]:
        return [
            LaunchError(FAILED_PRECONDITION, "no backend", reason=NO_BACKEND_REASON)
            for _ in requests
        ]

    def cancel(self, external_id: str, summary: str, *, project: str) -> None:
        raise BackendError(FAILED_PRECONDITION, NO_BACKEND_REASON)


@functools.cache
def _load(path: str) -> TryjobBackend:
    if not path:
        return NoBackend()
    try:
        cls = import_string(path)
    except ImportError as e:
        raise ImproperlyConfigured(f"TRYJOB_BACKEND={path!r} cannot be imported: {e}") from e
    if not (isinstance(cls, type) and issubclass(cls, TryjobBackend)):
        raise ImproperlyConfigured(
            f"TRYJOB_BACKEND={path!r} is not a tryjobs.backend.TryjobBackend subclass"
        )
    return cls()


def get_backend() -> TryjobBackend:
    """The configured backend; one instance per dotted path and process."""
    return _load(getattr(settings, "TRYJOB_BACKEND", "") or "")


get_backend.cache_clear = _load.cache_clear  # tests that switch backends start afresh
