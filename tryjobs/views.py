"""What the tryjob executor reads: views of a run, its tryjobs, and the attempts it asks for.

Pure dataclasses shared by the executor (tryjobs/executor.py) and the reuse rules
(tryjobs/reuse.py), which both take them; the serializers build them from rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from tryjobs import external_id as eid

__all__ = ["AttemptRequest", "RunCL", "RunView", "TryjobView"]

Definition = tryjob_pb.Definition
Result = tryjob_pb.Result


@dataclass(frozen=True)
class RunCL:
    clid: int
    patchset: int
    min_equivalent_patchset: int
    # The current revision's metadata pairs (projectconfig.footers.Metadata.pairs): a
    # definition's disable_reuse_footers make some of them part of its reuse key.
    metadata: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RunView:
    """What the executor needs of a run."""

    id: str
    mode: str
    cls: tuple[RunCL, ...]
    owner: str = ""

    @property
    def luci_project(self) -> str:
        return self.id.partition("/")[0]

    @cached_property
    def reuse_key(self) -> str:
        return eid.reuse_key((cl.clid, cl.min_equivalent_patchset) for cl in self.cls)

    def reuse_key_for(self, definition: Definition) -> str:
        """The reuse key of `definition`'s tryjobs in this run: the run's, unless the
        definition's `disable_reuse_footers` name footers some CL has (cv_config.md §8.11)."""
        if not definition.disable_reuse_footers:
            return self.reuse_key
        return eid.reuse_key(
            ((cl.clid, cl.min_equivalent_patchset) for cl in self.cls),
            {cl.clid: cl.metadata for cl in self.cls},
            definition.disable_reuse_footers,
        )

    @cached_property
    def cl_patchsets(self) -> tuple[str, ...]:
        return tuple(sorted(eid.cl_patchset(cl.clid, cl.patchset) for cl in self.cls))


@dataclass(frozen=True, kw_only=True)
class TryjobView:
    """A tryjob as stored (read-only: the executor copies what it keeps)."""

    id: int
    status: int
    external_id: str = ""
    definition: Definition | None = None
    result: Result | None = None
    launched_by: str = ""
    reused_by: tuple[str, ...] = ()
    untriggered_reason: str = ""
    entity_create_time: datetime | None = None

    @property
    def luci_project(self) -> str:
        """Project of the launching run, else of the first reusing run; "" when neither."""
        run_id = self.launched_by or (self.reused_by[0] if self.reused_by else "")
        return run_id.partition("/")[0]


@dataclass(frozen=True, kw_only=True)
class AttemptRequest:
    """Execution `index` needs a new attempt: reuse a tryjob or launch one of `definition`."""

    index: int
    definition: Definition
    reuse_allowed: bool
    reuse_key: str
    cl_patchsets: tuple[str, ...]
    known_tryjob_ids: frozenset[int]
    known_external_ids: frozenset[str]
    attempt_number: int

    @property
    def is_retry(self) -> bool:
        return self.attempt_number > 1
