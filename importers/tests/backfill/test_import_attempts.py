"""import_attempts: runs, CLs, tryjobs and attempts from CQDaemon's history, on any database."""

import gzip
import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.migration import migration_pb2 as migration_pb
from importers.backfill.attempts import AttemptHandler, parse_attempt
from importers.backfill.command import REJECTS_EXIT_STATUS
from importers.backfill.core import Record
from importers.tests.backfill.conftest import run, write_generated
from importers.tests.backfill.state import dump_state
from migration_api.models import ApiToken
from runs.models import (
    CL,
    BackfillCheckpoint,
    ImportedAttempt,
    Project,
    Run,
    RunCL,
    RunEvent,
    RunStatus,
)
from runs.serializers import attempt_from_row
from tryjobs.models import Tryjob, TryjobCLPatchset, TryjobStatus

pytestmark = pytest.mark.django_db

HOST = "chromium-review.googlesource.com"
BB = "cr-buildbucket.appspot.com"
KEY = "0a6686c7f19a33a3"  # migration_behaviour.md §3.1's test vector


def attempt(**overrides) -> dict:
    """One attempt as proto3 JSON (lowerCamelCase): the §3.1 vector's CL, a FULL_RUN."""
    data = {
        "key": KEY,
        "luciProject": "chromium",
        "startTime": "2020-02-02T10:30:05Z",
        "endTime": "2020-02-02T11:00:00Z",
        "status": "SUCCESS",
        "gerritChanges": [
            {
                "host": HOST,
                "project": "chromium/src",
                "change": "33",
                "patchset": "3",
                "earliestEquivalentPatchset": "2",
                "triggerTime": "2020-02-02T10:30:00Z",
                "mode": "FULL_RUN",
                "submitStatus": "SUCCESS",
            }
        ],
        "builds": [
            {"id": "8900000000000000100", "host": BB, "origin": "NOT_REUSED", "critical": True},
            {"id": "8900000000000000050", "host": BB, "origin": "REUSED"},
        ],
    }
    data.update(overrides)
    return data


def write_lines(path, *records) -> str:
    with open(path, "wb") as f:
        for record in records:
            f.write(record if isinstance(record, bytes) else json.dumps(record).encode())
            f.write(b"\n")
    return str(path)


def rejects_of(path) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_an_attempt_becomes_a_run_with_cls_tryjobs_and_the_attempt_verbatim(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", attempt())

    result = run("import_attempts", path)

    assert result.status == 0, result.err
    run_row = Run.objects.get()
    # §3.1: the latest trigger time is the create time; the test vector's inverted time.
    assert run_row.id == f"chromium/9042331396854-1-{KEY}"
    assert run_row.cqd_attempt_key == KEY
    assert run_row.status == RunStatus.SUCCEEDED
    assert run_row.mode == "FULL_RUN"
    assert run_row.create_time == datetime(2020, 2, 2, 10, 30, tzinfo=UTC)
    assert run_row.start_time == datetime(2020, 2, 2, 10, 30, 5, tzinfo=UTC)
    assert run_row.end_time == datetime(2020, 2, 2, 11, 0, tzinfo=UTC)
    assert run_row.finalized_by_cqd
    assert list(Project.objects.values_list("name", flat=True)) == ["chromium"]  # admin filter
    cl = CL.objects.get()
    assert (cl.host, cl.change, cl.patchset, cl.min_equivalent_patchset, cl.gerrit_project) == (
        HOST,
        33,
        3,
        2,
        "chromium/src",
    )
    assert bytes(cl.info) == b""  # no Gerrit snapshot until refresh_cls
    run_cl = RunCL.objects.get()
    assert run_cl.trigger_time == datetime(2020, 2, 2, 10, 30, tzinfo=UTC)
    assert run_cl.trigger_mode == "FULL_RUN"
    assert run_cl.submit_time == run_row.end_time  # CQDaemon submitted it
    launched, reused = Tryjob.objects.order_by("-external_id")
    assert launched.external_id == f"buildbucket/{BB}/8900000000000000100"
    assert launched.status == TryjobStatus.TRIGGERED and launched.result_status is None
    assert launched.critical and launched.launched_by_id == run_row.id
    assert not reused.critical and reused.launched_by_id is None
    assert list(reused.reused_by.values_list("id", flat=True)) == [run_row.id]
    assert TryjobCLPatchset.objects.filter(cl=cl, patchset=3).count() == 2
    stored = ImportedAttempt.objects.get()
    assert stored.run_id == run_row.id
    expected = bq_pb.Attempt()
    from google.protobuf import json_format

    json_format.ParseDict(attempt(), expected)
    assert attempt_from_row(stored) == expected
    assert stored.source.endswith("a.jsonl:1")
    assert RunEvent.objects.get().kind == "created"


@pytest.mark.parametrize(
    ("status", "run_status"),
    [
        ("STARTED", RunStatus.RUNNING),
        ("SUCCESS", RunStatus.SUCCEEDED),
        ("FAILURE", RunStatus.FAILED),
        ("INFRA_FAILURE", RunStatus.FAILED),
        ("ABORTED", RunStatus.CANCELLED),
    ],
)
def test_attempt_statuses_map_to_run_statuses(tmp_path, status, run_status):
    record = attempt(status=status)
    if status == "STARTED":
        del record["endTime"]
    path = write_lines(tmp_path / "a.jsonl", record)

    assert run("import_attempts", path).status == 0

    run_row = Run.objects.get()
    assert run_row.status == run_status
    assert (run_row.end_time is None) == (status == "STARTED")
    assert run_row.finalized_by_cqd == (status != "STARTED")


def test_the_latest_trigger_dates_the_run_and_the_start_time_when_no_change_has_one(tmp_path):
    second = dict(attempt()["gerritChanges"][0], change="34", triggerTime="2020-02-02T10:31:00Z")
    no_triggers = attempt(
        key="1111111111111111",
        gerritChanges=[{"host": HOST, "change": 35, "patchset": 1, "mode": "DRY_RUN"}],
    )
    path = write_lines(
        tmp_path / "a.jsonl",
        attempt(gerritChanges=[attempt()["gerritChanges"][0], second]),
        no_triggers,
    )

    assert run("import_attempts", path).status == 0

    multi = Run.objects.get(cqd_attempt_key=KEY)
    assert multi.create_time == datetime(2020, 2, 2, 10, 31, tzinfo=UTC)
    assert multi.run_cls.count() == 2
    single = Run.objects.get(cqd_attempt_key="1111111111111111")
    assert single.create_time == single.start_time == datetime(2020, 2, 2, 10, 30, 5, tzinfo=UTC)
    assert single.run_cls.get().trigger_time == single.start_time
    assert single.mode == "DRY_RUN"


def test_bigquery_export_and_proto_name_flavours_give_the_same_rows(tmp_path):
    bigquery = {
        "key": KEY,
        "luci_project": "chromium",
        "start_time": "2020-02-02 10:30:05 UTC",
        "end_time": "2020-02-02 11:00:00.000000 UTC",
        "status": 2,
        "substatus": None,
        "gerrit_changes": [
            {
                "host": HOST,
                "project": "chromium/src",
                "change": 33,
                "patchset": "3",
                "earliest_equivalent_patchset": 2,
                "trigger_time": "2020-02-02 10:30:00 UTC",
                "mode": 2,
                "submit_status": "SUCCESS",
                "owner": "someone@example.com",  # a column this schema does not know
            }
        ],
        "builds": [
            {"id": 8900000000000000100, "host": BB, "origin": 2, "critical": "true"},
            {"id": "8900000000000000050", "host": BB, "origin": "REUSED", "critical": False},
        ],
    }
    run("import_attempts", write_lines(tmp_path / "camel.jsonl", attempt()))
    camel = dump_state()
    Run.objects.all().delete()
    Tryjob.objects.all().delete()
    CL.objects.all().delete()

    result = run("import_attempts", write_lines(tmp_path / "bq.jsonl", bigquery))

    assert result.status == 0, result.err
    state = dump_state()
    for key in ("attempts", "events"):  # they name their source file
        state.pop(key), camel.pop(key)
    assert state == camel


def test_malformed_lines_are_rejected_with_their_reason_and_good_lines_land(tmp_path):
    good = attempt()
    lines = [
        good,  # 1
        b"{this is not json",  # 2
        b"[1, 2, 3]",  # 3
        attempt(
            key="2222222222222222", gerritChanges=[dict(good["gerritChanges"][0], change="abc")]
        ),
        attempt(key="3333333333333333", status="DONE"),  # 5
        {k: v for k, v in attempt(key="x").items() if k != "key"},  # 6: no key
        attempt(key="4444444444444444", startTime="2021-02-30T10:00:00Z"),  # 7
        b'{"key": "\xff\xfe"}',  # 8: not UTF-8
        attempt(key="5555555555555555", status="FAILURE", endTime=None),  # 9
        attempt(key="NOT-HEX-AT-ALL!!"),  # 10
        attempt(
            key="6666666666666666",
            gerritChanges=[
                good["gerritChanges"][0],
                dict(good["gerritChanges"][0], change="34", mode="DRY_RUN"),
            ],
        ),  # 11
        attempt(
            key="7777777777777777",
            gerritChanges=[dict(good["gerritChanges"][0], triggerTime="2010-01-01T00:00:00Z")],
        ),  # 12: before the world began (run IDs cannot express it)
        attempt(key="8888888888888888", luciProject=7),  # 13
        attempt(key="9999999999999999", gerritChanges=[]),  # 14
        attempt(key="aaaaaaaaaaaaaaaa", builds=[{"id": "-5", "host": BB}]),  # 15
        attempt(key="bbbbbbbbbbbbbbbb", gerritChanges=[dict(good["gerritChanges"][0], patchset=0)]),
        attempt(key="cccccccccccccccc", builds=[{"id": "1", "host": "a/b"}]),  # 17
        attempt(key="dddddddddddddddd", gerritChanges=[dict(good["gerritChanges"][0], mode=9)]),
        attempt(key="eeeeeeeeeeeeeeee", builds=[{"id": "99999999999999999999", "host": BB}]),
        attempt(key="ffffffffffffffff", status="STARTED", endTime=None),  # 20: good
    ]
    path = write_lines(tmp_path / "attempts.jsonl", *lines)

    result = run("import_attempts", path)

    assert result.status == REJECTS_EXIT_STATUS
    assert "18 record(s) rejected" in result.err
    assert sorted(Run.objects.values_list("cqd_attempt_key", flat=True)) == [
        KEY,
        "ffffffffffffffff",
    ]
    reasons = {r["line"]: r["reason"] for r in rejects_of(path + ".rejects")}
    expected = {
        2: "not JSON",
        3: "not a JSON object",
        4: "gerrit_changes[0].change: expected an integer, got a string 'abc'",
        5: "status: unknown AttemptStatus value 'DONE'",
        6: "key: the attempt key is missing",
        7: "start_time: '2021-02-30T10:00:00Z' is not a valid date and time",
        8: "not JSON",
        9: "end_time: a FAILURE attempt has ended, so it needs an end time",
        10: "key: invalid attempt key 'NOT-HEX-AT-ALL!!'",
        11: "gerrit_changes[1].mode: DRY_RUN differs from the first change's FULL_RUN",
        12: "must not be before 2014-05-09",
        13: "luci_project: expected a string, got a number 7",
        14: "gerrit_changes: an attempt needs at least one change",
        15: "builds[0].id: a build ID is a positive number, got -5",
        16: "gerrit_changes[0].patchset: must be at least 1, got 0",
        17: 'builds[0].host: invalid host "a/b": must not contain /',
        18: "gerrit_changes[0].mode: unknown Mode number 9",
        19: "builds[0].id: 99999999999999999999 is outside",
    }
    assert sorted(reasons) == sorted(expected)
    for line, reason in expected.items():
        assert reason in reasons[line], (line, reasons[line])
    [unknown_status] = [r for r in rejects_of(path + ".rejects") if r["line"] == 5]
    assert json.loads(unknown_status["record"])["status"] == "DONE"  # to fix and re-import
    assert result.counts == {
        "read": 20,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 18,
        "skipped": 0,
    }

    again = run("import_attempts", path, allow_rejects=True)
    assert again.status == 0
    assert len(rejects_of(path + ".rejects")) == 18  # rewritten, not appended to


def test_a_truncated_gzip_keeps_the_lines_before_the_damage(tmp_path):
    whole = gzip.compress(
        b"".join(json.dumps(attempt(key=f"{n:016x}")).encode() + b"\n" for n in range(1, 401))
    )
    path = tmp_path / "attempts.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])

    result = run("import_attempts", path, batch_size=50)

    assert result.status == REJECTS_EXIT_STATUS
    imported = Run.objects.count()
    assert 50 < imported < 400
    [reject] = rejects_of(f"{path}.rejects")
    assert reject["line"] == imported + 1
    assert "gzip stream is truncated" in reject["reason"]
    assert "input damaged" in result.out
    checkpoint = BackfillCheckpoint.objects.get()
    assert checkpoint.finished_at is not None and checkpoint.rejected == 1
    # Resuming does not report the damage twice.
    assert run("import_attempts", path, resume=True).status == REJECTS_EXIT_STATUS
    assert len(rejects_of(f"{path}.rejects")) == 1


def test_duplicates_and_later_records_of_an_attempt(tmp_path):
    started = attempt(status="STARTED", endTime=None, builds=attempt()["builds"][:1])
    finished = attempt()
    path = write_lines(tmp_path / "a.jsonl", started, started, finished, finished, started)

    result = run("import_attempts", path, batch_size=2)

    assert result.status == 0, result.err
    assert result.counts["created"] == 1
    assert result.counts["updated"] == 1
    assert result.counts["unchanged"] == 3
    run_row = Run.objects.get()
    assert run_row.status == RunStatus.SUCCEEDED  # the STARTED record after it changed nothing
    assert run_row.eversion == 2  # created in batch 1 as RUNNING, updated in batch 2
    assert run_row.run_cls.get().submit_time == run_row.end_time
    assert attempt_from_row(ImportedAttempt.objects.get()).status == bq_pb.SUCCESS
    assert Tryjob.objects.count() == 2
    events = list(RunEvent.objects.order_by("id").values_list("kind", "from_status", "to_status"))
    assert events == [
        ("created", None, RunStatus.RUNNING),
        ("status_changed", RunStatus.RUNNING, RunStatus.SUCCEEDED),
    ]


def test_an_older_record_never_overwrites_a_newer_one(tmp_path):
    run("import_attempts", write_lines(tmp_path / "new.jsonl", attempt()))
    before = dump_state()

    result = run(
        "import_attempts",
        write_lines(tmp_path / "old.jsonl", attempt(status="STARTED", endTime=None)),
    )

    assert result.counts["unchanged"] == 1
    after = dump_state()
    assert after == before


def test_an_attempt_without_start_time_is_dated_by_its_triggers(tmp_path):
    record = attempt(status="STARTED", endTime=None)
    del record["startTime"]
    path = write_lines(tmp_path / "a.jsonl", record)
    run("import_attempts", path)

    again = run("import_attempts", path)

    assert again.counts["unchanged"] == 1
    run_row = Run.objects.get()
    assert run_row.start_time is None
    assert run_row.create_time == datetime(2020, 2, 2, 10, 30, tzinfo=UTC)


def test_reimporting_changes_nothing(generated):
    first = run("import_attempts", generated, batch_size=64)
    assert first.status == 0, first.err
    state = dump_state()
    assert Run.objects.count() > 200

    second = run("import_attempts", generated, batch_size=64)

    assert second.status == 0
    assert second.counts["unchanged"] == 300
    assert dump_state() == state


def test_the_generated_sample_covers_what_the_import_handles(generated):
    result = run("import_attempts", generated)

    assert result.status == 0, result.err
    statuses = set(Run.objects.values_list("status", flat=True))
    assert statuses == {
        RunStatus.RUNNING,
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
        RunStatus.CANCELLED,
    }
    assert set(Run.objects.values_list("mode", flat=True)) == {
        "DRY_RUN",
        "FULL_RUN",
        "QUICK_DRY_RUN",
    }
    assert RunCL.objects.filter(position=1).exists()  # multi-CL attempts
    assert Tryjob.reused_by.through.objects.exists()  # reused builds
    assert RunEvent.objects.filter(kind="status_changed").exists()  # STARTED, then final
    assert not Run.objects.ended().filter(end_time__isnull=True).exists()
    # Every run's ID follows §3.1 from its attempt, and its CLs are its attempt's.
    for imported in ImportedAttempt.objects.select_related("run")[:50]:
        recorded = attempt_from_row(imported)
        assert imported.run.id.endswith("-1-" + recorded.key)
        cls = {(rc.cl.host, rc.cl.change) for rc in imported.run.run_cls.select_related("cl")}
        assert cls == {(gc.host, gc.change) for gc in recorded.gerrit_changes}


def test_dry_run_writes_nothing(generated, tmp_path):
    bad = tmp_path / "with-bad.jsonl"
    bad.write_bytes(generated.read_bytes() + b"oops\n")

    result = run("import_attempts", bad, dry_run=True)

    assert result.status == REJECTS_EXIT_STATUS
    assert "dry run: nothing written" in result.out
    assert result.counts["created"] > 200 and "line 301: not JSON" in result.out
    assert not (tmp_path / "with-bad.jsonl.rejects").exists()
    assert dump_state() == {key: [] for key in dump_state()}
    assert not BackfillCheckpoint.objects.exists()

    explicit = run("import_attempts", bad, dry_run=True, rejects=tmp_path / "r.jsonl")
    assert explicit.status == REJECTS_EXIT_STATUS
    assert [r["line"] for r in rejects_of(tmp_path / "r.jsonl")] == [301]
    assert not Run.objects.exists()


def test_dry_run_counts_what_a_real_import_does(generated):
    dry = run("import_attempts", generated, dry_run=True, batch_size=1000)
    real = run("import_attempts", generated, batch_size=1000)

    assert dry.counts == real.counts


def test_project_filter_and_limit_then_resume(generated, tmp_path):
    chromium_only = run("import_attempts", generated, project=["chromium"])
    assert set(Run.objects.values_list("project", flat=True)) == {"chromium"}
    assert "(other projects)" in chromium_only.out
    Run.objects.all().delete()
    Tryjob.objects.all().delete()
    CL.objects.all().delete()

    first = run("import_attempts", generated, limit=120, batch_size=50)
    assert "stopped at --limit" in first.out
    assert BackfillCheckpoint.objects.get().position == 120
    resumed = run("import_attempts", generated, resume=True, batch_size=50)
    assert "resumed after 120" in resumed.out
    assert resumed.counts["read"] == 300
    partial = dump_state()

    Run.objects.all().delete()
    Tryjob.objects.all().delete()
    CL.objects.all().delete()
    run("import_attempts", generated)
    assert dump_state() == partial

    finished = run("import_attempts", generated, resume=True)
    assert "nothing to resume" in finished.out


def test_resume_refuses_a_different_file_under_the_same_name(generated, tmp_path):
    run("import_attempts", generated, limit=10)
    generated.write_bytes(b"\n" + generated.read_bytes())

    result = run("import_attempts", generated, resume=True)

    assert result.status == 1
    assert "is not the input checkpoint" in result.err


def test_resuming_a_gzip_input_skips_the_committed_lines(tmp_path):
    path = write_generated(tmp_path / "attempts.jsonl.gz", 150)
    run("import_attempts", path, limit=70, batch_size=20)
    run("import_attempts", path, resume=True, batch_size=20)
    resumed = dump_state()
    Run.objects.all().delete()
    Tryjob.objects.all().delete()
    CL.objects.all().delete()

    run("import_attempts", path)

    assert dump_state() == resumed


@pytest.mark.parametrize("compressed", [False, True])
def test_standard_input(generated, monkeypatch, compressed):
    import io
    import sys

    data = generated.read_bytes()
    stdin = io.BufferedReader(io.BytesIO(gzip.compress(data) if compressed else data))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stdin))

    result = run("import_attempts", "-")

    assert result.status == 0, result.err
    assert "import_attempts: standard input" in result.out
    assert Run.objects.count() > 200


def test_a_batch_takes_a_few_queries_however_many_attempts_it_holds(generated):
    handler = AttemptHandler("x")
    records = [
        Record(n, line) for n, line in enumerate(generated.read_bytes().splitlines(), start=1)
    ]
    for record in records:
        record.item = parse_attempt(record.raw)
    with CaptureQueriesContext(connection) as first:
        handler.write(records[:150])  # creates
    with CaptureQueriesContext(connection) as second:
        handler.write(records[150:])  # creates, and updates what the first batch created
    # Reads of what exists, then one bulk statement per table and kind of change: no query per
    # attempt, CL or build (each batch has hundreds of those).
    assert len(first) <= 15, [q["sql"][:80] for q in first]
    assert len(second) <= 22, [q["sql"][:80] for q in second]


def test_the_migration_api_answers_for_imported_runs(tmp_path, client):
    running = attempt(status="STARTED", endTime=None)
    ended = attempt(
        key="1234567890abcdef",
        status="ABORTED",
        gerritChanges=[dict(attempt()["gerritChanges"][0], change="40")],
    )
    run("import_attempts", write_lines(tmp_path / "a.jsonl", running, ended))
    _, token = ApiToken.issue("cqdaemon", ["chromium"])

    def call(method, request, response_class):
        response = client.post(
            f"/prpc/migration.Migration/{method}",
            request.SerializeToString(),
            content_type="application/prpc; encoding=binary",
            headers={
                "Accept": "application/prpc; encoding=binary",
                "Authorization": f"Bearer {token}",
            },
        )
        assert response["X-Prpc-Grpc-Code"] == "0", response.content
        return response_class.FromString(response.content)

    active = call(
        "FetchActiveRuns",
        migration_pb.FetchActiveRunsRequest(luci_project="chromium"),
        migration_pb.FetchActiveRunsResponse,
    )
    [active_run] = active.active_runs
    assert active_run.id == f"chromium/9042331396854-1-{KEY}"
    [cl] = active_run.cls
    assert (cl.gc.host, cl.gc.change, cl.gc.patchset, cl.gc.earliest_equivalent_patchset) == (
        HOST,
        33,
        3,
        2,
    )
    assert cl.gc.mode == bq_pb.FULL_RUN
    assert cl.trigger.time.ToJsonString() == "2020-02-02T10:30:00Z"

    status = call(
        "FetchRunStatus",
        migration_pb.FetchRunStatusRequest(luci_project="chromium", attempt_key="1234567890abcdef"),
        migration_pb.FetchRunStatusResponse,
    )
    assert (status.event, status.extra) == ("patch_failed", "CQ bit was unchecked.")
