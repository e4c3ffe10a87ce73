"""Realistic rows at scale, written fast: `manage.py seed_scale` and the benchmarks at 1M runs.

Runs spread over a window of days (ended with a realistic mix of statuses and modes, the
latest still active), their CLs, run CLs and deps, run events; tryjobs, execution states and
log entries for the runs of cvsite-verified projects; result messages posted (or waiting) on
Gerrit; CQDaemon's verdicts, finished runs and
reported-runs snapshots for the others; API call records. Rows are built as plain tuples
(no model instances) and written per batch in one transaction: `COPY` on PostgreSQL
(psycopg's `cursor.copy`), `executemany` on SQLite. A large seed on PostgreSQL writes its
tables without their secondary indexes and foreign keys and adds them again after
(`LARGE_SEED`), then analyses them. The dashboards' rollups of the seeded window are those a
rebuild gives: counted by the seeder as it builds the rows when the tables held none that they
count (no reading back), else rebuilt from the rows.

Only appends: IDs of rows others reference are reserved from the tables' sequences, change
numbers start above each host's highest, and attempt keys derive from the seed and the number
of runs already stored, so seeding twice (with the same seed, even) adds new rows beside the
old ones. Deterministic for a given seed, window end and database content.

Each table has one function adding its rows to a batch (`add_<table>`) and a column list in
`COLUMNS`; a new table (a rollup, say) is one more function and one more entry there.
"""

from __future__ import annotations

import hashlib
import json
import math
import queue
import random
import threading
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import TypeVar

from django.db import connection, models, transaction
from django.db.models import Max
from psycopg.types.json import set_json_dumps

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.gerrit import gerrit_pb2
from cvproto.times import to_timestamp
from migration_api.models import ApiCall, ApiToken
from runs import rollups as run_rollups
from runs.ids import RunID
from runs.models import (
    CL,
    AttemptStatus,
    DepKind,
    FinishedCQDRun,
    GerritPost,
    GerritPostPurpose,
    ProjectVerifier,
    ReportedRun,
    ReportedRunsSnapshot,
    RollupPeriod,
    Run,
    RunCL,
    RunCLDep,
    RunEvent,
    RunEventKind,
    RunMode,
    RunStatus,
    VerifiedCQDRun,
    Verifier,
    VerifyAction,
)
from runs.models import Project as ProjectRow
from runs.serializers import RunCLView, attempt_columns, mode_to_bigquery, served_run_cl
from tryjobs import rollups as tryjob_rollups
from tryjobs.models import (
    BuildStatus,
    Execution,
    ExecutionAttempt,
    ExecutionLogEntry,
    ExecutionState,
    ExecutionStatus,
    LogKind,
    ResultStatus,
    Tryjob,
    TryjobCLPatchset,
    TryjobStatus,
    UnsuccessfulResult,
)

T = TypeVar("T")
ACTOR = "seed_scale"
PROJECT_NAMES = ["chromium", "v8", "angle", "skia", "webrtc", "fuchsia", "dart", "flutter"]
BUILDBUCKET_HOST = "cr-buildbucket.appspot.com"
# Buildbucket build IDs are this large; a tryjob's build ID is this plus its own ID.
BUILD_ID_BASE = 8_700_000_000_000_000_000
OWNERS_PER_PROJECT = 300
BUILDERS_PER_PROJECT = 24
DEFINITIONS_PER_RUN = 4
RETRY_CONFIG = (1, 2, 1, 1, 1)  # single quota, global quota, failure/transient/timeout weights


class Weighted:
    """Values drawn by weight, one random number a draw; the weights are summed once."""

    def __init__(self, choices: list[tuple]):
        self.values = [value for value, _ in choices]
        self.bounds = list(accumulate(weight for _, weight in choices))

    def pick(self, rng: random.Random):
        return self.values[bisect_right(self.bounds, rng.random() * self.bounds[-1])]


API_METHODS = Weighted(
    [
        ("FetchActiveRuns", 50),
        ("FetchExcludedCLs", 20),
        ("ReportRuns", 15),
        ("ReportVerifiedRun", 8),
        ("FetchRunStatus", 4),
        ("PostGerritMessage", 2),
        ("ReportFinishedRun", 1),
    ]
)
API_CODES = Weighted([("OK", 970), ("UNAVAILABLE", 15), ("NOT_FOUND", 8), ("INVALID_ARGUMENT", 7)])
RUN_MODES = Weighted(
    [
        (RunMode.DRY_RUN.value, 55),
        (RunMode.FULL_RUN.value, 35),
        (RunMode.QUICK_DRY_RUN.value, 5),
        (RunMode.NEW_PATCHSET_RUN.value, 5),
    ]
)
RUN_OUTCOMES = Weighted(
    [(RunStatus.SUCCEEDED, 60), (RunStatus.FAILED, 28), (RunStatus.CANCELLED, 12)]
)
# The status of a run that has not ended by the window's end (and is not just created).
ACTIVE_STATUSES = Weighted(
    [(RunStatus.RUNNING, 90), (RunStatus.WAITING_FOR_SUBMISSION, 6), (RunStatus.SUBMITTING, 4)]
)
STACK_SIZES = Weighted([(1, 78), (2, 14), (3, 6), (4, 2)])  # CLs of a run on new CLs
PATCHSETS = Weighted([(1, 40), (2, 30), (3, 15), (4, 10), (7, 5)])


@dataclass(frozen=True)
class ScalePlan:
    runs: int
    projects: int = 5
    days: int = 30
    seed: int = 0
    now: datetime | None = None  # the window's end; required
    api_calls: int | None = None  # default: two per run
    batch_size: int = 20_000

    def __post_init__(self) -> None:
        for name in ("runs", "projects", "days", "batch_size"):
            value = getattr(self, name)
            minimum = 0 if name == "runs" else 1
            if not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}")
        if self.api_calls is not None and self.api_calls < 0:
            raise ValueError(f"api_calls must not be negative, got {self.api_calls}")
        if not isinstance(self.now, datetime) or self.now.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")


def project_names(count: int) -> list[str]:
    return PROJECT_NAMES[:count] + [f"project-{i}" for i in range(len(PROJECT_NAMES), count)]


# Column lists, in the order each add_<table> function builds its tuples. Tables whose IDs no
# other seeded row references leave `id` to the database.
DEFINITION = (
    "buildbucket_host",
    "builder_project",
    "builder_bucket",
    "builder_name",
    "equivalent_host",
    "equivalent_project",
    "equivalent_bucket",
    "equivalent_name",
    "disable_reuse",
    "skip_stale_check",
    "critical",
    "optional",
    "result_visibility",
    "experiments",
    "disable_reuse_footers",
    "reuse_max_commit_distance",
)
RESULT = (
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
SNAPSHOT = (
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
ATTEMPT = (
    "attempt_key",
    "attempt_project",
    "attempt_status",
    "attempt_substatus",
    "attempt_start_time",
    "attempt_end_time",
    "attempt_config_group",
    "attempt",
)
COLUMNS: dict[type[models.Model], tuple[str, ...]] = {
    CL: ("id", "host", "change", "luci_project", "update_time", *SNAPSHOT),
    Run: (
        "id",
        "project",
        "status",
        "mode",
        "cqd_attempt_key",
        "owner",
        "config_group",
        "create_time",
        "start_time",
        "update_time",
        "end_time",
        "finalized_by_cqd",
        "end_reason",
        "eversion",
    ),
    RunCL: (
        "id",
        "run_id",
        "cl_id",
        "position",
        "trigger_time",
        "trigger_mode",
        "trigger_account_id",
        "trigger_email",
        "trigger_additional_label",
        "served_message",
        *SNAPSHOT,
    ),
    RunCLDep: ("run_cl_id", "depends_on_id", "kind", "position"),
    RunEvent: ("run_id", "time", "actor", "kind", "from_status", "to_status", "detail"),
    VerifiedCQDRun: ("run_id", "action", "final_message", "update_time", *ATTEMPT),
    FinishedCQDRun: ("run_id", "reported_id", "update_time", *ATTEMPT),
    Tryjob: (
        "id",
        "external_id",
        "status",
        "reuse_key",
        "launched_by_id",
        "untriggered_reason",
        "eversion",
        "create_time",
        "update_time",
        *DEFINITION,
        *RESULT,
    ),
    TryjobCLPatchset: ("tryjob_id", "cl_id", "patchset"),
    ExecutionState: (
        "run_id",
        "has_requirement",
        "requirement_version",
        "retry_single_quota",
        "retry_global_quota",
        "retry_failure_weight",
        "retry_transient_failure_weight",
        "retry_timeout_weight",
        "status",
        "has_failures",
        "end_time",
        "eversion",
        "update_time",
    ),
    Execution: ("id", "state_id", "position", "used_quota", *DEFINITION),
    ExecutionAttempt: (
        "execution_id",
        "position",
        "tryjob_id",
        "external_id",
        "status",
        "reused",
        *RESULT,
    ),
    UnsuccessfulResult: ("state_id", "position", "tryjob_id"),
    ExecutionLogEntry: ("run_id", "state_version", "time", "kind", "detail"),
    ApiCall: ("time", "token_id", "caller", "method", "code", "duration_ms"),
    GerritPost: (
        "run_id",
        "project",
        "cl_id",
        "purpose",
        "message_digest",
        "message",
        "revision",
        "notify",
        "notify_accounts",
        "created_at",
        "posted_at",
        "attempts",
        "last_error",
    ),
}
# Referenced tables first: foreign keys are checked as rows arrive on SQLite.
TABLE_ORDER = list(COLUMNS)


# Writing ---------------------------------------------------------------------------------------


class BulkWriter:
    """Inserts row tuples into a model's table: COPY on PostgreSQL, executemany elsewhere; and
    hands out IDs of a table's sequence to rows that others reference."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self._next_id: dict[type[models.Model], int] = {}
        self._column_types: dict[type[models.Model], dict[str, int]] = {}
        self._json_texts: dict[tuple, str] = {}

    def insert(self, model: type[models.Model], columns: tuple[str, ...], rows: list) -> None:
        if not rows:
            return
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        names = ", ".join(quote(c) for c in columns)
        with connection.cursor() as cursor:
            if self.postgres:
                # Binary: the server parses no text (timestamps, bytea in hex) row by row.
                types = self.column_types(cursor, model)
                set_json_dumps(self.json_text, context=cursor)
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types([types[c] for c in columns])
                    for row in rows:
                        copy.write_row(row)
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({placeholders})",
                    [[_sqlite_value(v) for v in row] for row in rows],
                )

    def json_text(self, value) -> str:
        """json.dumps for COPY: the JSON columns hold lists of strings with few distinct values
        (an empty list, a CL's files), each serialized once."""
        if not isinstance(value, list):
            return json.dumps(value)
        key = tuple(value)
        text = self._json_texts.get(key)
        if text is None:
            text = self._json_texts[key] = json.dumps(value)
        return text

    def column_types(self, cursor, model: type[models.Model]) -> dict[str, int]:
        """The type OIDs of the table's columns, by name: binary COPY needs them."""
        if model not in self._column_types:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [connection.ops.quote_name(model._meta.db_table)],
            )
            self._column_types[model] = dict(cursor.fetchall())
        return self._column_types[model]

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        """`count` IDs no other row of `model` has or will get from the database."""
        if count == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                # nextval hands each ID out once, to this process or any other.
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [connection.ops.quote_name(table), count],
                )
                return [row[0] for row in cursor.fetchall()]
        # SQLite has one writer at a time: IDs above the highest are free while this one writes.
        if model not in self._next_id:
            highest = model.objects.aggregate(highest=Max("id"))["highest"] or 0
            self._next_id[model] = highest + 1
        first = self._next_id[model]
        self._next_id[model] = first + count
        return list(range(first, first + count))


class IdPool:
    """IDs of one table, reserved a block at a time."""

    def __init__(self, writer: BulkWriter, model: type[models.Model], block: int = 10_000):
        self.writer, self.model, self.block = writer, model, block
        self._free: list[int] = []

    def take(self) -> int:
        if not self._free:
            self._free = self.writer.reserve_ids(self.model, self.block)[::-1]
        return self._free.pop()


# The world the runs happen in ------------------------------------------------------------------


@dataclass
class Project:
    name: str
    verifier: str
    host: str
    repos: list[str]
    builders: list[str]
    next_change: int
    token_id: int | None = None
    # CLs with a run lately, that a next run may take again (a dry run, then a full run).
    recent_cls: list[SeededCL] = field(default_factory=list)


@dataclass
class SeededCL:
    id: int
    project: Project
    change: int
    repo: str
    patchset: int
    min_equivalent_patchset: int
    owner: int
    revision: str
    info: bytes
    files: list[str]
    created: datetime


@dataclass
class Batch:
    rows: dict[type[models.Model], list] = field(default_factory=lambda: defaultdict(list))
    active_runs: int = 0

    def add(self, model: type[models.Model], row: tuple) -> None:
        self.rows[model].append(row)


@dataclass
class SeedTally:
    """The dashboards' rollups of the rows seeded, counted as they are built."""

    runs: run_rollups.RunTally = field(default_factory=run_rollups.RunTally)
    tryjobs: tryjob_rollups.TryjobTally = field(default_factory=tryjob_rollups.TryjobTally)


@dataclass
class SeedSummary:
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    active_runs: int = 0
    seconds: float = 0.0


class Seeder:
    def __init__(self, plan: ScalePlan, writer: BulkWriter):
        self.plan = plan
        self.writer = writer
        self.rng = random.Random(plan.seed)
        self.start = plan.now - timedelta(days=plan.days)
        self.cl_ids = IdPool(writer, CL)
        self.run_cl_ids = IdPool(writer, RunCL)
        self.tryjob_ids = IdPool(writer, Tryjob)
        self.execution_ids = IdPool(writer, Execution)
        self.salt = Run.objects.count()  # runs already stored: keys never repeat theirs
        # Into tables without the rows the rollups count, the seeder counts them as it writes
        # them (as a rebuild would count them after, without reading them back).
        counted = (Run, Tryjob, GerritPost)
        fresh = not any(model.objects.exists() for model in counted)
        self.tally = SeedTally() if fresh else None
        self.projects = [
            self.make_project(index, name)
            for index, name in enumerate(project_names(plan.projects))
        ]
        ProjectRow.note([project.name for project in self.projects])  # the admin's filter
        self.pending_cls: list[SeededCL] = []  # new CLs of the batch being built
        weights = [1 / (i + 1) for i in range(len(self.projects))]
        self.project_weights = list(_cumulative(weights))
        # Runs still active at the window's end, for the CQDaemon snapshots written last.
        self.active: dict[str, list[tuple[str, dict]]] = defaultdict(list)

    def make_project(self, index: int, name: str) -> Project:
        """Every fourth project from the second on is verified by cvsite (unless a row says
        otherwise already), the others by CQDaemon."""
        verifier = ProjectVerifier.of(name)
        if not ProjectVerifier.objects.filter(project=name).exists() and index % 4 == 1:
            ProjectVerifier.objects.create(
                project=name, verifier=Verifier.CVSITE, changed_at=self.start, changed_by=ACTOR
            )
            verifier = Verifier.CVSITE
        host = f"{name}-review.googlesource.com"
        highest = CL.objects.filter(host=host).aggregate(highest=Max("change"))["highest"] or 0
        oses = ["linux", "mac", "win", "android", "ios", "fuchsia"]
        kinds = ["rel", "dbg", "asan", "compile"]
        builders = [f"{os}-{kind}" for os in oses for kind in kinds][:BUILDERS_PER_PROJECT]
        project = Project(
            name=name,
            verifier=verifier,
            host=host,
            repos=[f"{name}/src", f"{name}/tools", f"{name}/infra/config"],
            builders=builders,
            next_change=max(highest + 1, 100_000),
        )
        if verifier == Verifier.CQDAEMON:
            project.token_id = self.cqdaemon_token(name)
        return project

    @staticmethod
    def cqdaemon_token(project: str) -> int:
        name = f"cqdaemon-{project}"
        existing = ApiToken.objects.active().filter(name=name).values_list("id", flat=True)
        if existing:
            return existing[0]
        row, _ = ApiToken.issue(name, [project])  # the token itself is never shown
        return row.id

    def pick_project(self) -> Project:
        return self.projects[bisect_right(self.project_weights, self.rng.random())]

    # Runs ----------------------------------------------------------------------------------

    def create_times(self) -> list[datetime]:
        span = (self.plan.now - self.start).total_seconds()
        offsets = sorted(self.rng.random() * span for _ in range(self.plan.runs))
        return [self.start + timedelta(seconds=round(s, 3)) for s in offsets]

    def add_run(self, batch: Batch, number: int, created: datetime) -> bool:
        """Adds one run and every row about it; True if it is still active."""
        rng = self.rng
        project = self.pick_project()
        key = hashlib.blake2b(
            f"{self.plan.seed}/{self.salt}/{number}".encode(), digest_size=8
        ).hexdigest()
        run_id = str(RunID.new(project.name, created, key))
        mode = RUN_MODES.pick(rng)
        outcome = RUN_OUTCOMES.pick(rng)
        started = created + timedelta(seconds=rng.uniform(2, 40))
        minutes = (
            rng.uniform(1, 30)
            if outcome == RunStatus.CANCELLED
            else rng.lognormvariate(math.log(12 if mode == RunMode.QUICK_DRY_RUN else 40), 0.5)
        )
        ended = started + timedelta(minutes=minutes)
        now = self.plan.now
        if ended <= now:
            status = outcome
        elif (now - created).total_seconds() < 30:
            status = RunStatus.PENDING
        else:
            status = ACTIVE_STATUSES.pick(rng)
        if status in (RunStatus.WAITING_FOR_SUBMISSION, RunStatus.SUBMITTING):
            mode = RunMode.FULL_RUN.value
        is_ended = status in RunStatus.ended()
        if not is_ended:
            ended = None
        if status == RunStatus.PENDING:
            started = None

        # When the verification ended: at the run's end, or for a run submitting now, a while
        # after it started.
        decided = ended
        if status in (RunStatus.WAITING_FOR_SUBMISSION, RunStatus.SUBMITTING):
            decided = max(started, min(started + timedelta(minutes=20), now - timedelta(seconds=5)))

        cls = self.run_cls_for(project, created)
        owner = cls[0].owner
        owner_email = _email(project, owner)
        cqdaemon = project.verifier == Verifier.CQDAEMON
        finalized_by_cqd = cqdaemon and is_ended and rng.random() < 0.1
        verdict = None
        if cqdaemon and not finalized_by_cqd and decided is not None:
            verdict = _verdict(status, mode)
        verified_at = decided - timedelta(seconds=1) if verdict is not None else None

        events = self.add_run_events(
            batch,
            run_id,
            project,
            status,
            created,
            started,
            decided,
            verified_at,
            verdict,
            finalized_by_cqd,
        )
        last_change = max(t for t in (created, started, decided) if t is not None)
        batch.add(
            Run,
            (
                run_id,
                project.name,
                int(status),
                mode,
                key,
                owner_email,
                "main" if cls[0].repo.endswith("/src") else "tools",
                created,
                started,
                last_change,
                ended,
                finalized_by_cqd,
                _end_reason(status, finalized_by_cqd),
                events,
            ),
        )
        run_cls, triggered = self.add_run_cls(batch, run_id, cls, created, mode, owner)
        attempt = None
        if cqdaemon and (verdict is not None or finalized_by_cqd or status == RunStatus.RUNNING):
            attempt = self.attempt(project, key, cls, created, started, ended, status, mode)
        if verdict is not None:
            self.add_verified_cqd_run(batch, run_id, verdict, attempt, verified_at)
        if finalized_by_cqd:
            self.add_finished_cqd_run(batch, run_id, attempt, ended)
        if not cqdaemon and started is not None:
            self.add_execution(batch, run_id, project, run_cls, triggered, status, started, decided)
        if status == RunStatus.RUNNING and attempt is not None:
            self.active[project.name].append((run_id, attempt))
        if is_ended:
            self.add_gerrit_posts(batch, run_id, key, cls, cqdaemon, status, ended)
            if self.tally is not None:
                self.tally.runs.run_ended(
                    run_id,
                    project.name,
                    mode,
                    int(status),
                    created,
                    started,
                    ended,
                    None if verdict is None else verdict[0],
                    attempt["attempt_status"] if finalized_by_cqd else None,
                )
        return not is_ended

    def add_gerrit_posts(
        self,
        batch: Batch,
        run_id: str,
        key: str,
        cls: list[SeededCL],
        cqdaemon: bool,
        status: int,
        ended: datetime,
    ) -> None:
        """The result message on each CL of an ended run: posted seconds later, except for
        runs that just ended (the backlog) and about 1 in 200 posts Gerrit keeps refusing.
        Drawn from the attempt key, not the seeder's generator, so the other rows stay as
        they were."""
        draw = int(key[:8], 16) / 16**8
        purpose = (
            GerritPostPurpose.CQD_MESSAGE if cqdaemon else GerritPostPurpose.VERIFICATION_RESULT
        )
        message = f"This CQ run {RunStatus(status).name.lower()}: {run_id}"
        digest = hashlib.sha256(f"{purpose}\n{message}".encode()).hexdigest()
        failing = draw < 0.005
        waiting = failing or (self.plan.now - ended).total_seconds() < 60
        error = f"HTTP {502 + int(draw * 400) % 3} from Gerrit: try again later" if failing else ""
        for cl in cls:
            if self.tally is not None:
                self.tally.runs.post(ended, cl.project.name, error)
            batch.add(
                GerritPost,
                (
                    run_id,
                    cl.project.name,
                    cl.id,
                    purpose,
                    digest,
                    message,
                    cl.revision,
                    "OWNER",
                    [],
                    ended,
                    None if waiting else ended + timedelta(seconds=2 + 10 * draw),
                    3 if failing else 1,
                    error,
                ),
            )

    def run_cls_for(self, project: Project, created: datetime) -> list[SeededCL]:
        """The CLs of a new run: often one a recent run had (a dry run before a full run, a
        retry), else new ones, a stack of up to four for some runs."""
        rng = self.rng
        recent = project.recent_cls
        if recent and rng.random() < 0.55:
            return [recent[rng.randrange(len(recent))]]
        count = STACK_SIZES.pick(rng)
        owner = rng.randrange(OWNERS_PER_PROJECT)
        repo = project.repos[0 if rng.random() < 0.8 else rng.randrange(1, len(project.repos))]
        cls = [self.new_cl(project, repo, owner, created) for _ in range(count)]
        recent.extend(cls)
        if len(recent) > 400:
            del recent[:200]
        return cls

    def new_cl(self, project: Project, repo: str, owner: int, created: datetime) -> SeededCL:
        rng = self.rng
        change = project.next_change
        project.next_change += rng.randint(1, 4)  # other projects' changes share the host
        patchset = PATCHSETS.pick(rng)
        uploaded = created - timedelta(minutes=rng.uniform(5, 600))
        revision = hashlib.sha1(f"{project.host}/{change}/{patchset}".encode()).hexdigest()
        account = gerrit_pb2.AccountInfo(
            name=f"Developer {owner}", email=_email(project, owner), account_id=_account(owner)
        )
        info = gerrit_pb2.ChangeInfo(
            number=change,
            owner=account,
            project=repo,
            ref="refs/heads/main",
            status=gerrit_pb2.NEW,
            current_revision=revision,
            created=to_timestamp(uploaded),
            updated=to_timestamp(created),
        )
        info.revisions[revision].number = patchset
        info.revisions[revision].ref = f"refs/changes/{change % 100:02d}/{change}/{patchset}"
        directory = f"{repo.rsplit('/', 1)[-1]}/module_{change % 37}"
        files = [f"{directory}/file_{n}.cc" for n in range(1 + change % 3)]
        cl = SeededCL(
            id=self.cl_ids.take(),
            project=project,
            change=change,
            repo=repo,
            patchset=patchset,
            min_equivalent_patchset=max(1, patchset - rng.randrange(2)),
            owner=owner,
            revision=revision,
            info=info.SerializeToString(deterministic=True),
            files=files,
            created=created,
        )
        self.pending_cls.append(cl)
        return cl

    # One function per table ----------------------------------------------------------------

    def add_cls(self, batch: Batch) -> None:
        for cl in self.pending_cls:
            batch.add(
                CL,
                (
                    cl.id,
                    cl.project.host,
                    cl.change,
                    cl.project.name,
                    cl.created,
                    *_snapshot(cl),
                ),
            )
        self.pending_cls = []

    def add_run_cls(
        self,
        batch: Batch,
        run_id: str,
        cls: list[SeededCL],
        created: datetime,
        mode: str,
        owner: int,
    ) -> tuple[list[tuple[int, SeededCL]], datetime]:
        """The run's CLs as (run CL ID, CL), and when they were triggered."""
        triggered = created - timedelta(seconds=self.rng.uniform(0.5, 5))
        trigger_mode = mode
        email = _email(cls[0].project, owner)
        rows = []
        for position, cl in enumerate(cls):
            run_cl_id = self.run_cl_ids.take()
            # A stack: each CL depends on the one below it (its git parent).
            deps = [(cls[position - 1].id, DepKind.HARD)] if position else []
            view = RunCLView(
                cl.id,
                cl.project.host,
                cl.change,
                cl.repo,
                cl.patchset,
                cl.min_equivalent_patchset,
                triggered,
                trigger_mode,
                _account(owner),
                email,
                cl.info,
                cl.files,
            )
            batch.add(
                RunCL,
                (
                    run_cl_id,
                    run_id,
                    cl.id,
                    position,
                    triggered,
                    trigger_mode,
                    _account(owner),
                    email,
                    "",
                    served_run_cl(view, deps),
                    *_snapshot(cl),
                ),
            )
            for dep_position, (depends_on, kind) in enumerate(deps):
                batch.add(RunCLDep, (run_cl_id, depends_on, int(kind), dep_position))
            rows.append((run_cl_id, cl))
        return rows, triggered

    def add_run_events(
        self,
        batch: Batch,
        run_id: str,
        project: Project,
        status: int,
        created: datetime,
        started: datetime | None,
        decided: datetime | None,
        verified_at: datetime | None,
        verdict: tuple[int, str] | None,
        finalized_by_cqd: bool,
    ) -> int:
        """The run's events; returns how many (the run's eversion)."""
        events = [(created, "runs:create", RunEventKind.CREATED, None, RunStatus.PENDING, "")]
        if started is not None:
            events.append(
                (
                    started,
                    "runs:start",
                    RunEventKind.STATUS_CHANGED,
                    RunStatus.PENDING,
                    RunStatus.RUNNING,
                    "",
                )
            )
        cqd = f"api:cqdaemon-{project.name}"
        if verdict is not None:
            name = VerifyAction(verdict[0]).name
            events.append((verified_at, cqd, RunEventKind.CQD_VERIFIED, None, None, name))
        if finalized_by_cqd:
            events.append((decided, cqd, RunEventKind.CQD_FINISHED, None, None, ""))
        if decided is not None:
            actor = cqd if finalized_by_cqd else "task:finish_verified_run"
            from_status = RunStatus.RUNNING if started else RunStatus.PENDING
            events.append((decided, actor, RunEventKind.STATUS_CHANGED, from_status, status, ""))
        for at, actor, kind, from_status, to_status, detail in events:
            batch.add(
                RunEvent,
                (
                    run_id,
                    at,
                    actor,
                    kind,
                    None if from_status is None else int(from_status),
                    None if to_status is None else int(to_status),
                    detail,
                ),
            )
        return len(events)

    def attempt(
        self,
        project: Project,
        key: str,
        cls: list[SeededCL],
        created: datetime,
        started: datetime | None,
        ended: datetime | None,
        status: int,
        mode: str,
    ) -> dict:
        """The CQDaemon attempt of a run, as the columns of the rows that keep one."""
        attempt = bq_pb.Attempt(
            key=key,
            luci_project=project.name,
            config_group="main",
            start_time=to_timestamp(started or created),
            status=_ATTEMPT_STATUS.get(status, AttemptStatus.STARTED),
        )
        if ended is not None:
            attempt.end_time.CopyFrom(to_timestamp(ended))
        bq_mode = mode_to_bigquery(mode)
        for cl in cls:
            attempt.gerrit_changes.add(
                host=cl.project.host,
                project=cl.repo,
                change=cl.change,
                patchset=cl.patchset,
                earliest_equivalent_patchset=cl.min_equivalent_patchset,
                trigger_time=to_timestamp(created),
                mode=bq_mode,
            )
        return attempt_columns(attempt)

    def add_verified_cqd_run(
        self, batch: Batch, run_id: str, verdict: tuple[int, str], attempt: dict, at: datetime
    ) -> None:
        action, message = verdict
        batch.add(VerifiedCQDRun, (run_id, action, message, at, *(attempt[c] for c in ATTEMPT)))

    def add_finished_cqd_run(
        self, batch: Batch, run_id: str, attempt: dict, ended: datetime
    ) -> None:
        batch.add(FinishedCQDRun, (run_id, run_id, ended, *(attempt[c] for c in ATTEMPT)))

    def add_execution(
        self,
        batch: Batch,
        run_id: str,
        project: Project,
        run_cls: list[tuple[int, SeededCL]],
        triggered: datetime,
        status: int,
        started: datetime,
        decided: datetime | None,
    ) -> None:
        """cvsite's executor verified the run: tryjobs of a few builders (a flaky one retried),
        the execution state with its executions and attempts, the execution log. `decided`:
        when the verification ended, if it did."""
        rng = self.rng
        builders = rng.sample(range(len(project.builders)), DEFINITIONS_PER_RUN)
        # The builder that failed the run, if it failed.
        failing = rng.randrange(DEFINITIONS_PER_RUN) if status == RunStatus.FAILED else None
        # Tryjobs happen between the start and the decision (or now, for a run going on).
        horizon = decided or self.plan.now
        launched = started + min(timedelta(seconds=rng.uniform(5, 60)), (horizon - started) / 4)
        reuse_key = hashlib.blake2b(
            ",".join(f"{cl.id}/{cl.min_equivalent_patchset}" for _, cl in run_cls).encode(),
            digest_size=16,
        ).hexdigest()
        state_ended = {
            RunStatus.SUCCEEDED: ExecutionStatus.SUCCEEDED,
            RunStatus.WAITING_FOR_SUBMISSION: ExecutionStatus.SUCCEEDED,
            RunStatus.SUBMITTING: ExecutionStatus.SUCCEEDED,
            RunStatus.FAILED: ExecutionStatus.FAILED,
        }
        state_status = state_ended.get(status, ExecutionStatus.RUNNING)
        state_end = None
        if state_status != ExecutionStatus.RUNNING:
            state_end = decided - timedelta(seconds=2)
        launched_snapshots, ended_snapshots = [], []
        unsuccessful = []
        tryjobs = []  # TRYJOB_FIELDS of each, for the rollups
        quota_spent = 0
        for position, builder_index in enumerate(builders):
            builder = project.builders[builder_index]
            definition = (BUILDBUCKET_HOST, project.name, "try", builder, "", "", "", "")
            definition += (False, False, True, False, 0, [], [], None)
            execution_id = self.execution_ids.take()
            outcomes = self.tryjob_outcomes(status, position == failing, builder_index)
            used_quota = 0
            slot = (horizon - launched) / len(outcomes)
            for attempt_position, outcome in enumerate(outcomes):
                tryjob_id = self.tryjob_ids.take()
                created = launched + slot * attempt_position
                tryjob_status, result = _tryjob_result(
                    outcome, project.name, builder, tryjob_id, created, created + slot * 0.9
                )
                external_id = f"buildbucket/{BUILDBUCKET_HOST}/{BUILD_ID_BASE + tryjob_id}"
                tryjobs.append(
                    (
                        tryjob_id,
                        int(tryjob_status),
                        result[0],
                        created,
                        run_id,
                        project.name,
                        "try",
                        builder,
                    )
                )
                update = result[2] or (horizon if outcome == "cancelled" else created)
                batch.add(
                    Tryjob,
                    (
                        tryjob_id,
                        external_id,
                        int(tryjob_status),
                        reuse_key,
                        run_id,
                        "",
                        2 if result[0] is not None else 1,
                        created,
                        update,
                        *definition,
                        *result,
                    ),
                )
                for _, cl in run_cls:
                    batch.add(TryjobCLPatchset, (tryjob_id, cl.id, cl.patchset))
                batch.add(
                    ExecutionAttempt,
                    (
                        execution_id,
                        attempt_position,
                        tryjob_id,
                        external_id,
                        int(tryjob_status),
                        False,
                        *result,
                    ),
                )
                snapshot = tryjob_pb.ExecutionLogEntry.TryjobSnapshot(
                    id=tryjob_id, external_id=external_id, status=int(tryjob_status)
                )
                launched_snapshots.append(snapshot)
                if tryjob_status == TryjobStatus.ENDED:
                    ended_snapshots.append(snapshot)
                    if result[0] != ResultStatus.SUCCEEDED:
                        unsuccessful.append(tryjob_id)
                        if attempt_position + 1 < len(outcomes):
                            used_quota += RETRY_CONFIG[3]
            batch.add(Execution, (execution_id, run_id, position, used_quota, *definition))
            quota_spent += used_quota
        for position, tryjob_id in enumerate(unsuccessful if status == RunStatus.FAILED else []):
            batch.add(UnsuccessfulResult, (run_id, position, tryjob_id))
        log = [
            (started, LogKind.REQUIREMENT_CHANGED, b""),
            (
                launched,
                LogKind.TRYJOBS_LAUNCHED,
                tryjob_pb.ExecutionLogEntry.TryjobsLaunched(
                    tryjobs=launched_snapshots
                ).SerializeToString(deterministic=True),
            ),
        ]
        if ended_snapshots:
            log.append(
                (
                    state_end or horizon,
                    LogKind.TRYJOBS_ENDED,
                    tryjob_pb.ExecutionLogEntry.TryjobsEnded(
                        tryjobs=ended_snapshots
                    ).SerializeToString(deterministic=True),
                )
            )
        for version, (at, kind, detail) in enumerate(log, start=1):
            batch.add(ExecutionLogEntry, (run_id, version, at, kind, detail))
        batch.add(
            ExecutionState,
            (
                run_id,
                True,
                1,
                *RETRY_CONFIG,
                int(state_status),
                state_status == ExecutionStatus.FAILED,
                state_end,
                len(log),
                state_end or launched,
            ),
        )
        if self.tally is not None:
            self.tally.tryjobs.run_tryjobs(tryjobs)
            if state_end is not None:
                self.tally.tryjobs.execution_ended(
                    state_end,
                    project.name,
                    len(tryjobs),
                    0,
                    quota_spent,
                    RETRY_CONFIG[1],
                    (min(row[3] for row in tryjobs) - triggered).total_seconds(),
                )

    def tryjob_outcomes(self, run_status: int, fails_run: bool, builder: int) -> list[str]:
        """What the tryjobs of one definition did, in order: "ok", "failed", "transient"
        (retried), "running" or "cancelled"."""
        if run_status == RunStatus.CANCELLED:
            return ["cancelled"]
        if run_status in (RunStatus.RUNNING, RunStatus.PENDING):
            return ["running" if self.rng.random() < 0.6 else "ok"]
        if fails_run:
            return ["failed"]
        # Every fifth builder is flaky: it fails, then succeeds on retry.
        flake = 0.15 if builder % 5 == 0 else 0.02
        return ["transient", "ok"] if self.rng.random() < flake else ["ok"]

    def add_api_calls(self, batch: Batch, count: int) -> None:
        rng = self.rng
        span = (self.plan.now - self.start).total_seconds()
        callers = [p for p in self.projects if p.token_id is not None]
        if not callers:
            return
        for _ in range(count):
            project = callers[rng.randrange(len(callers))]
            batch.add(
                ApiCall,
                (
                    self.start + timedelta(seconds=rng.random() * span),
                    project.token_id,
                    f"cqdaemon-{project.name}",
                    API_METHODS.pick(rng),
                    API_CODES.pick(rng),
                    round(rng.lognormvariate(math.log(25), 0.8), 3),
                ),
            )

    def write_reported_runs(self) -> int:
        """Each CQDaemon project's latest ReportRuns snapshot: its runs still running. A
        project with a snapshot already keeps it."""
        written = 0
        for project in self.projects:
            if project.verifier != Verifier.CQDAEMON:
                continue
            snapshot, created = ReportedRunsSnapshot.objects.get_or_create(
                project=project.name,
                defaults={
                    "reported_at": self.plan.now,
                    "reported_by": f"api:cqdaemon-{project.name}",
                },
            )
            if not created:
                continue
            rows = [
                ReportedRun(
                    snapshot=snapshot, position=i, reported_id=run_id, run_id=run_id, **attempt
                )
                for i, (run_id, attempt) in enumerate(self.active[project.name])
            ]
            ReportedRun.objects.bulk_create(rows, batch_size=1000)
            written += len(rows)
        return written

    # The whole -----------------------------------------------------------------------------

    def batches(self) -> Iterator[tuple[int, Batch]]:
        """(runs so far, the batch of rows about the last ones), batch by batch."""
        plan = self.plan
        api_calls = 2 * plan.runs if plan.api_calls is None else plan.api_calls
        times = self.create_times()
        for first in range(0, plan.runs, plan.batch_size):
            batch = Batch()
            last = min(first + plan.batch_size, plan.runs)
            for number in range(first, last):
                batch.active_runs += self.add_run(batch, number, times[number])
                # Hands the interpreter to the writer thread if it waits for it: else a socket
                # write that returns waits out the interpreter's switch interval (5 ms) each.
                time.sleep(0)
            self.add_cls(batch)
            calls = api_calls * last // plan.runs - api_calls * first // plan.runs
            self.add_api_calls(batch, calls)
            yield last, batch
        if plan.runs == 0 and api_calls:
            batch = Batch()
            self.add_api_calls(batch, api_calls)
            yield 0, batch

    def seed(self, progress: Callable[[int, int], None] | None = None) -> SeedSummary:
        summary = SeedSummary()
        batches = self.batches()
        if self.writer.postgres:
            # The next batch is built (Python) while the server stores this one.
            batches = ahead_in_thread(batches)
        for done, batch in batches:
            self.write(batch, summary)
            summary.active_runs += batch.active_runs
            if progress:
                progress(done, self.plan.runs)
        with transaction.atomic():
            summary.rows[ReportedRun._meta.label] += self.write_reported_runs()
        return summary

    def write(self, batch: Batch, summary: SeedSummary) -> None:
        with transaction.atomic():
            for model in TABLE_ORDER:
                rows = batch.rows.get(model, [])
                self.writer.insert(model, COLUMNS[model], rows)
                summary.rows[model._meta.label] += len(rows)


def seed_scale(plan: ScalePlan, progress: Callable[[int, int], None] | None = None) -> SeedSummary:
    """Appends `plan.runs` runs and everything about them; see the module's docstring."""
    writer = BulkWriter()
    seeder = Seeder(plan, writer)
    stored_runs = seeder.salt
    large = writer.postgres and plan.runs >= max(LARGE_SEED, stored_runs)
    with without_secondary_indexes(TABLE_ORDER) if large else nullcontext():
        summary = seeder.seed(progress)
    if writer.postgres:
        # The queries that follow a seed (a rebuild below, the benchmarks) need statistics.
        analyze(TABLE_ORDER)
    # The actions keep the dashboards' rollups; rows written in bulk bypass them: the window
    # the rows were seeded in gets the rollups a rebuild gives (older rows keep theirs).
    since = plan.now - timedelta(days=plan.days)
    if seeder.tally is not None:
        day = run_rollups.period_start(since, RollupPeriod.DAY)
        written = run_rollups.replace(day, seeder.tally.runs)
        written |= tryjob_rollups.replace(day, seeder.tally.tryjobs.counts)
    else:
        written = run_rollups.rebuild(since) | tryjob_rollups.rebuild(since)
    for label, count in written.items():
        summary.rows[label] += count
    return summary


# A PostgreSQL seed of this many runs or more (and at least as many as are stored) is written
# with its tables' secondary indexes and foreign keys dropped, and adds them again after: one
# sort per index instead of a million scattered insertions into each, one join per foreign key
# instead of a check per row.
LARGE_SEED = 100_000
# For building those indexes again (PostgreSQL's default is 64 MB).
INDEX_BUILD_MEMORY = "256MB"


@contextmanager
def without_secondary_indexes(seeded: list[type[models.Model]]) -> Iterator[None]:
    """Drops the foreign keys of the models' tables and their indexes that are neither unique
    nor behind a constraint (PostgreSQL), and adds them again from their definitions however
    the block ends: each foreign key then checks every row of its table at once."""
    tables = [connection.ops.quote_name(model._meta.db_table) for model in seeded]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT ix.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class ix ON ix.oid = i.indexrelid "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique "
            "AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
            "ORDER BY i.indrelid, ix.relname",
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
            "ORDER BY conrelid, conname",
            [tables],
        )
        foreign_keys = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        for table, name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        with transaction.atomic(), connection.cursor() as cursor:
            # A table with foreign key checks still deferred (a seed inside the caller's
            # transaction) cannot be indexed: they are made now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "SELECT set_config('maintenance_work_mem', %s, true)", [INDEX_BUILD_MEMORY]
            )
            for _, definition in indexes:
                cursor.execute(definition)
        # Apart: rows a foreign key refuses (a bug) leave the indexes built.
        with transaction.atomic(), connection.cursor() as cursor:
            for table, name, definition in foreign_keys:
                cursor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT "
                    f"{connection.ops.quote_name(name)} {definition}"
                )


def analyze(seeded: list[type[models.Model]]) -> None:
    with connection.cursor() as cursor:
        for model in seeded:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def ahead_in_thread(items: Iterator[T]) -> Iterator[T]:
    """Yields what `items` yields, computing each next item in a thread meanwhile. The thread
    uses its own database connection (only to reserve IDs from sequences, which need no
    transaction) and closes it when done; it stops when the consumer stops."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    done = object()

    def offer(entry) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((item, None)):
                    return
            offer((done, None))
        except BaseException as e:  # handed to the consumer, raised there
            offer((done, e))
        finally:
            connection.close()

    thread = threading.Thread(target=produce, name="seed_scale batches", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        thread.join()


# Small helpers ---------------------------------------------------------------------------------

_ATTEMPT_STATUS = {
    RunStatus.SUCCEEDED: AttemptStatus.SUCCESS,
    RunStatus.FAILED: AttemptStatus.FAILURE,
    RunStatus.CANCELLED: AttemptStatus.ABORTED,
}


def _sqlite_value(value):
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, list):  # a JSON column
        return json.dumps(value)
    return value


def _cumulative(weights: list[float]):
    total = sum(weights)
    running = 0.0
    for w in weights[:-1]:
        running += w
        yield running / total


def _account(owner: int) -> int:
    return 1_000_000 + owner


def _email(project: Project, owner: int) -> str:
    return f"dev{owner}@{project.name}.example.com"


def _snapshot(cl: SeededCL) -> tuple:
    return (
        cl.patchset,
        cl.min_equivalent_patchset,
        cl.created,
        cl.repo,
        "refs/heads/main",
        _email(cl.project, cl.owner),
        cl.revision,
        gerrit_pb2.NEW,
        cl.info,
        cl.files,
    )


def _verdict(status: int, mode: str) -> tuple[int, str] | None:
    """CQDaemon's verdict on a run cvsite then ended (or is submitting): (action, message)."""
    if status == RunStatus.FAILED:
        return VerifyAction.FAIL, "Failed builds: see the tryjobs of this run."
    if status in (RunStatus.SUCCEEDED, RunStatus.WAITING_FOR_SUBMISSION, RunStatus.SUBMITTING):
        if mode == RunMode.FULL_RUN:
            return VerifyAction.SUBMIT, ""
        return VerifyAction.DRY_RUN_OK, "Dry run: this CL passed the CQ dry run."
    return None


def _end_reason(status: int, finalized_by_cqd: bool) -> str:
    if status == RunStatus.CANCELLED:
        return "the Commit-Queue vote was removed"
    if finalized_by_cqd:
        return "CQDaemon finalized the run"
    if status == RunStatus.FAILED:
        return "tryjobs failed"
    return ""


def _tryjob_result(
    outcome: str, project: str, builder: str, tryjob_id: int, created: datetime, finished: datetime
) -> tuple[TryjobStatus, tuple]:
    """The tryjob's status and RESULT columns for an outcome."""
    no_result = (None, None, None, None, None, 0, None, None, None, "", None)
    if outcome == "running":
        return TryjobStatus.TRIGGERED, no_result
    if outcome == "cancelled":
        return TryjobStatus.CANCELLED, no_result
    result_status, build_status, summary = {
        "ok": (ResultStatus.SUCCEEDED, BuildStatus.SUCCESS, ""),
        "failed": (ResultStatus.FAILED_PERMANENTLY, BuildStatus.FAILURE, "Compile failure"),
        "transient": (
            ResultStatus.FAILED_TRANSIENTLY,
            BuildStatus.INFRA_FAILURE,
            "Infra failure: bot died",
        ),
    }[outcome]
    return TryjobStatus.ENDED, (
        int(result_status),
        created,
        finished,
        None,
        BUILD_ID_BASE + tryjob_id,
        int(build_status),
        project,
        "try",
        builder,
        summary,
        None,
    )
