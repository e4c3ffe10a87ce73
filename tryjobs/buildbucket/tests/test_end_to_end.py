"""cvsite's executor against the fake Buildbucket over real HTTP: launches, pushed updates,
retries, launch errors, lost and reordered notifications, stale builds, reuse, outages."""

from datetime import UTC, timedelta

import pytest
from django.db import connection
from google.protobuf import json_format

from cvproto.buildbucket.v2 import common_pb2
from cvproto.gerrit import gerrit_pb2
from runs import clock
from runs.models import Run, RunCL, RunStatus
from tryjobs import operations, stale
from tryjobs.backend import LaunchCL, get_backend
from tryjobs.buildbucket import messages, poller
from tryjobs.models import Tryjob, TryjobStatus
from tryjobs.tests.actions_support import (
    HOST,
    RetryConfig,
    State,
    attempt_statuses,
    cvsite_run,
    defn,
    latest_tryjob,
    requirement,
    state_of,
)

SUCCESS, FAILURE, INFRA_FAILURE, CANCELED = 12, 20, 36, 68
NOT_FOUND, PERMISSION_DENIED, RESOURCE_EXHAUSTED, UNAVAILABLE = 5, 7, 8, 14
LINUX, WIN = defn("linux"), defn("win")
RETRY = RetryConfig(single_quota=2, global_quota=4, failure_weight=3, transient_failure_weight=1)


def clock_of(timestamp):
    return timestamp.ToDatetime(tzinfo=UTC)


def build_id(tryjob: Tryjob) -> int:
    return int(tryjob.external_id.rsplit("/", 1)[1])


@pytest.mark.django_db
def test_a_run_launches_its_builds_retries_a_transient_failure_and_succeeds(
    fake_bb, deliver, slept, run_tasks
):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(LINUX, WIN, retry=RETRY), "op")
    linux, win = latest_tryjob(run, 0), latest_tryjob(run, 1)
    assert fake_bb.calls == ["SearchBuilds", "SearchBuilds", "Batch"]  # nothing to reuse
    assert fake_bb.build_of_request(linux.id).id == build_id(linux)
    assert attempt_statuses(state_of(run)) == [["TRIGGERED"], ["TRIGGERED"]]
    assert deliver() == [200, 200]  # the creations: nothing new

    for tryjob in (linux, win):
        fake_bb.start_build(build_id(tryjob))
    fake_bb.end_build(build_id(linux), INFRA_FAILURE, summary="bot died")
    assert deliver() == [200, 200, 200]
    run_tasks()
    state = state_of(run)
    assert attempt_statuses(state) == [["ENDED", "TRIGGERED"], ["TRIGGERED"]]
    retried = latest_tryjob(run, 0)
    assert retried.id != linux.id and fake_bb.build_of_request(retried.id)

    fake_bb.end_build(build_id(retried), SUCCESS)
    fake_bb.end_build(build_id(win), SUCCESS)
    deliver()
    run_tasks()
    state = state_of(run)
    assert state.status == State.SUCCEEDED
    assert attempt_statuses(state) == [["ENDED", "ENDED"], ["ENDED"]]


@pytest.mark.django_db
def test_launch_errors_fail_or_retry_as_upstream(fake_bb, slept, run_tasks):
    fake_bb.fail_builder("linux", RESOURCE_EXHAUSTED, "quota", times=1)
    fake_bb.fail_builder("win", PERMISSION_DENIED, "not allowed to schedule", times=1)
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(LINUX, WIN), "op")
    linux, win = latest_tryjob(run, 0), latest_tryjob(run, 1)
    # PermissionDenied is final, and ends the retries of its round.
    assert win.status == TryjobStatus.UNTRIGGERED
    assert win.untriggered_reason == (
        "received PermissionDenied from buildbucket. message: not allowed to schedule"
    )
    assert linux.status == TryjobStatus.UNTRIGGERED
    assert linux.untriggered_reason == "received ResourceExhausted from buildbucket. message: quota"

    # NotFound (a builder config not yet propagated) is retried, then launched.
    fake_bb.fail_builder("mac", NOT_FOUND, 'builder "chromium/try/mac" not found', times=2)
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("mac")), "op")
    assert slept == [0.1, 0.2]
    assert latest_tryjob(run, 0).status == TryjobStatus.TRIGGERED

    # NotFound for good: UNTRIGGERED with upstream's reason once the 2 minutes are spent.
    fake_bb.fail_builder("gone", NOT_FOUND, 'builder "chromium/try/gone" not found', times=99)
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("gone")), "op")
    assert latest_tryjob(run, 0).untriggered_reason == (
        'received NotFound from buildbucket. message: builder "chromium/try/gone" not found'
    )


@pytest.mark.django_db
def test_duplicated_reordered_and_lost_notifications_change_nothing_wrong(
    fake_bb, deliver, slept, run_tasks
):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(LINUX), "op")
    linux = latest_tryjob(run, 0)
    deliver()
    fake_bb.start_build(build_id(linux))
    fake_bb.end_build(build_id(linux), FAILURE, output_properties={"do_not_retry": True})
    started, ended = fake_bb.take_outbox()
    # Reordered: the end first, then the start (older): stays ENDED. Repeated: no change.
    assert deliver([ended]) == [200]
    linux.refresh_from_db()
    assert linux.status == TryjobStatus.ENDED
    version = linux.eversion
    assert deliver([started, ended]) == [200, 200]
    linux.refresh_from_db()
    assert (linux.status, linux.eversion) == (TryjobStatus.ENDED, version)
    assert linux.result_update_time == clock_of(fake_bb.builds[build_id(linux)].update_time)

    # Lost: the poller fetches builds whose news is overdue.
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(WIN), "op")
    win = latest_tryjob(run, 0)
    deliver()
    fake_bb.drop_pushes(1)
    fake_bb.end_build(build_id(win), SUCCESS)
    assert deliver() == []
    report = poller.poll_builds(get_backend().fetch, now=clock.now(), older_than=timedelta(0))
    assert report.changed == [win.id] and not report.failed
    win.refresh_from_db()
    assert win.status == TryjobStatus.ENDED
    run_tasks()
    assert state_of(run).status == State.SUCCEEDED


@pytest.mark.django_db
def test_a_new_patchset_cancels_the_stale_builds(fake_bb, slept):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(LINUX), "op")
    linux = latest_tryjob(run, 0)
    # The run ended: no one watches the build any more.
    Run.objects.filter(id=run.id).update(status=RunStatus.CANCELLED, end_time=clock.now())
    cl = RunCL.objects.filter(run=run).first().cl
    client = get_backend().client(HOST, run.project)
    cancel_build, depths = client.cancel_build, []

    def watched_cancel(request):
        depths.append(len(connection.atomic_blocks))
        return cancel_build(request)

    client.cancel_build = watched_cancel
    baseline = len(connection.atomic_blocks)
    report = stale.cancel_stale_tryjobs(cl.id, cl.patchset, cl.patchset + 1)
    assert report.cancelled == [linux.id]
    assert depths == [baseline]  # no transaction (no lock) while Buildbucket answers
    assert fake_bb.builds[build_id(linux)].status == CANCELED
    assert fake_bb.cancel_summaries == {build_id(linux): "LUCI CV no longer needs this Tryjob"}
    linux.refresh_from_db()
    assert linux.status == TryjobStatus.CANCELLED


@pytest.mark.django_db
def test_a_build_started_outside_cvsite_for_the_same_patchsets_is_found(fake_bb):
    run = cvsite_run()
    cls = launch_cls(run)
    changes = [
        common_pb2.GerritChange(host=c.host, change=c.change, patchset=c.patchset) for c in cls
    ]
    builder = LINUX.buildbucket.builder
    older = fake_bb.add_build(builder, changes, requester="someone@example.com")
    fake_bb.end_build(older.id, SUCCESS)
    mine = fake_bb.add_build(builder, changes, clobber=True)  # asked for more: not reusable
    fake_bb.end_build(mine.id, SUCCESS)
    other_cls = fake_bb.add_build(builder, changes[:1])
    found = list(get_backend().find_reusable(cls, [LINUX, WIN], project=run.project))
    assert [(c.external_id, c.definition) for c in found] == [
        (f"buildbucket/{HOST}/{older.id}", LINUX)
    ]
    assert found[0].result.status == found[0].result.SUCCEEDED
    assert other_cls.id not in {int(c.external_id.rsplit("/", 1)[1]) for c in found}


@pytest.mark.django_db
def test_an_outage_loses_no_launch_and_holds_no_transaction_while_waiting(fake_bb, slept, settings):
    # Unavailable for a while (each Batch tried 3 times by the client, then again by the
    # executor after a backoff), then answered after the client gave up although the build
    # was made (E20): the next round's same request ID gets that build, not a second one.
    settings.BUILDBUCKET_TIMEOUT_SECONDS = 0.3
    fake_bb.fail_calls("Batch", UNAVAILABLE, "down", times=6)
    fake_bb.slow_calls("Batch", 1.0, times=3)
    backend = get_backend()
    launch = backend.launch
    depths = []  # transactions open around each launch (the test's own is the baseline)

    def watched_launch(requests):
        depths.append(len(connection.atomic_blocks))
        return launch(requests)

    backend.launch = watched_launch
    baseline = len(connection.atomic_blocks)
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(LINUX), "op")
    linux = latest_tryjob(run, 0)
    assert linux.status == TryjobStatus.TRIGGERED
    assert len(fake_bb.builds) == 1 and fake_bb.build_of_request(linux.id).id == build_id(linux)
    assert slept == [0.1, 0.2, 0.4]
    assert depths == [baseline] * 4

    # GetBuild unavailable: the poll reports it and keeps the tryjob as it was; next time
    # it catches up.
    fake_bb.fail_calls("GetBuild", UNAVAILABLE, "down", times=3)
    fake_bb.end_build(build_id(linux), SUCCESS)
    report = poller.poll_builds(backend.fetch, now=clock.now(), older_than=timedelta(0))
    assert list(report.failed) == [linux.external_id] and not report.changed
    report = poller.poll_builds(backend.fetch, now=clock.now(), older_than=timedelta(0))
    assert report.changed == [linux.id]


def launch_cls(run):
    return [
        LaunchCL(
            rc.cl.host,
            rc.cl.change,
            rc.patchset,
            "",
            rc.gerrit_project,
            min_equivalent_patchset=rc.min_equivalent_patchset,
        )
        for rc in RunCL.objects.filter(run=run).select_related("cl").order_by("position")
    ]


@pytest.mark.django_db
def test_the_executor_reuses_a_build_started_outside_cvsite(fake_bb, slept):
    run = cvsite_run(mode="FULL_RUN")
    changes = [
        common_pb2.GerritChange(host=c.host, change=c.change, patchset=c.patchset)
        for c in launch_cls(run)
    ]
    outside = fake_bb.add_build(LINUX.buildbucket.builder, changes, requester="dev@example.com")
    fake_bb.end_build(outside.id, SUCCESS)
    fake_bb.end_build(
        fake_bb.add_build(WIN.buildbucket.builder, changes).id,
        SUCCESS,
        output_properties={
            "$recipe_engine/cq/output": {"reusability": {"modeAllowlist": ["DRY_RUN"]}}
        },
    )  # not for a full run
    operations.set_requirement(run.id, requirement(LINUX, WIN), "op")
    linux, win = latest_tryjob(run, 0), latest_tryjob(run, 1)
    assert linux.external_id == f"buildbucket/{HOST}/{outside.id}"
    assert linux.launched_by_id is None and list(linux.reused_by.values_list("id", flat=True)) == [
        run.id
    ]
    assert win.launched_by_id == run.id
    # Patchsets 3 then 2 searched (the CLs' equivalent range), then win launched.
    assert fake_bb.calls == ["SearchBuilds", "SearchBuilds", "Batch"]


@pytest.mark.django_db
def test_builds_carry_the_cq_tags_and_properties_of_the_run(fake_bb, slept):
    run = cvsite_run(mode="DRY_RUN", owner="alice@google.com")
    first, second = RunCL.objects.filter(run=run).order_by("position")
    info = gerrit_pb2.ChangeInfo(current_revision="abc")
    info.revisions["abc"].commit.message = "Fix it\n\nCq-Cl-Tag: team:infra\nBug: 1\n"
    RunCL.objects.filter(id=first.id).update(
        info=info.SerializeToString(),
        owner_email="alice@google.com",
        trigger_email="bob@google.com",
    )
    RunCL.objects.filter(id=second.id).update(owner_email="carol@google.com")
    operations.set_requirement(run.id, requirement(LINUX), "op")
    build = fake_bb.build_of_request(latest_tryjob(run, 0).id)
    cls = launch_cls(run)
    tags = {(t.key, t.value) for t in build.tags if t.key != "buildset"}
    assert tags == {
        ("user_agent", "cq"),
        ("cq_attempt_key", run.id.rsplit("-", 1)[1]),
        ("cq_cl_group_key", messages.cl_group_key(cls)),
        ("cq_equivalent_cl_group_key", messages.equivalent_cl_group_key(cls)),
        ("cq_cl_owner", "alice@google.com"),
        ("cq_cl_owner", "carol@google.com"),
        ("cq_triggerer", "bob@google.com"),
        ("cq_cl_tag", "team:infra"),
        ("cq_experimental", "false"),
    }
    assert json_format.MessageToDict(build.input.properties) == {
        "$recipe_engine/cq": {
            "active": True,
            "topLevel": True,
            "dryRun": True,
            "runMode": "DRY_RUN",
            "ownerIsGoogler": True,
        }
    }
    assert [(c.change, c.patchset) for c in build.input.gerrit_changes] == [
        (c.change, c.patchset) for c in cls
    ]
