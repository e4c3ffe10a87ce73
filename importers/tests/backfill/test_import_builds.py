"""import_builds: tryjob status, result and run from Buildbucket builds (buildbucket.md §3)."""

import json

import pytest

from cvproto.cq.recipe import cq_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from importers.backfill.command import REJECTS_EXIT_STATUS
from importers.tests.backfill.conftest import run
from importers.tests.backfill.state import dump_state
from runs.models import CL, Run
from tryjobs.models import ResultStatus, Tryjob, TryjobCLPatchset, TryjobStatus
from tryjobs.serializers import result_from_row

pytestmark = pytest.mark.django_db

BB = "cr-buildbucket.appspot.com"
BUILD_ID = "8752643215461357665"
EID = f"buildbucket/{BB}/{BUILD_ID}"
HOST = "chromium-review.googlesource.com"
KEY = "8f3e2a1b9c7d6e5f"
RESULTDB = {"hostname": "results.api.cr.dev", "invocation": f"invocations/build-{BUILD_ID}"}


def build(status: str, update_time: str, **fields) -> dict:
    """The build of buildbucket.md's examples E4-E11 in a given state."""
    return {
        "id": BUILD_ID,
        "builder": {"project": "infra", "bucket": "try", "builder": "linux-rel"},
        "createTime": "2024-03-09T10:00:00.123456Z",
        "updateTime": update_time,
        "status": status,
        "infra": {"resultdb": dict(RESULTDB)},
        **fields,
    }


E4 = build("SCHEDULED", "2024-03-09T10:00:00.123456Z")
E5 = build("STARTED", "2024-03-09T10:01:30Z")
E6 = build(
    "SUCCESS",
    "2024-03-09T10:25:02.500Z",
    output={
        "properties": {
            "$recipe_engine/cq/output": {
                "triggeredBuildIds": ["8752643000000000001"],
                "reusability": {"modeAllowlist": ["DRY_RUN", "FULL_RUN"]},
            }
        }
    },
    summaryMarkdown="All 1234 tests passed",
)
E7 = build(
    "FAILURE",
    "2024-03-09T10:20:00Z",
    output={"properties": {"failure_type": "COMPILE_FAILURE", "do_not_retry": True}},
    summaryMarkdown="Compile failed",
)
E8 = build(
    "FAILURE",
    "2024-03-09T10:20:00Z",
    output={"properties": {"failure_type": "TRANSIENT_FAILURE"}},
    summaryMarkdown="Flaky infra while fetching deps",
)
E9 = build(
    "INFRA_FAILURE",
    "2024-03-09T11:00:00Z",
    summaryMarkdown="Build timed out",
    statusDetails={"timeout": {}},
)
E10 = build(
    "CANCELED", "2024-03-09T10:05:00Z", summaryMarkdown="LUCI CV no longer needs this Tryjob"
)
E11 = build(
    "FAILURE",
    "2024-03-09T10:20:00Z",
    output={
        "properties": {
            "do_not_retry": "yes",
            "$recipe_engine/cq/output": '{"retry": "OUTPUT_RETRY_DENIED"}',
        }
    },
)
# E16's build: tagged with its CQ attempt, on patchset 7 of one CL, with a hostname.
E16 = build(
    "SUCCESS",
    "2024-03-09T10:25:02.500Z",
    number=4821,
    input={
        "gerritChanges": [
            {"host": HOST, "project": "infra/luci/luci-go", "change": "5412345", "patchset": "7"}
        ]
    },
    tags=[
        {"key": "cq_attempt_key", "value": KEY},
        {"key": "cq_cl_group_key", "value": "da0352c66d6f733d"},
        {"key": "user_agent", "value": "cq"},
    ],
    critical="YES",
    summaryMarkdown="All 1234 tests passed",
)
E16["infra"]["buildbucket"] = {"hostname": BB}
E16["infra"]["resultdb"]["enable"] = True

# buildbucket.md E21: (tryjob status, result status, output) each example parses to.
ORACLE = [
    (E4, TryjobStatus.TRIGGERED, ResultStatus.UNKNOWN, None),
    (E5, TryjobStatus.TRIGGERED, ResultStatus.UNKNOWN, None),
    (
        E6,
        TryjobStatus.ENDED,
        ResultStatus.SUCCEEDED,
        cq_pb2.Output(
            triggered_build_ids=[8752643000000000001],
            reusability=cq_pb2.Output.Reusability(mode_allowlist=["DRY_RUN", "FULL_RUN"]),
        ),
    ),
    (
        E7,
        TryjobStatus.ENDED,
        ResultStatus.FAILED_PERMANENTLY,
        cq_pb2.Output(retry=cq_pb2.Output.OUTPUT_RETRY_DENIED),
    ),
    (E8, TryjobStatus.ENDED, ResultStatus.FAILED_TRANSIENTLY, cq_pb2.Output()),
    (E9, TryjobStatus.ENDED, ResultStatus.TIMEOUT, None),
    (E10, TryjobStatus.ENDED, ResultStatus.FAILED_TRANSIENTLY, None),
    (E11, TryjobStatus.ENDED, ResultStatus.FAILED_PERMANENTLY, None),
]


def write_lines(path, *records) -> str:
    with open(path, "wb") as f:
        for record in records:
            f.write(record if isinstance(record, bytes) else json.dumps(record).encode())
            f.write(b"\n")
    return str(path)


def attempt_line(key: str, change: int, patchset: int, status: str = "STARTED") -> dict:
    return {
        "key": key,
        "luci_project": "infra",
        "start_time": "2024-03-09T09:59:00Z",
        "status": status,
        "gerrit_changes": [
            {
                "host": HOST,
                "project": "infra/luci/luci-go",
                "change": change,
                "patchset": patchset,
                "trigger_time": "2024-03-09T09:58:00Z",
                "mode": "DRY_RUN",
            }
        ],
        "builds": [{"id": BUILD_ID, "host": BB, "origin": "NOT_REUSED", "critical": True}],
    }


@pytest.mark.parametrize(("example", "status", "result_status", "output"), ORACLE)
def test_each_example_build_parses_as_the_oracle_says(
    tmp_path, example, status, result_status, output
):
    result = run("import_builds", write_lines(tmp_path / "b.jsonl", example))

    assert result.status == 0, result.err
    tryjob = Tryjob.objects.get()
    assert tryjob.external_id == EID
    assert (tryjob.status, tryjob.result_status) == (status, result_status)
    assert tryjob.builder == "infra/try/linux-rel"
    assert tryjob.buildbucket_host == BB
    result_msg = result_from_row(tryjob)
    assert result_msg.create_time.ToJsonString() == "2024-03-09T10:00:00.123456Z"
    assert result_msg.buildbucket.id == int(BUILD_ID)
    assert result_msg.buildbucket.infra.resultdb.invocation == RESULTDB["invocation"]
    assert result_msg.buildbucket.summary_markdown == example.get("summaryMarkdown", "")
    if output is None:
        assert not result_msg.HasField("output")
    else:
        assert result_msg.output == output
    assert tryjob.launched_by is None  # no tag, no CLs: no run to link


def test_a_later_build_state_wins_and_an_older_one_never_overwrites(tmp_path):
    path = write_lines(tmp_path / "b.jsonl", E4, E6, E5, E6)

    result = run("import_builds", path, batch_size=2)

    assert result.status == 0, result.err
    assert result.counts == {
        "read": 4,
        "created": 1,
        "updated": 1,
        "unchanged": 2,
        "rejected": 0,
        "skipped": 0,
    }
    tryjob = Tryjob.objects.get()
    assert (tryjob.status, tryjob.result_status) == (TryjobStatus.ENDED, ResultStatus.SUCCEEDED)
    assert tryjob.eversion == 2
    state = dump_state()

    again = run("import_builds", path)
    assert again.counts["unchanged"] == 4
    assert dump_state() == state


def test_a_build_joins_its_run_by_attempt_key_and_keeps_the_attempt_s_criticality(tmp_path):
    attempt = attempt_line(KEY, 5412345, 7)
    attempt["builds"][0]["critical"] = False
    run("import_attempts", write_lines(tmp_path / "a.jsonl", attempt))
    run_id = Run.objects.get().id

    result = run("import_builds", write_lines(tmp_path / "b.jsonl", E16))

    assert result.status == 0, result.err
    assert result.counts["updated"] == 1
    tryjob = Tryjob.objects.get()
    assert tryjob.launched_by_id == run_id
    assert tryjob.builder == "infra/try/linux-rel"  # was infra/unknown/unknown
    assert not tryjob.critical  # the attempt said so; the build's own flag does not override
    assert (tryjob.status, tryjob.result_status) == (TryjobStatus.ENDED, ResultStatus.SUCCEEDED)
    assert TryjobCLPatchset.objects.get().patchset == 7


def test_without_a_tag_a_build_joins_the_run_of_its_cls_and_patchsets(tmp_path):
    run(
        "import_attempts",
        write_lines(
            tmp_path / "a.jsonl",
            attempt_line("1111111111111111", 5412345, 6),  # an older patchset
            attempt_line("2222222222222222", 5412345, 7),
            attempt_line("3333333333333333", 5412346, 7),  # another CL
        ),
    )
    Tryjob.objects.all().delete()
    untagged = dict(E16, tags=[{"key": "user_agent", "value": "git_cl_try"}])

    result = run("import_builds", write_lines(tmp_path / "b.jsonl", untagged))

    assert result.status == 0, result.err
    tryjob = Tryjob.objects.get()
    assert tryjob.launched_by.cqd_attempt_key == "2222222222222222"
    assert tryjob.reuse_key  # from its run's CLs
    assert "tryjobs linked to their run by CLs and patchsets: 1" in result.out


def test_builds_before_attempts_end_up_as_attempts_before_builds(tmp_path):
    attempts = write_lines(
        tmp_path / "a.jsonl",
        attempt_line(KEY, 5412345, 7, "SUCCESS") | {"end_time": "2024-03-09T10:30:00Z"},
    )
    builds = write_lines(tmp_path / "b.jsonl", E16)
    run("import_attempts", attempts)
    run("import_builds", builds)
    attempts_first = dump_state()
    Run.objects.all().delete()
    Tryjob.objects.all().delete()
    CL.objects.all().delete()

    run("import_builds", builds)
    run("import_attempts", attempts)

    assert dump_state() == attempts_first


def test_generated_builds_import_after_their_attempts(generated):
    run("import_attempts", generated)

    result = run("import_builds", generated.parent / "builds.jsonl")

    assert result.status == 0, result.err
    assert result.counts["created"] == 0  # every build was named by an attempt
    assert not Tryjob.objects.filter(launched_by__isnull=True, reused_by__isnull=True).exists()
    assert Tryjob.objects.filter(status=TryjobStatus.ENDED).count() > 100
    assert not Tryjob.objects.filter(builder_name="unknown", result_status__isnull=False).exists()


def test_builds_that_do_not_parse_are_rejected_with_the_reason(tmp_path):
    path = write_lines(
        tmp_path / "b.jsonl",
        E6,
        build("STATUS_UNSPECIFIED", "2024-03-09T10:00:00Z") | {"id": "1"},
        build("ENDED_MASK", "2024-03-09T10:00:00Z") | {"id": "2"},
        build("SUCCESS", "2024-03-09T10:00:00Z") | {"id": "3", "builder": {"project": "x"}},
        build("DONE", "2024-03-09T10:00:00Z") | {"id": "4"},
        build("SUCCESS", "yesterday") | {"id": "5"},
        {"builder": {"project": "x", "bucket": "y", "builder": "z"}, "status": "SUCCESS"},
        build("SUCCESS", "2024-03-09T10:00:00Z") | {"id": "6", "output": {"properties": 3}},
    )

    result = run("import_builds", path)

    assert result.status == REJECTS_EXIT_STATUS
    assert Tryjob.objects.get().external_id == EID
    with open(path + ".rejects") as f:
        reasons = {r["line"]: r["reason"] for r in map(json.loads, f)}
    assert "status: unexpected buildbucket status STATUS_UNSPECIFIED" in reasons[2]
    assert "status: unexpected buildbucket status ENDED_MASK" in reasons[3]
    assert reasons[4] == "builder.bucket: must be set"
    assert reasons[5] == "status: unknown Status value 'DONE'"
    assert "update_time: 'yesterday' is not a timestamp" in reasons[6]
    assert reasons[7] == "id: a build needs its (positive) ID, got 0"
    assert reasons[8].startswith("output.properties:")


def test_the_tryjob_result_keeps_only_resultdb_of_the_build_infra(tmp_path):
    run("import_builds", write_lines(tmp_path / "b.jsonl", E16))

    result = result_from_row(Tryjob.objects.get())

    infra = result.buildbucket.infra
    assert infra.HasField("resultdb") and infra.resultdb.enable
    assert not infra.HasField("buildbucket")
    assert result.buildbucket.status == 12  # SUCCESS
    assert result.status == tryjob_pb.Result.SUCCEEDED
