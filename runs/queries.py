"""Read-side queries over runs, each in a constant number of database queries."""

from collections import defaultdict
from typing import NamedTuple

from django.db.models import Exists, F, Lookup, OuterRef

from runs.models import (
    CL,
    ProjectVerifier,
    Run,
    RunCL,
    RunCLDep,
    RunStatus,
    VerifiedCQDRun,
    Verifier,
)
from runs.serializers import CL_VIEW_COLUMNS

CLView = NamedTuple("CLView", [(name, object) for name in CL_VIEW_COLUMNS])


class CQDaemonRuns(NamedTuple):
    """Runs handed to CQDaemon, newest first, as plain values (no model instances)."""

    run_ids: list[str]
    cls: dict[str, list[bytes]]  # by run ID, in run order: RunCL.served_message
    fyi_deps: dict[str, list[int]]  # by run ID: CLIDs its CLs depend on outside it, ascending
    outside_cls: dict[int, CLView]  # the latter's latest snapshots, by CLID


# Keys (run IDs, run CL IDs) are passed to the database as lists of at most this many: for a
# literal list PostgreSQL knows how many rows to expect and reads them by index, where a join or
# subquery over the active runs may be estimated big enough to read a whole history table
# instead (every run CL ever stored); and SQLite takes at most 32,766 parameters a statement.
KEYS_PER_QUERY = 10_000


def in_chunks(keys: list) -> list[list]:
    return [keys[i : i + KEYS_PER_QUERY] for i in range(0, len(keys), KEYS_PER_QUERY)]


class AnyOf(Lookup):
    """`column = ANY(<array>)` on PostgreSQL, one parameter however many keys (an IN list of
    10,000 placeholders costs more to build and parse than the rows it finds); `IN (...)`
    elsewhere. Used as an expression: `filter(AnyOf(F("run_id"), keys))`.

    The keys (str or int) go as one string in PostgreSQL's array syntax, which the database
    reads as an array of the column's type: psycopg's adapter for a Python list would dump and
    quote them one by one in Python, costing more than the database's reading them.
    """

    lookup_name = "any_of"
    prepare_rhs = False  # the list is one value, not one of the column's

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        placeholders = ", ".join(["%s"] * len(self.rhs))
        return f"{lhs} IN ({placeholders})", (*lhs_params, *self.rhs)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, array_literal(self.rhs))


def array_literal(keys) -> str:
    """`keys` in PostgreSQL's array input syntax: ints as they are, strings double-quoted with
    backslashes and double quotes escaped (they can hold no NUL: no text column can)."""
    return "{" + ",".join(str(key) if isinstance(key, int) else _quoted(key) for key in keys) + "}"


def _quoted(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def with_verdict_flags(runs) -> list[tuple[str, bool]]:
    """(run ID, whether CQDaemon reported it verified) of each of `runs`.

    The flag is a subquery of the select list: PostgreSQL looks each run's verdict up by its
    key, and never turns it into a join that may read every verdict ever stored.
    """
    verdict = VerifiedCQDRun.objects.filter(run_id=OuterRef("id"))
    return list(runs.annotate(verified=Exists(verdict)).values_list("id", "verified"))


def runs_for_cqdaemon(project: str) -> CQDaemonRuns:
    """RUNNING runs of `project` that CQDaemon should verify, with their CLs and deps.

    Left out: runs CQDaemon already reported verified, runs cvsite intends to cancel, and
    every run of a project cvsite's own executor verifies. Each query reads rows of the active
    runs by key, so its cost follows the active runs, not the history: the project's RUNNING
    runs, which of them CQDaemon verified and whether CQDaemon verifies the project at all,
    their run CLs (as the bytes they are served as), the deps of those, and the CLs they
    depend on outside their run. Four queries however many runs (up to KEYS_PER_QUERY; one
    more per as many beyond).
    """
    # Whether CQDaemon verifies the project (ProjectVerifier.of) is a condition of the runs'
    # query, a round trip less: naming no column of the runs, it is checked once.
    verified_by_cvsite = ProjectVerifier.objects.filter(project=project).exclude(
        verifier=Verifier.CQDAEMON
    )
    run_ids = [
        run_id
        for run_id, verified in with_verdict_flags(
            Run.objects.filter(
                ~Exists(verified_by_cvsite),
                project=project,
                status=RunStatus.RUNNING,
                delay_cancel_until__isnull=True,
            ).order_by("id")
        )
        if not verified
    ]
    # Ordered here, not by the database: sorting every served message there costs more.
    positioned = defaultdict(list)
    run_of_run_cl = {}
    clids_of_run = defaultdict(set)
    for chunk in in_chunks(run_ids):
        for run_cl_id, run_id, clid, position, served in (
            RunCL.objects.filter(AnyOf(F("run_id"), chunk))
            .order_by()
            .values_list("id", "run_id", "cl_id", "position", "served_message")
        ):
            positioned[run_id].append((position, served))
            run_of_run_cl[run_cl_id] = run_id
            clids_of_run[run_id].add(clid)
    cls = {run_id: [served for _, served in sorted(rows)] for run_id, rows in positioned.items()}
    fyi_clids = defaultdict(set)  # two CLs of a run may depend on the same one
    for chunk in in_chunks(list(run_of_run_cl)):
        # Unordered: the deps' default order would join their run CLs and runs.
        for run_cl_id, clid in (
            RunCLDep.objects.filter(AnyOf(F("run_cl_id"), chunk))
            .order_by()
            .values_list("run_cl_id", "depends_on_id")
        ):
            run_id = run_of_run_cl[run_cl_id]
            if clid not in clids_of_run[run_id]:
                fyi_clids[run_id].add(clid)
    outside_cls = {
        snapshot[0]: CLView(*snapshot)
        for chunk in in_chunks(sorted(set().union(*fyi_clids.values())))
        for snapshot in CL.objects.filter(AnyOf(F("id"), chunk)).values_list(*CL_VIEW_COLUMNS)
    }
    fyi_deps = {run_id: sorted(clids) for run_id, clids in fyi_clids.items()}
    return CQDaemonRuns(run_ids, cls, fyi_deps, outside_cls)


def cls_excluded_from_cqdaemon(project: str) -> list[CL]:
    """CLs of the project's active runs CQDaemon already verified, by CLID.

    PENDING runs are not active here, as upstream: only RUNNING up to SUBMITTING. Read by key,
    like runs_for_cqdaemon: the project's active runs and which of them are verified, then
    the CLs of those.
    """
    active = Run.objects.filter(
        project=project,
        status__in=[RunStatus.RUNNING, RunStatus.WAITING_FOR_SUBMISSION, RunStatus.SUBMITTING],
    ).order_by()
    verified = [run_id for run_id, verified in with_verdict_flags(active) if verified]
    # The CLs by their IDs, not by a join: a join's estimate may tip it into reading all CLs.
    clids = sorted(
        {
            clid
            for chunk in in_chunks(verified)
            for clid in RunCL.objects.filter(AnyOf(F("run_id"), chunk))
            .order_by()
            .values_list("cl_id", flat=True)
        }
    )
    return [
        cl
        for chunk in in_chunks(clids)
        for cl in CL.objects.filter(AnyOf(F("id"), chunk))
        .order_by("id")
        .only("id", "host", "change")
    ]
