"""import_builds: Buildbucket builds (buildbucket.v2.Build, proto3 JSON per line) -> tryjobs.

Each build updates or creates the tryjob with its external ID `buildbucket/<host>/<id>` (the
host from `infra.buildbucket.hostname`, else the command's default):
  * definition from the builder (host, project, bucket, builder); whether it is critical stays
    what the attempt import said (a new tryjob is critical when the build is);
  * status and result by tryjob_semantics.md §7 (tryjobs.buildbucket_status): the result keeps
    the build's create and update times, ID, builder, status, summary, ResultDB infra, and the
    cq.recipe.Output parsed from the output properties;
  * linked to its run through the CQ tag `cq_attempt_key`, or failing that through its Gerrit
    changes and patchsets (the newest run of exactly those CLs at those patchsets created no
    later than the build); a run it is linked to launched it. A build no run matches is kept
    unlinked (counted in the summary): like a `git cl try` build, no run watches it.
A build older than what is stored (its update_time is earlier) never overwrites it.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.utils import timezone

from cvproto.buildbucket.v2 import build_pb2
from cvproto.buildbucket.v2 import common_pb2 as bb_pb
from cvproto.gerrit import gerrit_pb2
from cvproto.validation import InvalidMessage
from importers.backfill import writer
from importers.backfill.core import Handler, Outcome, Record, Reject
from importers.backfill.jsonpb import JSONRecordError, parse_message
from importers.backfill.lookups import chunks, cls_by_key
from runs.ids import IDError, gerrit_cl_external_id
from runs.models import CL, Run, RunCL
from runs.serializers import change_snapshot_columns, check_columns_fit
from tryjobs.buildbucket_status import BuildbucketStatusError, result_from_build
from tryjobs.external_id import ExternalIDError, buildbucket_external_id, reuse_key
from tryjobs.models import Tryjob, TryjobCLPatchset
from tryjobs.serializers import Definition, tryjob_columns

__all__ = ["DEFAULT_BUILDBUCKET_HOST", "BuildHandler", "ParsedBuild"]

DEFAULT_BUILDBUCKET_HOST = "cr-buildbucket.appspot.com"
ATTEMPT_KEY_TAG = "cq_attempt_key"
_NO_INFO = gerrit_pb2.ChangeInfo()
# What an update may change; `critical` and the equivalent builder are the attempt's to say.
_UPDATED = (
    "buildbucket_host",
    "builder_project",
    "builder_bucket",
    "builder_name",
    "status",
    "result_status",
    "result_create_time",
    "result_update_time",
    "result_output",
    "build_id",
    "build_status",
    "build_builder_project",
    "build_builder_bucket",
    "build_builder_name",
    "build_summary_markdown",
    "build_infra",
)


@dataclass(slots=True)
class ParsedBuild:
    external_id: str
    project: str
    critical: bool
    columns: dict  # tryjobs.serializers.tryjob_columns
    update_time: datetime | None
    create_time: datetime | None
    attempt_key: str
    changes: tuple[tuple[str, int, int, str], ...]  # (host, change, patchset, gerrit project)


def parse_build(raw: bytes, default_host: str) -> ParsedBuild:
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise Reject(f"not JSON: {e}") from None
    if not isinstance(data, dict):
        raise Reject(f"not a JSON object but {type(data).__name__}")
    try:
        build = parse_message(data, build_pb2.Build())
    except JSONRecordError as e:
        raise Reject(str(e)) from None
    if build.id <= 0:
        raise Reject(f"id: a build needs its (positive) ID, got {build.id}")
    builder = build.builder
    for name in ("project", "bucket", "builder"):
        if not getattr(builder, name):
            raise Reject(f"builder.{name}: must be set")
    host = build.infra.buildbucket.hostname or default_host
    try:
        external_id = buildbucket_external_id(host, build.id)
    except ExternalIDError as e:
        raise Reject(f"infra.buildbucket.hostname: {e}") from None
    try:
        status, result = result_from_build(build)
    except BuildbucketStatusError as e:
        raise Reject(f"status: {e}") from None
    definition = Definition(critical=build.critical == bb_pb.YES)
    definition.buildbucket.host = host
    definition.buildbucket.builder.CopyFrom(builder)
    try:
        columns = tryjob_columns(
            definition=definition, status=status, external_id=external_id, result=result
        )
    except InvalidMessage as e:
        raise Reject(str(e)) from None
    changes = []
    for i, gc in enumerate(build.input.gerrit_changes):
        try:
            gerrit_cl_external_id(gc.host, gc.change)
            if gc.patchset < 1:
                raise Reject(f"input.gerrit_changes[{i}].patchset: must be at least 1")
            check_columns_fit(
                CL,
                {"host": gc.host, "gerrit_project": gc.project, "patchset": gc.patchset},
                f"input.gerrit_changes[{i}]",
            )
        except IDError as e:
            raise Reject(f"input.gerrit_changes[{i}]: {e}") from None
        except InvalidMessage as e:
            raise Reject(str(e)) from None
        changes.append((gc.host, gc.change, gc.patchset, gc.project))
    keys = {tag.value for tag in build.tags if tag.key == ATTEMPT_KEY_TAG}
    if len(keys) > 1:
        raise Reject(f"tags: {len(keys)} different {ATTEMPT_KEY_TAG} values")
    return ParsedBuild(
        external_id=external_id,
        project=builder.project,
        critical=definition.critical,
        columns=columns,
        update_time=columns["result_update_time"],
        create_time=columns["result_create_time"],
        attempt_key=keys.pop() if keys else "",
        changes=tuple(sorted(set(changes))),
    )


class BuildHandler(Handler):
    command = "import_builds"
    unit = "builds"
    default_batch_size = 500

    def __init__(self, default_host: str = DEFAULT_BUILDBUCKET_HOST):
        self.default_host = default_host
        self.linked = {"by attempt key": 0, "by changes": 0, "already": 0, "unlinked": 0}

    def parse(self, record: Record) -> ParsedBuild:
        return parse_build(record.raw, self.default_host)

    def projects(self, item: ParsedBuild) -> tuple[str]:
        return (item.project,)

    def counters(self) -> dict[str, int]:
        names = {
            "by attempt key": "tryjobs linked to their run by attempt key",
            "by changes": "tryjobs linked to their run by CLs and patchsets",
            "already": "tryjobs that already had their run",
            "unlinked": "tryjobs of no known run",
        }
        return {names[how]: count for how, count in self.linked.items()}

    def write(self, records: list[Record]) -> list:
        now = timezone.now()
        items: list[ParsedBuild] = [r.item for r in records]
        stored = self._stored([i.external_id for i in items])
        runs = _RunFinder(items)
        cl_ids = self._cls(items, now)
        results = []
        new: dict[str, dict] = {}
        updates: dict[str, dict] = {}
        for item in items:
            eid = item.external_id
            current = new.get(eid) or updates.get(eid) or stored.get(eid)
            if current is not None:
                old_time = current["result_update_time"]
                if old_time and item.update_time and old_time > item.update_time:
                    results.append(Outcome.UNCHANGED)
                    continue
            run_id, how = runs.find(item)
            if current is None:
                row = {
                    **item.columns,
                    "launched_by_id": run_id,
                    "reuse_key": runs.reuse_key(run_id) if run_id else "",
                    "create_time": now,
                    "update_time": now,
                    "eversion": 1,
                    "_changes": item.changes,
                }
                new[eid] = row
                self.linked[how] += 1
                results.append(Outcome.CREATED)
                continue
            changed = {k: item.columns[k] for k in _UPDATED if current[k] != item.columns[k]}
            link = run_id is not None and current.get("launched_by_id") is None
            if not changed and not link:
                results.append(Outcome.UNCHANGED)
                continue
            if link:
                changed["launched_by_id"] = run_id
                if not current.get("reuse_key"):
                    changed["reuse_key"] = runs.reuse_key(run_id)
            self.linked[how if link or current.get("launched_by_id") is None else "already"] += 1
            changed["eversion"] = current["eversion"] + 1  # per change, whatever the batches
            if eid in new:
                new[eid].update(changed)
            else:
                updates[eid] = {**current, **changed}
            results.append(Outcome.UPDATED)
        self._write_new(new, cl_ids)
        self._write_updates(updates, now)
        self.note_touched([now] if new else [])
        self.note_touched(row["create_time"] for row in updates.values())
        return results

    def _stored(self, eids: list[str]) -> dict[str, dict]:
        stored = {}
        names = [
            "id",
            "external_id",
            "launched_by_id",
            "reuse_key",
            "eversion",
            "create_time",
            *_UPDATED,
        ]
        for chunk in chunks(sorted(set(eids))):
            for row in Tryjob.objects.with_external_ids(chunk).values(*names):
                for key in ("result_output", "build_infra"):
                    if row[key] is not None:
                        row[key] = bytes(row[key])
                stored[row["external_id"]] = row
        return stored

    def _cls(self, items: list[ParsedBuild], now) -> dict[tuple[str, int], int]:
        """IDs of the builds' CLs; CLs cvsite does not know yet are created (bare, as the
        attempt import creates them: patchset only, refresh_cls fetches the rest)."""
        latest: dict[tuple[str, int], tuple[int, str, str]] = {}
        for item in items:
            for host, change, patchset, project in item.changes:
                if (host, change) not in latest or patchset > latest[(host, change)][0]:
                    latest[(host, change)] = (patchset, project, item.project)
        ids = {(host, change): clid for host, change, clid in cls_by_key(latest, "id")}
        missing = [key for key in latest if key not in ids]
        rows = []
        for key, clid in zip(missing, writer.allocate_ids(CL, len(missing)), strict=True):
            ids[key] = clid
            patchset, project, luci_project = latest[key]
            rows.append(
                {
                    "id": clid,
                    "host": key[0],
                    "change": key[1],
                    "luci_project": luci_project,
                    "update_time": now,
                    **_snapshot(patchset),
                    "gerrit_project": project,
                }
            )
        writer.insert(CL, rows)
        return ids

    def _write_new(self, new: dict[str, dict], cl_ids) -> None:
        if not new:
            return
        ids = writer.allocate_ids(Tryjob, len(new))
        patchsets = []
        for row, tid in zip(new.values(), ids, strict=True):
            row["id"] = tid
            for host, change, patchset, _ in row.pop("_changes"):
                patchsets.append(
                    {"tryjob_id": tid, "cl_id": cl_ids[(host, change)], "patchset": patchset}
                )
        writer.insert(Tryjob, list(new.values()))
        writer.insert(TryjobCLPatchset, patchsets, with_pk=False, ignore_conflicts=True)

    def _write_updates(self, updates: dict[str, dict], now) -> None:
        names = [*_UPDATED, "launched_by_id", "reuse_key", "eversion", "update_time"]
        writer.update_rows(
            Tryjob,
            names,
            [[row.get(n) for n in names[:-1]] + [now, row["id"]] for row in updates.values()],
        )


class _RunFinder:
    """Finds the run of each build of a batch: by attempt key, else by its CLs and patchsets."""

    def __init__(self, items: list[ParsedBuild]):
        keys = sorted({i.attempt_key for i in items if i.attempt_key})
        self.by_key: dict[str, str] = {}
        for chunk in chunks(keys):
            for run_id, key in (
                Run.objects.filter(cqd_attempt_key__in=chunk)
                .order_by("id")
                .values_list("id", "cqd_attempt_key")
            ):
                self.by_key.setdefault(key, run_id)
        wanted = {
            (host, change)
            for item in items
            if item.attempt_key not in self.by_key
            for host, change, _, _ in item.changes
        }
        # Runs of those CLs: their CL sets (with patchsets) and create times.
        self.run_cls: dict[str, set] = {}
        self.pairs: dict[str, list[tuple[int, int]]] = {}  # (CLID, min equivalent patchset)
        self.created: dict[str, datetime] = {}
        run_ids = set(self.by_key.values())
        clids = [clid for _, _, clid in cls_by_key(wanted, "id")]
        for chunk in chunks(clids):
            run_ids.update(RunCL.objects.filter(cl_id__in=chunk).values_list("run_id", flat=True))
        for chunk in chunks(sorted(run_ids)):
            for run_id, clid, host, change, patchset, min_eq, created in RunCL.objects.filter(
                run_id__in=chunk
            ).values_list(
                "run_id",
                "cl_id",
                "cl__host",
                "cl__change",
                "patchset",
                "min_equivalent_patchset",
                "run__create_time",
            ):
                self.run_cls.setdefault(run_id, set()).add((host, change, patchset))
                self.pairs.setdefault(run_id, []).append((clid, min_eq))
                self.created[run_id] = created
        self.by_cls: dict[frozenset, list[str]] = {}
        for run_id, cls in self.run_cls.items():
            self.by_cls.setdefault(frozenset(cls), []).append(run_id)

    def find(self, item: ParsedBuild) -> tuple[str | None, str]:
        run_id = self.by_key.get(item.attempt_key) if item.attempt_key else None
        if run_id is not None:
            return run_id, "by attempt key"
        if not item.changes:
            return None, "unlinked"
        candidates = self.by_cls.get(frozenset((h, c, p) for h, c, p, _ in item.changes), [])
        if item.create_time is not None:
            candidates = [r for r in candidates if self.created[r] <= item.create_time]
        if not candidates:
            return None, "unlinked"
        return max(candidates, key=lambda r: (self.created[r], r)), "by changes"

    def reuse_key(self, run_id: str) -> str:
        pairs = self.pairs.get(run_id)
        return reuse_key(pairs) if pairs else ""


@lru_cache(maxsize=256)
def _snapshot_columns(patchset: int) -> tuple:
    return tuple(
        change_snapshot_columns(
            _NO_INFO, patchset=patchset, min_equivalent_patchset=patchset, files=()
        ).items()
    )


def _snapshot(patchset: int) -> dict:
    return dict(_snapshot_columns(patchset))
