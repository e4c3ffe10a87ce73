"""A simulated CQDaemon drives a live cvsite loop by loop, as upstream's cqdfake does.

The simulator follows shared/reference/migration_behaviour.md §4 call for call, over HTTP
with the project's pRPC client:

- CV in charge: every loop FetchActiveRuns; a run seen for the first time gets a
  PostGerritMessage per CL (run_id empty: the server finds the run by attempt key); a run
  that vanished is asked about with FetchRunStatus until it is final, then reported with
  ReportVerifiedRun(ACTION_UNSPECIFIED); then ReportRuns with every current attempt. A verify
  callback decides each attempt's outcome, reported with ReportVerifiedRun (SUBMIT,
  DRY_RUN_OK or FAIL, with §4's final message).
- CQD in charge: candidates come from a callback (CQDaemon's own Gerrit polling), filtered by
  FetchExcludedCLs; CQDaemon posts on and submits to Gerrit itself, then ReportFinishedRun
  (run id empty).

Between loops the test runs cvsite's due tasks, as its worker would, and changes runs the way
cvsite's other parts would (a user cancels a run, a new run starts).
"""

import collections
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import unquote

import pytest
import requests
from django.db import transaction
from django.utils import timezone

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.migration import migration_pb2 as migration_pb
from gerrit.fake import account
from migration_api.models import ApiCall, ApiToken
from migration_api.tests.conftest import MigrationClient
from prpc.client import Client, RpcError
from prpc.codes import Code, code_name
from runs.lifecycle import lock_run, set_status
from runs.models import (
    FinishedCQDRun,
    GerritPost,
    ReportedRunsSnapshot,
    Run,
    RunEvent,
    RunEventKind,
    RunStatus,
    VerifiedCQDRun,
    VerifyAction,
)
from runs.posts import VERIFIED_OK_MESSAGE
from runs.tests.factories import make_run_of_changes

pytestmark = pytest.mark.django_db(transaction=True)

Action = migration_pb.ReportVerifiedRunRequest.Action
CQD_ACCOUNT = account(538183838, "cqdaemon@example.com", "CQ Daemon", "cqdaemon")
VOTER = account(1000002, "voter@example.com", "CQ Voter", "voter")
LOOPS = 7

# The verify callback: (loop, attempt) -> the attempt as it now stands, or None if unchanged.
Verify = Callable[[int, migration_pb.ReportedRun], migration_pb.ReportedRun | None]
# CQD in charge: loop -> the attempts CQDaemon found by polling Gerrit itself.
Candidates = Callable[[int], list[migration_pb.ReportedRun]]


def trying_message(reported: migration_pb.ReportedRun) -> str:
    return f'Run "{reported.id}" | Attempt "{reported.attempt.key}": CQ is trying da patch'


def final_message(reported: migration_pb.ReportedRun) -> str:
    attempt = reported.attempt
    return (
        f'Run "{reported.id}" | Attempt "{attempt.key}" finished with '
        f"{bq_pb.AttemptStatus.Name(attempt.status)} "
        f"{bq_pb.AttemptSubstatus.Name(attempt.substatus)}."
    )


def action_for(attempt: bq_pb.Attempt) -> int:
    if attempt.status in (bq_pb.ABORTED, bq_pb.FAILURE, bq_pb.INFRA_FAILURE):
        return Action.ACTION_FAIL
    if attempt.status == bq_pb.SUCCESS:
        if attempt.gerrit_changes and attempt.gerrit_changes[0].mode == bq_pb.FULL_RUN:
            return Action.ACTION_SUBMIT
        return Action.ACTION_DRY_RUN_OK
    return Action.ACTION_UNSPECIFIED


class CQDaemonSimulator:
    """One CQDaemon of one LUCI project, calling cvsite as §4's cqdfake does.

    `calls` counts every call made, by (method, answered code name), to compare with what
    cvsite recorded. `errors` keeps the calls that failed, with their loop.
    """

    def __init__(
        self,
        api,
        project: str,
        *,
        cv_in_charge: bool,
        verify: Verify,
        candidates: Candidates | None = None,
        gerrit=None,
    ):
        self.api = api
        self.project = project
        self.cv_in_charge = cv_in_charge
        self.verify = verify
        self.candidates = candidates
        self.gerrit = gerrit
        # Attempt key -> ReportedRun, in the order they were started.
        self.attempts: dict[str, migration_pb.ReportedRun] = {}
        self.finalized: dict[str, migration_pb.ReportedRun] = {}
        self.run_statuses: dict[str, migration_pb.FetchRunStatusResponse] = {}
        self.excluded: list[tuple[str, int]] = []
        self.calls: collections.Counter = collections.Counter()
        self.errors: list[tuple[int, str, RpcError]] = []
        # What the last successful ReportRuns said, and in which loop.
        self.last_reported: list[migration_pb.ReportedRun] = []
        self.last_reported_loop = 0
        # (attempt key, host, change) -> the CL's current revision in the run's snapshot.
        self.revisions: dict[tuple[str, str, int], str] = {}
        self.loop = 0

    # --- plumbing --------------------------------------------------------------------------

    def call(self, method: str, request):
        try:
            response = getattr(self.api, method)(request)
        except RpcError as e:
            self.calls[(method, code_name(e.code))] += 1
            self.errors.append((self.loop, method, e))
            raise
        self.calls[(method, "OK")] += 1
        return response

    # --- the loop --------------------------------------------------------------------------

    def iterate(self, loop: int) -> None:
        self.loop = loop
        try:
            self.update_attempts()
        except RpcError:
            pass  # retried next loop; ReportRuns was skipped
        self.verify_all()

    def update_attempts(self) -> None:
        if self.cv_in_charge:
            candidates = self.fetch_active_runs()
        else:
            candidates = self.fetch_candidates()
        for key in [k for k in self.attempts if k not in candidates]:
            self.vanished(key)
        for key, reported in candidates.items():
            if key not in self.attempts:
                self.start(reported)
                self.attempts[key] = reported
        reported = list(self.attempts.values())
        self.call("ReportRuns", migration_pb.ReportRunsRequest(runs=reported))
        self.last_reported = reported
        self.last_reported_loop = self.loop

    def fetch_active_runs(self) -> dict[str, migration_pb.ReportedRun]:
        response = self.call(
            "FetchActiveRuns", migration_pb.FetchActiveRunsRequest(luci_project=self.project)
        )
        candidates = {}
        for active in response.active_runs:
            known = {cl.id for cl in active.cls} | {cl.id for cl in active.fyi_deps}
            for cl in active.cls:
                missing = {dep.id for dep in cl.deps} - known
                assert not missing, f"{active.id}: deps {missing} neither in cls nor fyi_deps"
            key = active.id.rpartition("-")[2]
            candidates[key] = migration_pb.ReportedRun(
                id=active.id,
                attempt=bq_pb.Attempt(
                    key=key,
                    gerrit_changes=[cl.gc for cl in active.cls],
                    status=bq_pb.STARTED,
                ),
            )
            for cl in active.cls:
                self.revisions[(key, cl.gc.host, cl.gc.change)] = cl.info.current_revision
        return candidates

    def fetch_candidates(self) -> dict[str, migration_pb.ReportedRun]:
        found = [r for r in self.candidates(self.loop) if r.attempt.key not in self.finalized]
        if not found:
            return {}
        response = self.call(
            "FetchExcludedCLs", migration_pb.FetchExcludedCLsRequest(luci_project=self.project)
        )
        excluded = {(gc.host, gc.change) for gc in response.cls}
        self.excluded = sorted(excluded)
        return {
            r.attempt.key: r
            for r in found
            if not any((gc.host, gc.change) in excluded for gc in r.attempt.gerrit_changes)
        }

    def start(self, reported: migration_pb.ReportedRun) -> None:
        message = trying_message(reported)
        if self.cv_in_charge:
            for gc in reported.attempt.gerrit_changes:
                self.call(
                    "PostGerritMessage",
                    migration_pb.PostGerritMessageRequest(
                        project=self.project,
                        attempt_key=reported.attempt.key,
                        host=gc.host,
                        change=gc.change,
                        revision=self.revisions[(reported.attempt.key, gc.host, gc.change)],
                        comment=message,
                        send_email=True,
                    ),
                )
        else:
            for gc in reported.attempt.gerrit_changes:
                self.gerrit.add_message(gc.change, message, author=CQD_ACCOUNT)

    def vanished(self, key: str) -> None:
        reported = self.attempts[key]
        if not self.cv_in_charge:
            aborted = migration_pb.ReportedRun()
            aborted.CopyFrom(reported)
            aborted.attempt.status = bq_pb.ABORTED
            self.finalize(aborted)
            return
        try:
            status = self.call(
                "FetchRunStatus",
                migration_pb.FetchRunStatusRequest(
                    luci_project=self.project, cv_id=reported.id, attempt_key=key
                ),
            )
        except RpcError:
            return  # not final yet: asked again next loop
        self.run_statuses[key] = status
        self.finalize(reported)  # still STARTED: ReportVerifiedRun(ACTION_UNSPECIFIED)

    def verify_all(self) -> None:
        for reported in list(self.attempts.values()):
            updated = self.verify(self.loop, reported)
            if updated is not None and updated.attempt.status > bq_pb.STARTED:
                try:
                    self.finalize(updated)
                except RpcError:
                    pass  # finalized again next loop

    def finalize(self, reported: migration_pb.ReportedRun) -> None:
        key = reported.attempt.key
        if self.cv_in_charge:
            self.call(
                "ReportVerifiedRun",
                migration_pb.ReportVerifiedRunRequest(
                    run=reported,
                    action=action_for(reported.attempt),
                    final_message=final_message(reported),
                ),
            )
        else:
            reported = self.finish_in_gerrit(reported)
            self.call("ReportFinishedRun", migration_pb.ReportFinishedRunRequest(run=reported))
        del self.attempts[key]
        self.finalized[key] = reported

    def finish_in_gerrit(self, reported: migration_pb.ReportedRun) -> migration_pb.ReportedRun:
        """What CQDaemon in charge does to Gerrit itself when an attempt ends."""
        done = migration_pb.ReportedRun()
        done.CopyFrom(reported)
        attempt = done.attempt
        full_run = bool(attempt.gerrit_changes) and attempt.gerrit_changes[0].mode == bq_pb.FULL_RUN
        if attempt.status == bq_pb.SUCCESS and full_run:
            for gc in attempt.gerrit_changes:
                with self.gerrit.lock:
                    self.gerrit.change(gc.change)["status"] = "MERGED"
                gc.submit_status = bq_pb.GerritChange.SUCCESS
        elif attempt.status != bq_pb.ABORTED:
            for gc in attempt.gerrit_changes:
                for label in ("Commit-Queue", "Quick-Dry-Run"):
                    votes = self.gerrit.change(gc.change)["labels"].get(label, {}).get("all", [])
                    for vote in list(votes):
                        voter = {k: v for k, v in vote.items() if k in ("_account_id", "email")}
                        self.gerrit.vote(gc.change, label, 0, voter=voter, tag="autogenerated:cq")
                self.gerrit.add_message(gc.change, final_message(done), author=CQD_ACCOUNT)
        attempt.end_time.FromDatetime(timezone.now())
        return done


# --- the scenario -------------------------------------------------------------------------------


def outcome(reported, status, substatus=bq_pb.NO_SUBSTATUS):
    done = migration_pb.ReportedRun()
    done.CopyFrom(reported)
    done.attempt.status = status
    done.attempt.substatus = substatus
    return done


class Decisions(dict):
    """A verify callback: attempt key -> (loop from which it ends, with what status)."""

    def __call__(self, loop, reported):
        loop_and_status = self.get(reported.attempt.key)
        if loop_and_status is None or loop < loop_and_status[0]:
            return None
        return outcome(reported, loop_and_status[1])


def gerrit_messages(gerrit, change: int, containing: str) -> list[str]:
    return [m["message"] for m in gerrit.change(change)["messages"] if containing in m["message"]]


def cqd_attempt(key, project, changes, mode, gerrit) -> migration_pb.ReportedRun:
    """A CQDaemon-in-charge attempt: its own key, no CV run id."""
    return migration_pb.ReportedRun(
        attempt=bq_pb.Attempt(
            key=key,
            luci_project=project,
            status=bq_pb.STARTED,
            gerrit_changes=[
                bq_pb.GerritChange(
                    host=gerrit.host,
                    project=gerrit.change(n)["project"],
                    change=n,
                    patchset=1,
                    mode=mode,
                )
                for n in changes
            ],
        )
    )


def cancel_run(run: Run, *, pending: bool) -> None:
    """What cvsite does when a user removes the CQ vote: first only intends to cancel (the
    run leaves FetchActiveRuns), then ends it."""
    if pending:
        Run.objects.filter(id=run.id).update(
            delay_cancel_until=timezone.now() + timedelta(minutes=3)
        )
        return
    with transaction.atomic():
        set_status(lock_run(run.id), RunStatus.CANCELLED, "user:owner@example.com", "CQ unchecked")


def snapshot_of(project: str) -> list[tuple[str, str, str | None]]:
    snapshot = ReportedRunsSnapshot.objects.get(project=project)
    return [(r.attempt_key, r.reported_id, r.run_id) for r in snapshot.runs.order_by("position")]


@pytest.fixture
def cqdaemon_api(live_server):
    """cqdaemon_api(["chromium"]) -> a MigrationClient with a token named after its projects.

    Afterwards its connections are closed, and the live server's threads serving them waited
    for: they hold database connections, which must be gone before the test database is.
    """
    serve = live_server.thread.httpd.process_request_thread
    serving_before = {t for t in threading.enumerate() if getattr(t, "_target", None) == serve}
    sessions = []

    def make(projects):
        _, token = ApiToken.issue(f"cqdaemon-{'-'.join(projects)}", projects)
        session = requests.Session()
        sessions.append(session)
        return MigrationClient(
            Client(live_server.url, session=session, auth_token=token, retries=0)
        )

    yield make
    for session in sessions:
        for adapter in session.adapters.values():
            # Session.close() leaves idle pooled connections to the garbage collector.
            pools = adapter.poolmanager.pools
            for key in list(pools.keys()):
                pools[key].close()
        session.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
        getattr(t, "_target", None) == serve and t not in serving_before
        for t in threading.enumerate()
    ):
        time.sleep(0.02)


def test_cqdaemon_simulator_over_several_loops(cqdaemon_api, gerrit, run_tasks):
    # --- chromium: CV in charge ---------------------------------------------------------------
    for number in range(1, 8):
        gerrit.add_change(number, project="chromium/src", depends_on=[1] if number == 2 else [])
        gerrit.vote(number, "Commit-Queue", 2, voter=VOTER)
    full = make_run_of_changes(gerrit, [1, 2], mode="FULL_RUN")  # submits
    dry = make_run_of_changes(gerrit, [3], mode="DRY_RUN")  # passes
    quick = make_run_of_changes(gerrit, [4], mode="QUICK_DRY_RUN")  # fails
    doomed = make_run_of_changes(gerrit, [5], mode="FULL_RUN")  # infra failure
    cancelled = make_run_of_changes(gerrit, [6], mode="DRY_RUN")  # the user cancels it
    chromium = {r.cqd_attempt_key: r for r in (full, dry, quick, doomed, cancelled)}
    chromium_verify = Decisions(
        {
            full.cqd_attempt_key: (3, bq_pb.SUCCESS),
            dry.cqd_attempt_key: (2, bq_pb.SUCCESS),
            quick.cqd_attempt_key: (4, bq_pb.FAILURE),
            doomed.cqd_attempt_key: (3, bq_pb.INFRA_FAILURE),
        }
    )
    # Gerrit refuses the first post on change 2 (a refusal reaches CQDaemon; a 5xx would not,
    # the post would go on as a task): the whole start is retried next loop.
    gerrit.fail_next(409, method="POST", path_contains="~2/revisions/")
    chromium_api = cqdaemon_api(["chromium"])
    cqd = CQDaemonSimulator(chromium_api, "chromium", cv_in_charge=True, verify=chromium_verify)

    # --- v8: CQDaemon in charge ---------------------------------------------------------------
    for number in (20, 21, 22, 23, 30):
        gerrit.add_change(number, project="v8/v8")
        gerrit.vote(number, "Commit-Queue", 1 if number in (21, 23) else 2, voter=VOTER)
    v8_submit = make_run_of_changes(gerrit, [20], project="v8", mode="FULL_RUN")
    v8_fail = make_run_of_changes(gerrit, [21], project="v8", mode="DRY_RUN")
    v8_abort = make_run_of_changes(gerrit, [22], project="v8", mode="DRY_RUN")
    v8_verified = make_run_of_changes(gerrit, [30], project="v8", mode="FULL_RUN")
    v8_api = cqdaemon_api(["v8"])
    # Verified while CV was in charge; Gerrit refuses to submit it for now, so its CL stays
    # excluded from what CQDaemon may pick up.
    gerrit.fail_next(503, count=1000, method="POST", path_contains="~30/")
    v8_api.ReportVerifiedRun(
        migration_pb.ReportVerifiedRunRequest(
            run=migration_pb.ReportedRun(attempt=bq_pb.Attempt(key=v8_verified.cqd_attempt_key)),
            action=Action.ACTION_SUBMIT,
        )
    )
    attempts = {
        "submit": cqd_attempt(v8_submit.cqd_attempt_key, "v8", [20], bq_pb.FULL_RUN, gerrit),
        "fail": cqd_attempt(v8_fail.cqd_attempt_key, "v8", [21], bq_pb.DRY_RUN, gerrit),
        "abort": cqd_attempt(v8_abort.cqd_attempt_key, "v8", [22], bq_pb.DRY_RUN, gerrit),
        "unclaimed": cqd_attempt("00c0ffee00c0ffee", "v8", [23], bq_pb.DRY_RUN, gerrit),
        "excluded": cqd_attempt("0e0e0e0e0e0e0e0e", "v8", [30], bq_pb.FULL_RUN, gerrit),
    }

    def v8_candidates(loop):
        names = ["submit", "abort", "excluded"] if loop == 1 else ["submit", "fail", "excluded"]
        if loop >= 2:
            names.append("unclaimed")
        return [attempts[n] for n in names]

    v8_verify = Decisions(
        {
            v8_submit.cqd_attempt_key: (3, bq_pb.SUCCESS),
            v8_fail.cqd_attempt_key: (4, bq_pb.FAILURE),
            "00c0ffee00c0ffee": (4, bq_pb.SUCCESS),
        }
    )
    v8 = CQDaemonSimulator(
        v8_api,
        "v8",
        cv_in_charge=False,
        verify=v8_verify,
        candidates=v8_candidates,
        gerrit=gerrit,
    )

    # --- the loops ----------------------------------------------------------------------------
    late = None
    simulators = [cqd, v8]
    for loop in range(1, LOOPS + 1):
        if loop == 5:
            # CQDaemon restarts and forgets what it was doing: it starts the runs again, and
            # cvsite must not post their messages a second time.
            cqd = CQDaemonSimulator(
                chromium_api, "chromium", cv_in_charge=True, verify=chromium_verify
            )
            simulators.append(cqd)
        for simulator in (cqd, v8):
            simulator.iterate(loop)
            if simulator.last_reported_loop == loop:
                # cvsite stored exactly what this loop's ReportRuns said, linked to the runs.
                assert snapshot_of(simulator.project) == [
                    (r.attempt.key, r.id, r.id or None) for r in simulator.last_reported
                ], f"loop {loop}"
        if loop == 1:
            # The failed post stopped loop 1 before ReportRuns; nothing was reported.
            assert not ReportedRunsSnapshot.objects.filter(project="chromium").exists()
        if loop == 2:
            assert {r.attempt.key for r in cqd.last_reported} == set(chromium)
            cancel_run(cancelled, pending=True)
            # A run that starts while CQDaemon is at work.
            late = make_run_of_changes(gerrit, [7], mode="DRY_RUN")
            chromium[late.cqd_attempt_key] = late
            chromium_verify[late.cqd_attempt_key] = (6, bq_pb.SUCCESS)
        if loop == 3:
            # Still not final when CQDaemon asked; cvsite ends it now.
            assert cancelled.cqd_attempt_key in cqd.attempts
            cancel_run(cancelled, pending=False)
        run_tasks()

    # --- chromium end state -------------------------------------------------------------------
    for run in chromium.values():
        run.refresh_from_db()
    assert full.status == RunStatus.SUCCEEDED
    assert dry.status == RunStatus.SUCCEEDED
    assert late.status == RunStatus.SUCCEEDED
    assert quick.status == RunStatus.FAILED
    assert doomed.status == RunStatus.FAILED
    assert cancelled.status == RunStatus.CANCELLED
    assert gerrit.change(1)["status"] == gerrit.change(2)["status"] == "MERGED"
    submitted = [r.path for r in gerrit.requests_to("POST", "/submit")]
    assert ["~1/" in p for p in submitted if "chromium" in p] == [True, False]
    assert all(gerrit.change(n)["status"] == "NEW" for n in (3, 4, 5, 6, 7))

    # Each CL got CQDaemon's start message once, though its run was started more than once.
    for key, run in chromium.items():
        for run_cl in run.run_cls.select_related("cl"):
            text = f'Run "{run.id}" | Attempt "{key}": CQ is trying da patch'
            assert len(gerrit_messages(gerrit, run_cl.cl.change, text)) == 1, run_cl.cl.change
    # 7 CLs; change 1 was asked for again when its run's start was retried, change 7 by the
    # restarted CQDaemon; Gerrit saw one more post only: the one that failed.
    assert sum(s.calls[("PostGerritMessage", "OK")] for s in simulators) == 9
    assert cqd.calls[("PostGerritMessage", "OK")] == 1
    cq_posts = [
        r
        for r in gerrit.requests_to("POST", "/review")
        if "CQ is trying da patch" in (r.body or {}).get("message", "")
    ]
    assert len(cq_posts) == 8
    assert {r.body["notify"] for r in cq_posts} == {"OWNER", "OWNER_REVIEWERS"}
    assert all(
        r.body["notify_details"] == {"TO": {"accounts": [VOTER["_account_id"]]}} for r in cq_posts
    )
    assert len(gerrit_messages(gerrit, 3, VERIFIED_OK_MESSAGE)) == 1
    assert len(gerrit_messages(gerrit, 7, VERIFIED_OK_MESSAGE)) == 1
    for run, change in ((quick, 4), (doomed, 5)):
        verdict = VerifiedCQDRun.objects.get(run=run)
        assert verdict.action == VerifyAction.FAIL
        assert verdict.final_message.endswith("finished with FAILURE NO_SUBSTATUS.") or (
            verdict.final_message.endswith("finished with INFRA_FAILURE NO_SUBSTATUS.")
        )
        assert len(gerrit_messages(gerrit, change, verdict.final_message)) == 1
        assert run.end_reason == verdict.final_message
    assert dict(
        VerifiedCQDRun.objects.filter(run__project="chromium").values_list("run", "action")
    ) == {
        full.id: VerifyAction.SUBMIT,
        dry.id: VerifyAction.DRY_RUN_OK,
        late.id: VerifyAction.DRY_RUN_OK,
        quick.id: VerifyAction.FAIL,
        doomed.id: VerifyAction.FAIL,
    }
    # The cancelled run: FetchRunStatus failed while it was pending, then told CQDaemon why.
    first = simulators[0]
    status = first.run_statuses[cancelled.cqd_attempt_key]
    assert (status.event, status.extra) == ("patch_failed", "CQ bit was unchecked.")
    assert [(loop, method, e.code) for loop, method, e in first.errors] == [
        (1, "PostGerritMessage", Code.FAILED_PRECONDITION),
        (3, "FetchRunStatus", Code.FAILED_PRECONDITION),
    ]
    assert RunEvent.objects.filter(
        run=cancelled, kind=RunEventKind.CQD_VERIFIED, detail="ignored ACTION_UNSPECIFIED"
    ).exists()
    assert not GerritPost.objects.filter(posted_at__isnull=True).exists()
    # Nothing left to do: the last ReportRuns said so.
    assert cqd.attempts == {} and snapshot_of("chromium") == []

    # --- v8 end state -------------------------------------------------------------------------
    for run in (v8_submit, v8_fail, v8_abort, v8_verified):
        run.refresh_from_db()
    assert (v8_submit.status, v8_fail.status, v8_abort.status) == (
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
        RunStatus.CANCELLED,
    )
    assert v8_submit.finalized_by_cqd and v8_fail.finalized_by_cqd and v8_abort.finalized_by_cqd
    assert gerrit.change(20)["status"] == "MERGED"
    finished = {f.attempt_key: f for f in FinishedCQDRun.objects.all()}
    assert set(finished) == {
        v8_submit.cqd_attempt_key,
        v8_fail.cqd_attempt_key,
        v8_abort.cqd_attempt_key,
        "00c0ffee00c0ffee",
    }
    for run in (v8_submit, v8_fail, v8_abort):
        assert (
            finished[run.cqd_attempt_key].run_id,
            finished[run.cqd_attempt_key].reported_id,
        ) == (
            run.id,
            run.id,
        )
    assert finished[v8_abort.cqd_attempt_key].attempt_status == bq_pb.ABORTED
    assert (finished["00c0ffee00c0ffee"].run_id, finished["00c0ffee00c0ffee"].reported_id) == (
        None,
        "",
    )
    # CQDaemon posted and voted on Gerrit itself; cvsite posted nothing on v8 changes.
    assert len(gerrit_messages(gerrit, 21, "finished with FAILURE")) == 1
    assert gerrit.change(21)["labels"]["Commit-Queue"]["all"][0]["value"] == 0
    v8_posts = [unquote(r.path) for r in gerrit.requests_to("POST") if "v8/v8~" in unquote(r.path)]
    assert v8_posts and all("v8/v8~30/" in p and p.endswith("/submit") for p in v8_posts)
    # The CL of the run cvsite is submitting was never picked up by CQDaemon.
    assert v8.excluded == [(gerrit.host, 30)]
    assert not gerrit_messages(gerrit, 30, "CQ is trying da patch")
    assert "0e0e0e0e0e0e0e0e" not in finished
    assert snapshot_of("v8") == []
    assert v8_verified.status == RunStatus.SUBMITTING
    gerrit.clear_faults()
    run_tasks(including_delayed=True)
    v8_verified.refresh_from_db()
    assert v8_verified.status == RunStatus.SUCCEEDED

    # --- every call was recorded, with the code the simulators saw ----------------------------
    recorded = collections.Counter(ApiCall.objects.values_list("caller", "method", "code"))
    expected = collections.Counter()
    for simulator in simulators:
        for (method, code), count in simulator.calls.items():
            expected[(f"cqdaemon-{simulator.project}", method, code)] += count
    expected[("cqdaemon-v8", "ReportVerifiedRun", "OK")] += 1  # the setup call for v8_verified
    assert recorded == expected
    assert {method for _, method, code in recorded if code == "OK"} == {
        "FetchActiveRuns",
        "PostGerritMessage",
        "ReportRuns",
        "ReportVerifiedRun",
        "FetchRunStatus",
        "FetchExcludedCLs",
        "ReportFinishedRun",
    }
    assert recorded[("cqdaemon-chromium", "FetchActiveRuns", "OK")] == LOOPS
    assert recorded[("cqdaemon-chromium", "ReportRuns", "OK")] == LOOPS - 1  # not in loop 1
    assert recorded[("cqdaemon-v8", "ReportRuns", "OK")] == LOOPS
    assert recorded[("cqdaemon-v8", "FetchExcludedCLs", "OK")] == LOOPS
