"""The one backfill mechanism every backfill command runs on.

A command supplies a Source (where records come from: `source.FileSource` for a file or stdin,
or its own) and a Handler (what a record means: how to parse it, and how to write a batch of
them). `run_backfill` does the rest, the same way for every command:

* streams the source, `batch_size` records at a time, so memory stays flat;
* parses each record (`Handler.parse`, pure: a bad record raises Reject with the reason),
  drops those of other projects (`--project`), lets the handler do slow work outside any
  transaction (`Handler.prepare`, e.g. fetching from Gerrit), then writes the batch in ONE
  transaction (`Handler.write`) together with the checkpoint, so an interrupted run resumes
  after the last committed batch (`--resume`) and never writes a record twice;
* retries a batch the database refused for a transient reason (locked, serialization), and
  when it refused it for a bad record, writes the batch record by record so the bad one is
  rejected and the rest land;
* writes rejects (line number + reason) to the reject file before their batch commits;
* shows progress (a bar on a terminal, plain lines otherwise) and ends with a Summary;
* `--dry-run` does all of the above inside transactions that are rolled back: everything is
  parsed and validated, by the same code and the database's own constraints, and nothing is
  written (no checkpoint either). Each batch then sees only what earlier imports committed.
"""

import time
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TextIO

from django.db import DatabaseError, OperationalError, transaction
from django.utils import timezone

from importers.backfill.progress import Progress, format_duration
from importers.backfill.rejects import RejectFile
from importers.backfill.source import InputError, SourceRecord
from importers.backfill.writer import take_write_lock
from runs import rollups as run_rollups
from runs.models import BackfillCheckpoint
from tryjobs import rollups as tryjob_rollups

__all__ = [
    "BackfillError",
    "Handler",
    "Options",
    "Outcome",
    "Record",
    "Reject",
    "Source",
    "Summary",
    "run_backfill",
]

TRANSIENT_RETRIES = 5
COUNTERS = ("read", "created", "updated", "unchanged", "rejected", "skipped")


class Outcome(StrEnum):
    """What writing a record did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class Reject(Exception):
    """A record that will not be imported, and why (for the reject file)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BackfillError(Exception):
    """The backfill cannot start or go on (not about one record)."""


@dataclass(slots=True)
class Record:
    """A record on its way through a batch: where it came from, its raw form, and what the
    handler parsed it into (`item`)."""

    position: int
    raw: bytes
    next_offset: int | None = None
    item: Any = None


class Source(Protocol):
    """Where records come from (see source.FileSource)."""

    description: str
    checkpoint_key: str
    default_rejects_path: str | None
    position_name: str  # what a position is called in rejects: "line", "cl"

    def fingerprint(self) -> str: ...

    def records(self, after_position: int = 0, offset: int | None = None) -> Iterator[SourceRecord]:
        """Records after `after_position`; may raise InputError (the input is damaged)."""

    def fraction_done(self, records_done: int) -> float | None:
        """How much of the input has been read (0..1), or None when unknown."""


class Handler:
    """What one backfill command does with its records; subclass and override."""

    command: str = "backfill"
    unit: str = "records"
    default_batch_size: int = 1000

    def parse(self, record: Record) -> Any:
        """The record's meaning, from its raw bytes alone (no database); raises Reject."""
        raise NotImplementedError

    def projects(self, item: Any) -> Collection[str] | None:
        """LUCI projects the item belongs to, for `--project`; None when the source already
        applied `--project` (it reads the database, say)."""
        return None

    def prepare(self, records: list[Record]) -> dict[int, Reject]:
        """Slow work for a batch (network), outside any transaction; rejects by position."""
        return {}

    def write(self, records: list[Record]) -> list["Outcome | Reject"]:
        """Writes a batch inside the caller's transaction; one result per record, in order.

        May be called again with the same records (after a rollback), or one record at a time
        (to find the record the database refuses): keep no state between calls that depends
        on what was written.
        """
        raise NotImplementedError

    def counters(self) -> dict[str, int]:
        """Extra figures for the summary (this invocation only), e.g. tryjobs created."""
        return {}

    def finish(self) -> None:
        """Releases what the handler holds (connections, threads); called once at the end."""

    # The earliest time at which the dashboards' rollups count a row this import wrote (a
    # run's end, a tryjob's creation): bulk writes bypass the actions that keep the rollups,
    # so they are recounted from there once the import is done.
    touched_since: datetime | None = None

    def note_touched(self, times: Iterable[datetime | None]) -> None:
        for when in times:
            if when is not None and (self.touched_since is None or when < self.touched_since):
                self.touched_since = when


@dataclass
class Options:
    batch_size: int = 1000
    dry_run: bool = False
    resume: bool = False
    limit: int | None = None
    projects: frozenset[str] = frozenset()
    rejects_path: str | None = None
    checkpoint_name: str | None = None
    progress_interval: float = 10.0
    interactive: bool | None = None
    show_progress: bool = True


@dataclass
class Summary:
    """What a backfill did; counters add up over every invocation of a resumed import."""

    command: str
    input: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0
    elapsed: float = 0.0
    read_now: int = 0  # by this invocation, for the rate
    unit: str = "records"
    dry_run: bool = False
    resumed_after: int | None = None
    already_finished: bool = False
    limit_reached: bool = False
    input_damaged: str = ""
    rejects_path: str | None = None
    rejects_shown: list[str] = field(default_factory=list)
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.read_now / self.elapsed if self.elapsed > 0 else 0.0

    def lines(self) -> list[str]:
        title = f"{self.command}: {self.input}" + (" (dry run: nothing written)" * self.dry_run)
        out = [title]
        if self.already_finished:
            out.append("  the checkpoint says this input was fully imported; nothing to resume")
        elif self.resumed_after is not None:
            out.append(f"  resumed after {self.resumed_after:,}; counts include earlier runs")
        rows = [(name, getattr(self, name)) for name in COUNTERS]
        width = max(len(f"{v:,}") for _, v in rows)
        for name, value in rows:
            note = ""
            if name == "rejected" and value and self.rejects_path:
                note = f"  (see {self.rejects_path})"
            if name == "skipped" and value:
                note = "  (other projects)"
            out.append(f"  {name:<10} {value:>{width},}{note}")
        for name, value in self.extra.items():
            out.append(f"  {name}: {value:,}")
        out.append(f"  elapsed    {format_duration(self.elapsed)}")
        out.append(f"  rate       {self.rate:,.0f} {self.unit}/s")
        if self.limit_reached:
            out.append("  stopped at --limit; --resume continues from here")
        if self.input_damaged:
            out.append(f"  input damaged: {self.input_damaged}")
        if self.rejects_shown:
            out.append("  rejects:")
            out.extend(f"    {line}" for line in self.rejects_shown)
        return out


class _DryRunRejects:
    """Rejects of a dry run without --rejects: counted, and the first few shown."""

    SHOWN = 20

    def __init__(self, position_name: str):
        self.position_name = position_name
        self.count = 0
        self.shown: list[str] = []
        self._pending: list[tuple[int, str]] = []

    def add(self, position: int, reason: str, record: bytes | str = b"") -> None:
        self._pending.append((position, reason))
        self.count += 1

    def flush(self) -> None:
        for position, reason in self._pending:
            if len(self.shown) < self.SHOWN:
                self.shown.append(f"{self.position_name} {position}: {reason}")
            elif len(self.shown) == self.SHOWN:
                self.shown.append("...")
        self._pending.clear()

    def discard(self) -> None:
        self.count -= len(self._pending)
        self._pending.clear()

    def close(self) -> None:
        self.flush()


def run_backfill(
    handler: Handler,
    source: Source,
    options: Options,
    *,
    progress_stream: TextIO,
) -> Summary:
    """Runs `handler` over `source`; see the module docstring. Raises BackfillError."""
    return _Run(handler, source, options, progress_stream).run()


class _Run:
    def __init__(self, handler: Handler, source: Source, options: Options, stream: TextIO):
        if options.batch_size < 1:
            raise BackfillError("--batch-size must be at least 1")
        if options.limit is not None and options.limit < 0:
            raise BackfillError("--limit must not be negative")
        self.handler = handler
        self.source = source
        self.options = options
        self.stream = stream
        self.summary = Summary(
            command=handler.command,
            input=source.description,
            unit=handler.unit,
            dry_run=options.dry_run,
        )
        self.checkpoint: BackfillCheckpoint | None = None
        self.totals = dict.fromkeys(COUNTERS, 0)

    # --- checkpoint ----------------------------------------------------------------------------

    def _checkpoint_name(self) -> str:
        return (
            self.options.checkpoint_name or f"{self.handler.command}:{self.source.checkpoint_key}"
        )

    def _open_checkpoint(self) -> tuple[int, int | None]:
        """(position to resume after, byte offset) and the counters so far."""
        name = self._checkpoint_name()
        fingerprint = self.source.fingerprint()
        existing = BackfillCheckpoint.objects.filter(name=name).first()
        if self.options.resume and existing is not None:
            if existing.fingerprint and fingerprint and existing.fingerprint != fingerprint:
                raise BackfillError(
                    f"{self.source.description} is not the input checkpoint {name!r} was "
                    "made from (its content differs); run without --resume to start over"
                )
            self.checkpoint = existing
            self.totals = {c: getattr(existing, c) for c in COUNTERS}
            if existing.finished_at is not None:
                self.summary.already_finished = True
            else:
                self.summary.resumed_after = existing.position
            return existing.position, existing.byte_offset
        if self.options.dry_run:
            return 0, None
        now = timezone.now()
        self.checkpoint, _ = BackfillCheckpoint.objects.update_or_create(
            name=name,
            defaults={
                "command": self.handler.command,
                "fingerprint": fingerprint,
                "position": 0,
                "byte_offset": None,
                **dict.fromkeys(COUNTERS, 0),
                "started_at": now,
                "updated_at": now,
                "finished_at": None,
            },
        )
        return 0, None

    def _save_checkpoint(self, position: int, offset: int | None, totals: dict, finished: bool):
        if self.options.dry_run or self.checkpoint is None:
            return
        now = timezone.now()
        BackfillCheckpoint.objects.filter(pk=self.checkpoint.pk).update(
            position=position,
            byte_offset=offset,
            updated_at=now,
            finished_at=now if finished else None,
            **totals,
        )

    # --- the loop ------------------------------------------------------------------------------

    def run(self) -> Summary:
        options = self.options
        started = time.monotonic()
        after, offset = self._open_checkpoint()
        rejects_path = options.rejects_path or self.source.default_rejects_path
        position_name = getattr(self.source, "position_name", "line")
        if options.dry_run and not options.rejects_path:
            self.rejects = _DryRunRejects(position_name)
            rejects_path = None
        else:
            if rejects_path is None:
                rejects_path = f"{self.handler.command}.rejects"
            keep = after if self.summary.resumed_after is not None else None
            if self.summary.already_finished:
                keep = after
            self.rejects = RejectFile(rejects_path, position_name=position_name, keep_upto=keep)
        self.summary.rejects_path = rejects_path
        self.progress = Progress(
            self.stream,
            unit=self.handler.unit,
            interactive=options.interactive,
            interval=options.progress_interval,
            enabled=options.show_progress,
        )
        self.read_now = 0
        self.last_position = after
        try:
            if not self.summary.already_finished:
                self._loop(after, offset)
        finally:
            self.rejects.close()
            self.progress.finish()
            self.handler.finish()
        since = self.handler.touched_since
        if since is not None and not options.dry_run:
            # A day earlier: a run's tryjobs of one builder may straddle the first day.
            since -= timedelta(days=1)
            self.stream.write(f"recounting the dashboards' rollups from {since:%Y-%m-%d}\n")
            run_rollups.rebuild(since)
            tryjob_rollups.rebuild(since)
        summary = self.summary
        for name in COUNTERS:
            setattr(summary, name, self.totals[name])
        summary.read_now = self.read_now
        summary.elapsed = time.monotonic() - started
        summary.extra = self.handler.counters()
        if isinstance(self.rejects, _DryRunRejects):
            summary.rejects_shown = self.rejects.shown
        return summary

    def _loop(self, after: int, offset: int | None) -> None:
        batch: list[Record] = []
        limit = self.options.limit
        damage: InputError | None = None
        records = self.source.records(after, offset)
        try:
            for raw in records:
                if limit is not None and self.read_now >= limit:
                    self.summary.limit_reached = True
                    break
                self.read_now += 1
                batch.append(Record(raw.position, raw.raw, raw.next_offset))
                if len(batch) >= self.options.batch_size:
                    self._batch(batch)
                    batch = []
        except InputError as e:
            damage = e
        finally:
            close = getattr(records, "close", None)
            if close is not None:
                close()
        if damage is not None and damage.position <= after:
            damage = None  # reported (and committed) by the run this one resumes
        if damage is not None:
            self.summary.input_damaged = damage.reason
        self._batch(batch, damage=damage, last=not self.summary.limit_reached)

    def _batch(self, batch: list[Record], damage: InputError | None = None, last: bool = False):
        if not batch and damage is None and not last:
            return
        counts = dict.fromkeys(COUNTERS, 0)
        counts["read"] = len(batch)
        rejected: list[tuple[int, str, bytes]] = []
        parsed: list[Record] = []
        projects = self.options.projects
        for record in batch:
            try:
                record.item = self.handler.parse(record)
            except Reject as e:
                rejected.append((record.position, e.reason, record.raw))
                continue
            if projects:
                belongs = self.handler.projects(record.item)
                if belongs is not None and not projects.intersection(belongs):
                    counts["skipped"] += 1
                    continue
            parsed.append(record)
        if parsed:
            prepared = self.handler.prepare(parsed)
            if prepared:
                rejected.extend(
                    (r.position, prepared[r.position].reason, r.raw)
                    for r in parsed
                    if r.position in prepared
                )
                parsed = [r for r in parsed if r.position not in prepared]
        if damage is not None:
            counts["read"] += 1  # the line that could not be read
            rejected.append((damage.position, damage.reason, b""))
        position = self.last_position
        offset = None
        if batch:
            position, offset = batch[-1].position, batch[-1].next_offset
        if damage is not None:
            position, offset = max(position, damage.position), None
        finished = last or damage is not None
        self._write(parsed, rejected, counts, position, offset, finished)
        self.last_position = position
        for name in COUNTERS:
            self.totals[name] += counts[name]
        fraction = self.source.fraction_done(self.read_now)
        self.progress.update(self.read_now, fraction)

    def _write(self, parsed, rejected, counts, position, offset, finished):
        """Writes one batch with its checkpoint and rejects; retries what is transient."""
        delay = 0.1
        for attempt in range(TRANSIENT_RETRIES + 1):
            one_by_one = False
            while True:
                batch_counts = dict(counts)
                batch_rejects = list(rejected)
                try:
                    with transaction.atomic():
                        take_write_lock()
                        if one_by_one:
                            results = self._write_one_by_one(parsed)
                        else:
                            results = self.handler.write(parsed) if parsed else []
                        self._tally(parsed, results, batch_counts, batch_rejects)
                        totals = {c: self.totals[c] + batch_counts[c] for c in COUNTERS}
                        self._save_checkpoint(position, offset, totals, finished)
                        for pos, reason, raw in batch_rejects:
                            self.rejects.add(pos, reason, raw)
                        # Durable before the commit: a crash after it finds them on disk.
                        self.rejects.flush()
                        if self.options.dry_run:
                            transaction.set_rollback(True)
                    counts.update(batch_counts)
                    return
                except OperationalError:
                    self.rejects.discard()
                    if attempt == TRANSIENT_RETRIES:
                        raise
                    break  # transient (locked, serialization failure): retry the batch
                except DatabaseError:
                    self.rejects.discard()
                    if one_by_one:
                        raise
                    one_by_one = True  # a record the database refuses: find it
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")

    def _write_one_by_one(self, parsed: list[Record]) -> list:
        results = []
        for record in parsed:
            try:
                with transaction.atomic():
                    results.extend(self.handler.write([record]))
            except OperationalError:
                raise
            except DatabaseError as e:
                message = " ".join(str(e).split())
                results.append(Reject(f"the database refused it: {message}"))
        return results

    @staticmethod
    def _tally(parsed, results, counts, rejects) -> None:
        if len(results) != len(parsed):
            raise AssertionError(f"{len(results)} results for {len(parsed)} records")
        for record, result in zip(parsed, results, strict=True):
            if isinstance(result, Reject):
                rejects.append((record.position, result.reason, record.raw))
            else:
                counts[str(result)] += 1
        counts["rejected"] += len(rejects)
