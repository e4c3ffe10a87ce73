"""Realistic backfill input: CQDaemon attempts (and, optionally, their Buildbucket builds).

`generate(attempts_out, count=N, builds_per_attempt=K)` writes N attempt lines, as CQDaemon's
BigQuery table would hold them:

* several LUCI projects and Gerrit hosts; CLs that get new patchsets over time; attempts of
  one to three CLs, in every mode; attempt keys computed as CQDaemon did (runs.ids);
* every status: SUCCESS, FAILURE, INFRA_FAILURE, ABORTED, and STARTED (still running when the
  table was exported); some attempts appear twice: a STARTED record, then, a few lines later,
  its final record (an import must keep the later one);
* K builds per attempt (critical ones and experimental ones), plus retries of failed builds,
  and builds reused from an earlier attempt of the same CLs (origin REUSED, same build ID);
* each line in one JSON flavour: proto3 JSON with lowerCamelCase names, with proto names, or
  a BigQuery export ("2021-05-11 10:00:00.123456 UTC" times, int64 as numbers or strings,
  enums by name or number).

With `builds_out`, every build (once, in its latest state) also goes there as a
buildbucket.v2.Build in proto3 JSON, tagged with its attempt key like CV's builds are.
Deterministic for a given seed; memory does not grow with N (only small windows are kept).
"""

import hashlib
import heapq
import json
import random
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from runs.ids import AttemptKeyCL, attempt_key

__all__ = ["FORMATS", "GenerationSummary", "generate"]

FORMATS = ("mixed", "camel", "snake", "bigquery")
BUILDBUCKET_HOST = "cr-buildbucket.appspot.com"
START = datetime(2020, 3, 2, 8, 0, tzinfo=UTC)
FIRST_BUILD_ID = 8_900_000_000_000_000_000

# (LUCI project, Gerrit host, Gerrit projects, builders)
PROJECTS = (
    (
        "chromium",
        "chromium-review.googlesource.com",
        ("chromium/src", "chromium/tools/build"),
        ("linux-rel", "win-rel", "mac-rel", "android-arm64-rel", "linux-asan", "ios-simulator"),
    ),
    ("v8", "chromium-review.googlesource.com", ("v8/v8",), ("v8-linux64-rel", "v8-win64-rel")),
    (
        "infra",
        "chromium-review.googlesource.com",
        ("infra/infra", "infra/luci/luci-go"),
        ("infra-try-bionic-64", "luci-go-try-presubmit", "infra-try-mac"),
    ),
    ("skia", "skia-review.googlesource.com", ("skia",), ("Build-Debian10-Clang", "Test-Win10")),
    ("fuchsia", "fuchsia-review.googlesource.com", ("fuchsia",), ("core.x64", "core.arm64")),
)
MODES = (("DRY_RUN", 1, 55), ("FULL_RUN", 2, 35), ("QUICK_DRY_RUN", 3, 10))
OUTCOMES = (
    ("SUCCESS", 2, 55),
    ("FAILURE", 4, 18),
    ("INFRA_FAILURE", 5, 5),
    ("ABORTED", 3, 10),
    ("STARTED", 1, 12),
)
SUBSTATUS = {"SUCCESS": 1, "FAILURE": 2, "INFRA_FAILURE": 8, "ABORTED": 7, "STARTED": 0}
SUBMIT_STATUS = {"SUCCESS": 4, "FAILURE": 3, "PENDING": 1}
ATTEMPT_STATUS_NUMBERS = {name: number for name, number, _ in OUTCOMES}
MODE_NUMBERS = {name: number for name, number, _ in MODES}
ORIGIN_NUMBERS = {"NOT_REUSABLE": 1, "NOT_REUSED": 2, "REUSED": 3}
CL_POOL = 400
REUSE_WINDOW = 2000
PENDING_FINAL_MAX_DELAY = 40


@dataclass
class GenerationSummary:
    lines: int = 0
    attempts: int = 0
    builds: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class _CL:
    project: str
    host: str
    gerrit_project: str
    change: int
    patchset: int = 1
    min_equivalent: int = 1


@dataclass
class _Build:
    id: int
    builder: str
    critical: bool
    status: str  # Buildbucket status name
    origin: str
    create_time: datetime
    end_time: datetime | None
    failure_type: str = ""
    timeout: bool = False
    retry_denied: bool = False


def generate(
    attempts_out: BinaryIO,
    *,
    count: int,
    builds_per_attempt: int = 3,
    builds_out: BinaryIO | None = None,
    seed: int = 0,
    fmt: str = "mixed",
) -> GenerationSummary:
    """Writes `count` attempt lines to `attempts_out`; see the module docstring."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if count < 0 or builds_per_attempt < 0:
        raise ValueError("count and builds_per_attempt must not be negative")
    return _Generator(attempts_out, builds_out, builds_per_attempt, seed, fmt).run(count)


class _Generator:
    def __init__(self, out, builds_out, builds_per_attempt, seed, fmt):
        self.out = out
        self.builds_out = builds_out
        self.k = builds_per_attempt
        self.rng = random.Random(seed)
        self.fmt = fmt
        self.now = START
        self.next_build_id = FIRST_BUILD_ID
        self.next_change = {host: 2_000_000 for _, host, _, _ in PROJECTS}
        self.pool: list[_CL] = []
        # CL set and patchsets -> builds that passed there, for later attempts to reuse.
        self.reusable: OrderedDict[tuple, list[_Build]] = OrderedDict()
        self.pending: list[tuple[int, int, dict, list, dict]] = []  # final records due later
        self.summary = GenerationSummary()
        self.lines_written = 0
        self.serial = 0

    def run(self, count: int) -> GenerationSummary:
        while self.lines_written < count:
            while self.pending and self.pending[0][0] <= self.lines_written:
                _, _, record, builds, context = heapq.heappop(self.pending)
                self._emit(record, builds, context)
                if self.lines_written >= count:
                    break
            if self.lines_written >= count:
                break
            self._attempt(remaining=count - self.lines_written)
        self.pending.clear()
        return self.summary

    # --- one attempt ------------------------------------------------------------------------

    def _attempt(self, remaining: int) -> None:
        rng = self.rng
        self.now += timedelta(seconds=rng.randint(5, 90), microseconds=rng.randint(0, 999_999))
        cls = self._pick_cls()
        mode, mode_number = _weighted(rng, MODES)
        outcome, _ = _weighted(rng, OUTCOMES)
        trigger = self.now
        account = rng.randint(1000, 1100)
        key = attempt_key(
            AttemptKeyCL(
                cl.host,
                cl.change,
                _revision(cl),
                trigger,
                mode,
                account,
            )
            for cl in cls
        )
        start = trigger + timedelta(seconds=rng.randint(1, 20), microseconds=rng.randint(0, 999))
        end = start + timedelta(minutes=rng.randint(5, 90), seconds=rng.randint(0, 59))
        project = cls[0].project
        builds = self._builds(cls, mode, outcome, start, end)
        group = tuple((cl.host, cl.change, cl.patchset) for cl in cls)
        context = {"project": project, "key": key, "cls": cls, "trigger": trigger}
        record = {
            "key": key,
            "luci_project": project,
            "cl_group_key": hashlib.sha1(repr(group).encode()).hexdigest()[:16],
            "equivalent_cl_group_key": hashlib.sha1(
                repr([(c.host, c.change, c.min_equivalent) for c in cls]).encode()
            ).hexdigest()[:16],
            "start_time": start,
            "end_time": None if outcome == "STARTED" else end,
            "gerrit_changes": [
                {
                    "host": cl.host,
                    "project": cl.gerrit_project,
                    "change": cl.change,
                    "patchset": cl.patchset,
                    "earliest_equivalent_patchset": cl.min_equivalent,
                    "trigger_time": trigger,
                    "mode": mode,
                    "submit_status": _submit_status(outcome, mode),
                }
                for cl in cls
            ],
            "builds": builds,
            "status": outcome,
            "substatus": SUBSTATUS[outcome],
            "config_group": "default" if rng.random() < 0.8 else "branches",
            "has_custom_requirement": rng.random() < 0.05,
        }
        self.summary.attempts += 1
        self.summary.statuses[outcome] = self.summary.statuses.get(outcome, 0) + 1
        if outcome != "STARTED" and remaining > 1 and rng.random() < 0.25:
            # CQDaemon exported the attempt while it ran, then again when it had ended.
            started = dict(record, status="STARTED", substatus=0, end_time=None)
            started["gerrit_changes"] = [
                dict(gc, submit_status="PENDING" if gc["submit_status"] else None)
                for gc in record["gerrit_changes"]
            ]
            started["builds"] = builds[: max(1, len(builds) // 2)] if builds else []
            self._emit(started, [], context)
            due = self.lines_written + rng.randint(1, PENDING_FINAL_MAX_DELAY)
            self.serial += 1
            heapq.heappush(self.pending, (due, self.serial, record, builds, context))
        else:
            self._emit(record, builds, context)
        if outcome == "SUCCESS" or (outcome == "FAILURE" and rng.random() < 0.5):
            self._remember(group, [b for b in builds if b.status == "SUCCESS"])
        self._advance(cls)

    def _pick_cls(self) -> list[_CL]:
        rng = self.rng
        if len(self.pool) < CL_POOL or rng.random() < 0.15:
            project, host, gerrit_projects, _ = rng.choice(PROJECTS)
            self.next_change[host] += 1
            cl = _CL(project, host, rng.choice(gerrit_projects), self.next_change[host])
            if len(self.pool) >= CL_POOL:
                self.pool.pop(rng.randrange(len(self.pool)))
            self.pool.append(cl)
        first = self.pool[-1] if rng.random() < 0.3 else rng.choice(self.pool)
        n = 1 if rng.random() < 0.8 else (2 if rng.random() < 0.75 else 3)
        if n == 1:
            return [first]
        same = [c for c in self.pool if c.project == first.project and c is not first]
        return [first, *rng.sample(same, min(n - 1, len(same)))]

    def _advance(self, cls: list[_CL]) -> None:
        for cl in cls:
            if self.rng.random() < 0.3:
                cl.patchset += 1
                if self.rng.random() < 0.7:
                    cl.min_equivalent = cl.patchset  # a code change; else a trivial rebase

    def _builds(self, cls, mode, outcome, start, end) -> list[_Build]:
        rng = self.rng
        _, _, _, builders = next(p for p in PROJECTS if p[0] == cls[0].project)
        group = tuple((cl.host, cl.change, cl.patchset) for cl in cls)
        reusable = list(self.reusable.get(group, ())) if mode == "FULL_RUN" else []
        builds: list[_Build] = []
        chosen = [builders[i % len(builders)] for i in range(self.k)]
        for i, builder in enumerate(chosen):
            critical = i < max(1, self.k - 1) or rng.random() < 0.5
            old = next((b for b in reusable if b.builder == builder), None)
            if old is not None and rng.random() < 0.7:
                builds.append(
                    _Build(
                        old.id,
                        builder,
                        critical,
                        old.status,
                        "REUSED",
                        old.create_time,
                        old.end_time,
                    )
                )
                continue
            builds.append(self._new_build(builder, critical, outcome, start, end))
        if outcome == "FAILURE" and builds:
            failed = next((b for b in builds if b.critical and b.origin != "REUSED"), None)
            if failed is not None:
                failed.status = "FAILURE"
                failed.failure_type = "TRANSIENT_FAILURE" if rng.random() < 0.4 else ""
                failed.retry_denied = rng.random() < 0.2
                if rng.random() < 0.5:  # CQ retried it, and the retry failed too
                    retry = self._new_build(failed.builder, True, outcome, start, end)
                    retry.status = "FAILURE"
                    builds.append(retry)
        elif outcome == "INFRA_FAILURE" and builds:
            broken = builds[-1]
            if broken.origin != "REUSED":
                broken.status = "INFRA_FAILURE"
                broken.timeout = rng.random() < 0.5
        elif outcome == "SUCCESS" and builds and rng.random() < 0.1:
            flaky = next((b for b in builds if b.origin != "REUSED"), None)
            if flaky is not None:  # failed once, retried, passed
                flaky.status = "FAILURE"
                flaky.failure_type = "TRANSIENT_FAILURE"
                builds.append(self._new_build(flaky.builder, True, outcome, start, end))
        return builds

    def _new_build(self, builder, critical, outcome, start, end) -> _Build:
        rng = self.rng
        self.next_build_id -= rng.randint(1_000, 1_000_000)
        status = {
            "STARTED": "STARTED" if rng.random() < 0.8 else "SCHEDULED",
            "ABORTED": "CANCELED" if rng.random() < 0.7 else "SUCCESS",
        }.get(outcome, "SUCCESS")
        created = start + timedelta(seconds=rng.randint(1, 30), microseconds=rng.randint(0, 999))
        ended = None if status in ("STARTED", "SCHEDULED") else end - timedelta(seconds=30)
        return _Build(self.next_build_id, builder, critical, status, "NOT_REUSED", created, ended)

    def _remember(self, group: tuple, builds: list[_Build]) -> None:
        if not builds:
            return
        self.reusable[group] = builds
        self.reusable.move_to_end(group)
        while len(self.reusable) > REUSE_WINDOW:
            self.reusable.popitem(last=False)

    # --- output -----------------------------------------------------------------------------

    def _emit(self, record: dict, builds: list[_Build], context: dict) -> None:
        fmt = self.fmt
        if fmt == "mixed":
            fmt = self.rng.choice(("camel", "snake", "bigquery"))
        self.out.write(_encode(record, fmt, self.rng).encode() + b"\n")
        self.lines_written += 1
        self.summary.lines += 1
        if self.builds_out is not None:
            for build in builds:
                if build.origin != "REUSED":
                    line = json.dumps(_build_json(build, context), separators=(",", ":"))
                    self.builds_out.write(line.encode() + b"\n")
                    self.summary.builds += 1


def _weighted(rng: random.Random, choices):
    total = sum(c[-1] for c in choices)
    pick = rng.uniform(0, total)
    for choice in choices:
        pick -= choice[-1]
        if pick <= 0:
            return choice[0], choice[1]
    return choices[-1][0], choices[-1][1]


def _revision(cl: _CL) -> str:
    return hashlib.sha1(f"{cl.host}/{cl.change}/{cl.patchset}".encode()).hexdigest()


def _submit_status(outcome: str, mode: str) -> str | None:
    if mode != "FULL_RUN":
        return None
    return {"SUCCESS": "SUCCESS", "FAILURE": "FAILURE", "STARTED": "PENDING"}.get(outcome)


def _rfc3339(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _bigquery_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _encode(record: dict, fmt: str, rng: random.Random) -> str:
    """One attempt line in the given JSON flavour."""
    camel = fmt == "camel"
    bigquery = fmt == "bigquery"

    def name(snake: str) -> str:
        return _CAMEL[snake] if camel else snake

    def time(t: datetime) -> str:
        return _bigquery_time(t) if bigquery else _rfc3339(t)

    def int64(n: int):
        return n if bigquery and rng.random() < 0.5 else str(n)

    def enum(value: str, numbers: dict):
        return numbers[value] if bigquery and rng.random() < 0.3 else value

    changes = []
    for gc in record["gerrit_changes"]:
        change = {
            name("host"): gc["host"],
            name("project"): gc["project"],
            name("change"): int64(gc["change"]),
            name("patchset"): int64(gc["patchset"]),
            name("earliest_equivalent_patchset"): int64(gc["earliest_equivalent_patchset"]),
            name("trigger_time"): time(gc["trigger_time"]),
            name("mode"): enum(gc["mode"], MODE_NUMBERS),
        }
        if gc["submit_status"]:
            change[name("submit_status")] = enum(gc["submit_status"], SUBMIT_STATUS)
        elif bigquery:
            change[name("submit_status")] = None
        changes.append(change)
    builds = []
    for build in record["builds"]:
        item = {
            name("id"): int64(build.id),
            name("host"): BUILDBUCKET_HOST,
            name("origin"): enum(build.origin, ORIGIN_NUMBERS),
        }
        if build.critical or bigquery:
            item[name("critical")] = build.critical
        builds.append(item)
    out = {
        name("key"): record["key"],
        name("luci_project"): record["luci_project"],
        name("cl_group_key"): record["cl_group_key"],
        name("equivalent_cl_group_key"): record["equivalent_cl_group_key"],
        name("start_time"): time(record["start_time"]),
    }
    if record["end_time"] is not None:
        out[name("end_time")] = time(record["end_time"])
    elif bigquery:
        out[name("end_time")] = None
    out[name("gerrit_changes")] = changes
    out[name("builds")] = builds
    out[name("status")] = enum(record["status"], ATTEMPT_STATUS_NUMBERS)
    if record["substatus"]:
        out[name("substatus")] = (
            record["substatus"] if bigquery else _SUBSTATUS_NAMES[record["substatus"]]
        )
    out[name("config_group")] = record["config_group"]
    if record["has_custom_requirement"] or bigquery:
        out[name("has_custom_requirement")] = record["has_custom_requirement"]
    return json.dumps(out, separators=(",", ":"))


_CAMEL = {
    snake: snake.split("_")[0] + "".join(part.title() for part in snake.split("_")[1:])
    for snake in (
        "host project change patchset earliest_equivalent_patchset trigger_time mode "
        "submit_status id origin critical key luci_project cl_group_key "
        "equivalent_cl_group_key start_time end_time gerrit_changes builds status substatus "
        "config_group has_custom_requirement"
    ).split()
}

_SUBSTATUS_NAMES = {
    1: "NO_SUBSTATUS",
    2: "FAILED_TRYJOBS",
    7: "MANUAL_CANCEL",
    8: "BUILDBUCKET_MISCONFIGURATION",
}


def _build_json(build: _Build, context: dict) -> dict:
    """A buildbucket.v2.Build in proto3 JSON (lowerCamelCase, int64 as strings)."""
    project = context["project"]
    cls = context["cls"]
    ended = build.end_time is not None
    started = build.status != "SCHEDULED"
    out: dict = {
        "id": str(build.id),
        "builder": {"project": project, "bucket": "try", "builder": build.builder},
        "createdBy": f"project:{project}",
        "createTime": _rfc3339(build.create_time),
        "updateTime": _rfc3339(build.end_time or build.create_time + timedelta(seconds=40)),
        "status": build.status,
        "critical": "YES" if build.critical else "NO",
        "input": {
            "gerritChanges": [
                {
                    "host": cl.host,
                    "project": cl.gerrit_project,
                    "change": str(cl.change),
                    "patchset": str(cl.patchset),
                }
                for cl in cls
            ]
        },
        "infra": {
            "buildbucket": {"hostname": BUILDBUCKET_HOST},
            "resultdb": {
                "hostname": "results.api.cr.dev",
                "invocation": f"invocations/build-{build.id}",
                "enable": True,
            },
        },
        "tags": [
            {"key": "cq_attempt_key", "value": context["key"]},
            {"key": "cq_experimental", "value": "false" if build.critical else "true"},
            {"key": "user_agent", "value": "cq"},
        ],
    }
    if started:
        out["startTime"] = _rfc3339(build.create_time + timedelta(seconds=40))
    if ended:
        out["endTime"] = _rfc3339(build.end_time)
        out["summaryMarkdown"] = {
            "SUCCESS": "All tests passed",
            "FAILURE": "Compile failed",
            "INFRA_FAILURE": "Bot died",
            "CANCELED": "LUCI CV no longer needs this Tryjob",
        }[build.status]
        properties: dict = {}
        if build.status == "SUCCESS":
            properties["$recipe_engine/cq/output"] = {
                "reusability": {"modeAllowlist": ["DRY_RUN", "FULL_RUN"]}
            }
        if build.failure_type:
            properties["failure_type"] = build.failure_type
        if build.retry_denied:
            properties["do_not_retry"] = True
        out["output"] = {"status": build.status, "properties": properties}
    if build.timeout:
        out["statusDetails"] = {"timeout": {}}
    return out
