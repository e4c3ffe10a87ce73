"""refresh_cls: fetch each CL's current ChangeInfo from Gerrit and store it as its snapshot.

The source is the database (`CLSource`): CLs in CLID order, optionally only those of runs of
`--project` LUCI projects, of runs created `--since` a time, or with no snapshot yet
(`--missing-only`, e.g. right after import_attempts). Each batch is fetched outside any
transaction (`RefreshHandler.prepare`) through the host's Gerrit client (gerrit.client, with
the credentials cvsite has for the host), with at most `concurrency` requests in flight and at
most `qps` started per second; transient failures (5xx, 429, timeouts, connection errors) are
retried with backoff, permanent ones (404, 403, a malformed answer, retries exhausted) are
rejects. Then the batch is written in one transaction:
  * the CL's snapshot (runs.serializers.change_snapshot_columns: the ChangeInfo verbatim,
    current patchset, the earliest equivalent one, files of the current revision), which is
    what the Migration API serves for CLs (fyi_deps, PostGerritMessage's de-duplication);
  * the snapshot of the CL in active runs that have none yet (imported runs) and are at the
    same patchset, which is what FetchActiveRuns serves as the run's CLs.
"""

import json
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Length
from django.utils import timezone

from cvproto.gerrit import gerrit_pb2
from cvproto.validation import InvalidMessage
from gerrit.client import DEFAULT_CHANGE_OPTIONS, GerritClient, client_for_host
from gerrit.errors import GerritError
from importers.backfill import writer
from importers.backfill.core import Handler, Outcome, Record, Reject
from importers.backfill.source import SourceRecord
from runs.models import CL, RunCL, RunCLDep, RunStatus
from runs.serializers import RunCLView, change_snapshot_columns, served_run_cl
from tryjobs.tasks import schedule_stale_tryjob_cancellation

__all__ = ["CLSource", "RateLimiter", "RefreshHandler", "min_equivalent_patchset"]

FETCH_OPTIONS = (*DEFAULT_CHANGE_OPTIONS, "CURRENT_FILES")
PAGE = 1000
_EQUIVALENT_KINDS = (
    gerrit_pb2.RevisionInfo.TRIVIAL_REBASE,
    gerrit_pb2.RevisionInfo.NO_CODE_CHANGE,
    gerrit_pb2.RevisionInfo.NO_CHANGE,
)
_SNAPSHOT_COLUMNS = (
    "patchset",
    "min_equivalent_patchset",
    "external_update_time",
    "gerrit_project",
    "gerrit_ref",
    "owner_email",
    "current_revision",
    "change_status",
    "info",
    "files",
)
# A run's CL keeps its own patchsets (the run's); it gains what the Gerrit snapshot adds.
_RUN_CL_COLUMNS = (
    "external_update_time",
    "gerrit_ref",
    "owner_email",
    "current_revision",
    "change_status",
    "info",
    "files",
)


def min_equivalent_patchset(info: gerrit_pb2.ChangeInfo, patchset: int) -> int:
    """The earliest patchset whose code equals the current one's: going back from `patchset`
    while each patchset is only a trivial rebase or no code change of the one before."""
    kinds = {r.number: r.kind for r in info.revisions.values()}
    earliest = patchset
    while earliest > 1 and kinds.get(earliest) in _EQUIVALENT_KINDS:
        earliest -= 1
    return earliest


class CLSource:
    """The CLs to refresh, from the database, in CLID order (resumable by CLID)."""

    position_name = "cl"
    default_rejects_path = "refresh_cls.rejects"

    def __init__(
        self,
        projects: frozenset[str] = frozenset(),
        missing_only: bool = False,
        since: datetime | None = None,
    ):
        self.projects = projects
        self.missing_only = missing_only
        self.since = since
        self.total: int | None = None

    @property
    def description(self) -> str:
        parts = []
        if self.projects:
            parts.append(f"projects {', '.join(sorted(self.projects))}")
        if self.since:
            parts.append(f"runs since {self.since.isoformat()}")
        if self.missing_only:
            parts.append("without a snapshot")
        return "CLs" + (f" ({'; '.join(parts)})" if parts else "")

    @property
    def checkpoint_key(self) -> str:
        return (
            f"projects={','.join(sorted(self.projects))};missing-only={int(self.missing_only)};"
            f"since={self.since.isoformat() if self.since else ''}"
        )

    def fingerprint(self) -> str:
        return ""

    def queryset(self):
        cls = CL.objects.all()
        if self.projects or self.since:
            runs = RunCL.objects.filter(cl=OuterRef("pk"))
            if self.projects:
                runs = runs.filter(run__project__in=self.projects)
            if self.since:
                runs = runs.filter(run__create_time__gte=self.since)
            condition = Exists(runs)
            if self.projects and not self.since:
                condition |= Q(luci_project__in=self.projects)  # CLs of builds, not of runs
            cls = cls.filter(condition)
        if self.missing_only:
            cls = cls.annotate(info_length=Length("info")).filter(info_length=0)
        return cls

    def records(self, after_position: int = 0, offset: int | None = None) -> Iterator[SourceRecord]:
        cls = self.queryset()
        self.total = cls.filter(id__gt=after_position).count()
        last = after_position
        while True:
            page = list(
                cls.filter(id__gt=last)
                .order_by("id")
                .values_list("id", "host", "change", "gerrit_project")[:PAGE]
            )
            for clid, host, change, project in page:
                raw = json.dumps({"host": host, "change": change, "project": project})
                yield SourceRecord(clid, raw.encode())
            if len(page) < PAGE:
                return
            last = page[-1][0]

    def fraction_done(self, records_done: int) -> float | None:
        return records_done / self.total if self.total else None


class RateLimiter:
    """At most `qps` acquisitions per second, spread evenly, across threads."""

    def __init__(self, qps: float, clock=time.monotonic, sleep=time.sleep):
        self.interval = 1.0 / qps if qps > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self._next = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self.sleep(start - now)


@dataclass(slots=True)
class _CLRef:
    clid: int
    host: str
    change: int
    project: str
    info: gerrit_pb2.ChangeInfo | None = None


class RefreshHandler(Handler):
    command = "refresh_cls"
    unit = "CLs"
    default_batch_size = 100

    def __init__(
        self,
        *,
        concurrency: int = 4,
        qps: float = 10.0,
        retries: int = 4,
        retry_delay: float = 1.0,
    ):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.limiter = RateLimiter(qps)
        self.retries = retries
        self.retry_delay = retry_delay
        self.clients: dict[str, queue.Queue] = {}
        self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="refresh_cls")
        self.stats = {"Gerrit requests": 0, "retried after a transient error": 0}
        self._stats_lock = threading.Lock()

    def parse(self, record: Record) -> _CLRef:
        data = json.loads(record.raw)
        return _CLRef(record.position, data["host"], data["change"], data["project"])

    def counters(self) -> dict[str, int]:
        return dict(self.stats)

    # --- fetching, outside transactions ------------------------------------------------------

    def prepare(self, records: list[Record]) -> dict[int, Reject]:
        rejects: dict[int, Reject] = {}
        for record in records:
            host = record.item.host
            if host not in self.clients:
                try:
                    self._open_clients(host)
                except (GerritError, ValueError) as e:
                    self.clients[host] = e  # every CL of the host is refused the same way
            if isinstance(self.clients[host], Exception):
                rejects[record.position] = Reject(f"Gerrit {host}: {self.clients[host]}")
        todo = [r for r in records if r.position not in rejects]
        for record, outcome in zip(todo, self.pool.map(self._fetch, todo), strict=True):
            if isinstance(outcome, Reject):
                rejects[record.position] = outcome
            else:
                record.item.info = outcome
        return rejects

    def _open_clients(self, host: str) -> None:
        # Made here, in the main thread: finding credentials may read the database.
        clients: queue.Queue = queue.Queue()
        for _ in range(self.concurrency):
            clients.put(client_for_host(host))
        self.clients[host] = clients

    def _fetch(self, record: Record) -> gerrit_pb2.ChangeInfo | Reject:
        ref: _CLRef = record.item
        clients: queue.Queue = self.clients[ref.host]
        client: GerritClient = clients.get()
        try:
            delay = self.retry_delay
            for attempt in range(self.retries + 1):
                self.limiter.acquire()
                with self._stats_lock:
                    self.stats["Gerrit requests"] += 1
                try:
                    return client.get_change(
                        ref.change, project=ref.project or None, options=FETCH_OPTIONS
                    )
                except GerritError as e:
                    if not e.transient:
                        return Reject(f"Gerrit: {e}")
                    if attempt == self.retries:
                        return Reject(f"Gerrit: gave up after {attempt + 1} tries: {e}")
                    with self._stats_lock:
                        self.stats["retried after a transient error"] += 1
                    time.sleep(delay)
                    delay = min(delay * 2, 60.0)
            raise AssertionError("unreachable")
        finally:
            clients.put(client)

    def finish(self) -> None:
        self.pool.shutdown(wait=True)
        for clients in self.clients.values():
            while isinstance(clients, queue.Queue) and not clients.empty():
                clients.get().close()

    # --- writing -------------------------------------------------------------------------------

    def write(self, records: list[Record]) -> list:
        now = timezone.now()
        stored = {
            row["id"]: row
            for row in CL.objects.filter(id__in=[r.item.clid for r in records]).values(
                "id", *_SNAPSHOT_COLUMNS
            )
        }
        results = []
        cl_updates = []
        run_cl_fills = []
        for record in records:
            ref: _CLRef = record.item
            info = ref.info
            current = stored.get(ref.clid)
            if current is None:
                results.append(Reject(f"CL {ref.clid} no longer exists"))
                continue
            try:
                columns = _snapshot_columns(info)
            except InvalidMessage as e:
                results.append(Reject(f"Gerrit's ChangeInfo for {ref.host}/{ref.change}: {e}"))
                continue
            if info.number and info.number != ref.change:
                results.append(
                    Reject(f"Gerrit answered change {info.number} for {ref.host}/{ref.change}")
                )
                continue
            current["info"] = bytes(current["info"])
            changed = any(current[c] != columns[c] for c in _SNAPSHOT_COLUMNS)
            if changed:
                cl_updates.append([columns[c] for c in _SNAPSHOT_COLUMNS] + [now, ref.clid])
                previous = current["min_equivalent_patchset"]
                if columns["min_equivalent_patchset"] > previous:
                    # A new non-trivial patchset: tryjobs of the old one are stale (§5).
                    schedule_stale_tryjob_cancellation(
                        ref.clid, previous, columns["min_equivalent_patchset"]
                    )
            run_cl_fills.append((ref.clid, columns))
            results.append(Outcome.UPDATED if changed else Outcome.UNCHANGED)
        writer.update_rows(CL, [*_SNAPSHOT_COLUMNS, "update_time"], cl_updates)
        filled = self._fill_run_cls(run_cl_fills)
        return [
            Outcome.UPDATED if r is Outcome.UNCHANGED and record.item.clid in filled else r
            for r, record in zip(results, records, strict=True)
        ]

    def _fill_run_cls(self, fills: list[tuple[int, dict]]) -> set[int]:
        """Gives imported active runs (no snapshot of their CL yet) the fetched one when they
        are at its patchset; returns the CLIDs that had such runs."""
        if not fills:
            return set()
        by_cl = dict(fills)
        rows = (
            RunCL.objects.filter(cl_id__in=list(by_cl), run__status__in=RunStatus.active())
            .annotate(info_length=Length("info"))
            .filter(info_length=0)
            .values_list("id", "cl_id", "cl__host", "cl__change", *RunCLView._fields[3:10])
        )
        views = {}
        for run_cl_id, *kept in rows:
            columns = by_cl[kept[0]]
            view = RunCLView(*kept, columns["info"], columns["files"])
            if columns["patchset"] == view.patchset:
                views[run_cl_id] = view
        deps = defaultdict(list)
        for run_cl_id, depends_on, kind in (
            RunCLDep.objects.filter(run_cl_id__in=list(views))
            .order_by("run_cl_id", "position")
            .values_list("run_cl_id", "depends_on_id", "kind")
        ):
            deps[run_cl_id].append((depends_on, kind))
        updates = []
        for run_cl_id, view in views.items():
            columns = by_cl[view.cl_id]
            served = served_run_cl(view, deps[run_cl_id])
            updates.append([columns[c] for c in _RUN_CL_COLUMNS] + [served, run_cl_id])
        writer.update_rows(RunCL, [*_RUN_CL_COLUMNS, "served_message"], updates)
        return {view.cl_id for view in views.values()}


def _snapshot_columns(info: gerrit_pb2.ChangeInfo) -> dict:
    revision = info.revisions.get(info.current_revision) if info.current_revision else None
    if revision is None:
        raise InvalidMessage("current_revision", "Gerrit did not say which revision is current")
    patchset = revision.number
    files = sorted(revision.files)
    return change_snapshot_columns(
        info,
        patchset=patchset,
        min_equivalent_patchset=min_equivalent_patchset(info, patchset),
        files=files,
    )
