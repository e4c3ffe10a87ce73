"""refresh_cls against a fake Gerrit (a real HTTP server): snapshots, retries, rejects."""

import json

import pytest

from cvproto.gerrit import gerrit_pb2
from cvproto.migration import migration_pb2 as migration_pb
from importers.backfill.cls import RateLimiter, min_equivalent_patchset
from importers.backfill.command import REJECTS_EXIT_STATUS
from importers.tests.backfill.conftest import run
from migration_api.models import ApiToken
from runs.models import CL, DepKind, RunCL, RunCLDep
from runs.serializers import change_info_from_row, set_served_message
from runs.tests.factories import make_cl, make_run

pytestmark = pytest.mark.django_db


def attempt(host: str, change: int, patchset: int, *, key: str, project="infra", status="STARTED"):
    record = {
        "key": key,
        "luci_project": project,
        "start_time": "2024-03-09T09:59:00Z",
        "status": status,
        "gerrit_changes": [
            {
                "host": host,
                "project": "infra/infra",
                "change": change,
                "patchset": patchset,
                "earliest_equivalent_patchset": patchset,
                "trigger_time": "2024-03-09T09:58:00Z",
                "mode": "DRY_RUN",
            }
        ],
    }
    if status != "STARTED":
        record["end_time"] = "2024-03-09T10:30:00Z"
    return record


@pytest.fixture
def imported(gerrit, tmp_path, monkeypatch):
    """Three changes in the fake Gerrit and runs importing them; rejects land in tmp_path."""
    monkeypatch.chdir(tmp_path)
    gerrit.add_change(101, project="infra/infra", files=["a.py", "b/c.py"])
    gerrit.add_patchset(101, kind="REWORK")
    gerrit.add_patchset(101, kind="TRIVIAL_REBASE")
    gerrit.add_message(101, "Dry run: CQ is trying the patch.")
    gerrit.add_change(102, project="infra/infra")
    gerrit.add_change(103, project="infra/infra")
    lines = [
        attempt(gerrit.host, 101, 3, key="1111111111111111"),
        attempt(gerrit.host, 102, 1, key="2222222222222222", project="v8", status="SUCCESS"),
        attempt(gerrit.host, 103, 1, key="3333333333333333", project="v8"),
    ]
    path = tmp_path / "attempts.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert run("import_attempts", path).status == 0
    return gerrit


def test_refresh_stores_the_changeinfo_snapshot_the_migration_api_serves(imported, client):
    result = run("refresh_cls", retry_delay=0)

    assert result.status == 0, result.err
    assert result.counts["updated"] == 3
    cl = CL.objects.get(change=101)
    info = change_info_from_row(cl)
    assert info.number == 101 and info.project == "infra/infra"
    assert [m.message for m in info.messages] == ["Dry run: CQ is trying the patch."]
    assert (cl.patchset, cl.min_equivalent_patchset) == (3, 2)  # ps 3 is a trivial rebase
    assert cl.files == ["a.py", "b/c.py"]
    assert cl.current_revision == info.current_revision
    # The active run at that patchset gets it too; the ended run keeps what it had.
    run_cl = RunCL.objects.get(cl=cl)
    assert bytes(run_cl.info) == bytes(cl.info) and run_cl.files == cl.files
    assert run_cl.min_equivalent_patchset == 3  # the run's own, as CQDaemon reported it
    assert bytes(RunCL.objects.get(cl__change=102).info) == b""
    assert {r.query["o"][-1] for r in imported.requests_to("GET", "/changes/")} == {"CURRENT_FILES"}

    _, token = ApiToken.issue("cqdaemon", ["infra"])
    response = client.post(
        "/prpc/migration.Migration/FetchActiveRuns",
        migration_pb.FetchActiveRunsRequest(luci_project="infra").SerializeToString(),
        content_type="application/prpc; encoding=binary",
        headers={"Accept": "application/prpc; encoding=binary", "Authorization": f"Bearer {token}"},
    )
    [active] = migration_pb.FetchActiveRunsResponse.FromString(response.content).active_runs
    assert active.cls[0].info.number == 101
    assert list(active.cls[0].files) == ["a.py", "b/c.py"]

    again = run("refresh_cls", retry_delay=0)
    assert again.counts["unchanged"] == 3


def test_transient_errors_are_retried_and_permanent_ones_are_rejects(imported, tmp_path):
    imported.fail_next(503, count=2, path_contains="103")
    del imported.changes[102]  # Gerrit no longer has it: 404

    result = run("refresh_cls", retry_delay=0, concurrency=2)

    assert result.status == REJECTS_EXIT_STATUS
    assert result.counts["updated"] == 2 and result.counts["rejected"] == 1
    assert "retried after a transient error: 2" in result.out
    [reject] = [json.loads(line) for line in (tmp_path / "refresh_cls.rejects").open()]
    assert reject["cl"] == CL.objects.get(change=102).id
    assert "NOT_FOUND" in reject["reason"] and "HTTP 404" in reject["reason"]
    assert json.loads(reject["record"])["change"] == 102


def test_retries_run_out(imported, tmp_path):
    imported.fail_next(500, count=10, path_contains="101")

    result = run("refresh_cls", retry_delay=0, retries=2, project=["infra"])

    assert result.status == REJECTS_EXIT_STATUS
    [reject] = [json.loads(line) for line in (tmp_path / "refresh_cls.rejects").open()]
    assert "gave up after 3 tries" in reject["reason"]


def test_filters_missing_only_project_and_since(imported):
    infra = run("refresh_cls", project=["infra"], retry_delay=0)
    assert infra.counts["read"] == 1

    missing = run("refresh_cls", missing_only=True, retry_delay=0)
    assert missing.counts["read"] == 2  # 101 has its snapshot now
    assert run("refresh_cls", missing_only=True).counts["read"] == 0

    assert run("refresh_cls", since="2024-03-10").counts["read"] == 0
    assert run("refresh_cls", since="2024-03-09T00:00:00+00:00").counts["read"] == 3
    assert run("refresh_cls", since="not a date").status == 1


def test_dry_run_fetches_but_writes_nothing(imported):
    result = run("refresh_cls", dry_run=True, retry_delay=0)

    assert result.counts["updated"] == 3
    assert not any(bytes(info) for info in CL.objects.values_list("info", flat=True))


def test_min_equivalent_patchset_follows_trivial_rebases_back():
    info = gerrit_pb2.ChangeInfo()
    kinds = ["REWORK", "REWORK", "TRIVIAL_REBASE", "NO_CODE_CHANGE", "REWORK", "NO_CHANGE"]
    for number, kind in enumerate(kinds, start=1):
        info.revisions[f"rev{number}"].number = number
        info.revisions[f"rev{number}"].kind = gerrit_pb2.RevisionInfo.Kind.Value(kind)
    assert min_equivalent_patchset(info, 6) == 5
    assert min_equivalent_patchset(info, 4) == 2
    assert min_equivalent_patchset(info, 1) == 1


def test_the_rate_limiter_spaces_requests_evenly():
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        now[0] += seconds

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert slept == [0.25, 0.25, 0.25, 0.25]


def test_a_new_patchset_schedules_the_cancellation_of_stale_tryjobs(imported):
    from django_tasks_db.models import DBTaskResult

    assert run("refresh_cls", retry_delay=0).status == 0
    assert not DBTaskResult.objects.filter(task_path__endswith="cancel_stale_tryjobs").exists()
    imported.add_patchset(102, kind="REWORK")  # ps 2 is not equivalent to ps 1
    assert run("refresh_cls", retry_delay=0).status == 0
    [task] = DBTaskResult.objects.filter(task_path__endswith="cancel_stale_tryjobs")
    assert task.args_kwargs["args"] == [CL.objects.get(change=102).id, 1, 2]


def test_filling_an_active_runs_snapshot_keeps_the_deps_it_serves(gerrit, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for number in (201, 202):
        gerrit.add_change(number, project="infra/infra", files=[f"f{number}.py"])
    active = make_run("infra")
    cls = [make_cl(gerrit.host, change=number) for number in (201, 202)]
    rows = []
    for position, cl in enumerate(cls):
        row = RunCL(
            run=active,
            cl=cl,
            position=position,
            trigger_time=active.create_time,
            trigger_mode="DRY_RUN",
            trigger_account_id=1,
            patchset=1,
            min_equivalent_patchset=1,
            info=b"",
        )
        deps = [
            RunCLDep(run_cl=row, depends_on=c, kind=DepKind.HARD, position=0)
            for c in cls[:position]
        ]
        set_served_message(row, deps).save()
        RunCLDep.objects.bulk_create(deps)
        rows.append(row)

    assert run("refresh_cls", retry_delay=0).status == 0

    first, second = (
        migration_pb.RunCL.FromString(bytes(RunCL.objects.get(pk=row.pk).served_message))
        for row in rows
    )
    assert first.info.number == 201 and list(first.files) == ["f201.py"] and not first.deps
    assert second.info.number == 202 and list(second.files) == ["f202.py"]
    assert [(d.id, d.hard) for d in second.deps] == [(cls[0].id, True)]
