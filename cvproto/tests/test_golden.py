"""Golden wire/JSON vectors for the cvproto messages.

The hex strings and JSON documents are the reference vectors produced with the
reference protobuf runtime from the upstream descriptors (wire fact sheet,
section 12). Each vector is checked four ways: decode and inspect, re-encode
deterministically, build from the described value and encode, and JSON in both
directions (comparing parsed dicts, not strings).
"""

from __future__ import annotations

import json

import pytest
from google.protobuf import json_format, timestamp_pb2

from cvproto.bigquery import attempt_pb2
from cvproto.buildbucket.v2 import build_pb2, builder_common_pb2, common_pb2
from cvproto.cq.recipe import cq_pb2
from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2
from cvproto.gerrit import gerrit_pb2
from cvproto.migration import migration_pb2


def _enc(msg) -> str:
    return msg.SerializeToString(deterministic=True).hex()


def _decode(cls, hex_str: str):
    msg = cls()
    msg.ParseFromString(bytes.fromhex(hex_str))
    return msg


def _check_json(msg, expected_json: str) -> None:
    """MessageToDict matches the JSON, and parsing the JSON gives back msg."""
    expected = json.loads(expected_json)
    assert json_format.MessageToDict(msg) == expected
    parsed = json_format.Parse(expected_json, type(msg)())
    assert parsed == msg
    assert _enc(parsed) == _enc(msg)


LINUX_REL = builder_common_pb2.BuilderID(project="chromium", bucket="try", builder="linux-rel")

# --- 12.1 cv.internal.tryjob.Definition -------------------------------------

DEFINITION_HEX = (
    "0a380a1a63722d6275696c646275636b65742e61707073706f742e636f6d121a0a08"
    "6368726f6d69756d12037472791a096c696e75782d72656c280130024a056578702e61"
)
DEFINITION_JSON = """{"buildbucket": {"host": "cr-buildbucket.appspot.com",
  "builder": {"project": "chromium", "bucket": "try", "builder": "linux-rel"}},
  "critical": true, "resultVisibility": "COMMENT_LEVEL_RESTRICTED",
  "experiments": ["exp.a"]}"""


def _definition() -> storage_pb2.Definition:
    return storage_pb2.Definition(
        buildbucket=storage_pb2.Definition.Buildbucket(
            host="cr-buildbucket.appspot.com", builder=LINUX_REL
        ),
        critical=True,
        result_visibility=config_pb2.COMMENT_LEVEL_RESTRICTED,
        experiments=["exp.a"],
    )


def test_definition_decode():
    d = _decode(storage_pb2.Definition, DEFINITION_HEX)
    assert d.WhichOneof("backend") == "buildbucket"
    assert d.buildbucket.host == "cr-buildbucket.appspot.com"
    assert d.buildbucket.builder == LINUX_REL
    assert d.critical is True
    assert d.result_visibility == config_pb2.COMMENT_LEVEL_RESTRICTED == 2
    assert list(d.experiments) == ["exp.a"]
    assert not d.HasField("equivalent_to")
    assert not d.disable_reuse and not d.skip_stale_check and not d.optional
    assert _enc(d) == DEFINITION_HEX


def test_definition_build_and_json():
    d = _definition()
    assert _enc(d) == DEFINITION_HEX
    _check_json(d, DEFINITION_JSON)


# --- 12.2 cv.internal.tryjob.Result -----------------------------------------

RESULT_HEX = (
    "080212060880e2cfaa061a0c08d8e6cfaa061080cab5ee0122130a0301ac021002220a"
    "220846554c4c5f52554e2a5b08eafdf9df80c2c4d279100c1a026f6b221a0a08636872"
    "6f6d69756d12037472791a096c696e75782d72656c2a2d2a2b0a12726573756c74732e"
    "6170692e63722e6465761213696e766f636174696f6e732f6275696c642d311801"
)
RESULT_JSON = """{"status": "SUCCEEDED", "createTime": "2023-11-14T22:13:20Z",
  "updateTime": "2023-11-14T22:23:20.500Z",
  "output": {"triggeredBuildIds": ["1", "300"], "retry": "OUTPUT_RETRY_DENIED",
             "reusability": {"modeAllowlist": ["FULL_RUN"]}},
  "buildbucket": {"id": "8765432109876543210", "status": "SUCCESS",
    "summaryMarkdown": "ok",
    "builder": {"project": "chromium", "bucket": "try", "builder": "linux-rel"},
    "infra": {"resultdb": {"hostname": "results.api.cr.dev",
                           "invocation": "invocations/build-1", "enable": true}}}}"""


def _result() -> storage_pb2.Result:
    return storage_pb2.Result(
        status=storage_pb2.Result.SUCCEEDED,
        create_time=timestamp_pb2.Timestamp(seconds=1700000000),
        update_time=timestamp_pb2.Timestamp(seconds=1700000600, nanos=500_000_000),
        output=cq_pb2.Output(
            triggered_build_ids=[1, 300],
            retry=cq_pb2.Output.OUTPUT_RETRY_DENIED,
            reusability=cq_pb2.Output.Reusability(mode_allowlist=["FULL_RUN"]),
        ),
        buildbucket=storage_pb2.Result.Buildbucket(
            id=8765432109876543210,
            builder=LINUX_REL,
            status=common_pb2.SUCCESS,
            summary_markdown="ok",
            infra=build_pb2.BuildInfra(
                resultdb=build_pb2.BuildInfra.ResultDB(
                    hostname="results.api.cr.dev",
                    invocation="invocations/build-1",
                    enable=True,
                )
            ),
        ),
    )


def test_result_decode():
    r = _decode(storage_pb2.Result, RESULT_HEX)
    assert r.status == storage_pb2.Result.SUCCEEDED == 2
    assert r.create_time.seconds == 1700000000 and r.create_time.nanos == 0
    assert r.update_time.seconds == 1700000600 and r.update_time.nanos == 500_000_000
    assert list(r.output.triggered_build_ids) == [1, 300]
    assert r.output.retry == cq_pb2.Output.OUTPUT_RETRY_DENIED
    assert list(r.output.reusability.mode_allowlist) == ["FULL_RUN"]
    assert r.WhichOneof("backend") == "buildbucket"
    bb = r.buildbucket
    assert bb.id == 8765432109876543210
    assert bb.status == common_pb2.SUCCESS == 12
    assert bb.summary_markdown == "ok"
    assert bb.builder == LINUX_REL
    assert bb.infra.ListFields()[0][0].name == "resultdb"
    assert bb.infra.resultdb.hostname == "results.api.cr.dev"
    assert bb.infra.resultdb.invocation == "invocations/build-1"
    assert bb.infra.resultdb.enable is True
    assert _enc(r) == RESULT_HEX


def test_result_build_and_json():
    r = _result()
    assert _enc(r) == RESULT_HEX
    _check_json(r, RESULT_JSON)


def test_result_landmarks():
    raw = bytes.fromhex(RESULT_HEX)
    # output (4) with packed ids, retry, and reusability(4){mode_allowlist(4)}
    assert bytes.fromhex("22130a0301ac021002220a220846554c4c5f52554e") in raw
    # buildbucket (5) { ... infra(5) { resultdb(5) { ... } } }
    assert bytes.fromhex("2a2d2a2b0a12") in raw


# --- 12.3 cv.internal.tryjob.ExecutionState ---------------------------------

EXECUTION_STATE_HEX = (
    "0a361232082a122a6275696c646275636b65742f63722d6275696c646275636b65742e"
    "61707073706f742e636f6d2f313233180228011801120612040802100318012802"
)
EXECUTION_STATE_JSON = """{"executions": [{"attempts": [{"tryjobId": "42",
  "externalId": "buildbucket/cr-buildbucket.appspot.com/123", "status": "TRIGGERED",
  "reused": true}], "usedQuota": 1}],
  "requirement": {"retryConfig": {"singleQuota": 2, "globalQuota": 3}},
  "status": "RUNNING", "requirementVersion": 2}"""


def _execution_state() -> storage_pb2.ExecutionState:
    es = storage_pb2.ExecutionState
    return es(
        executions=[
            es.Execution(
                attempts=[
                    es.Execution.Attempt(
                        tryjob_id=42,
                        external_id="buildbucket/cr-buildbucket.appspot.com/123",
                        status=storage_pb2.TRIGGERED,
                        reused=True,
                    )
                ],
                used_quota=1,
            )
        ],
        requirement=storage_pb2.Requirement(
            retry_config=config_pb2.Verifiers.Tryjob.RetryConfig(single_quota=2, global_quota=3)
        ),
        status=es.RUNNING,
        requirement_version=2,
    )


def test_execution_state_decode():
    s = _decode(storage_pb2.ExecutionState, EXECUTION_STATE_HEX)
    assert len(s.executions) == 1
    ex = s.executions[0]
    assert ex.used_quota == 1
    (att,) = ex.attempts
    assert att.tryjob_id == 42
    assert att.external_id == "buildbucket/cr-buildbucket.appspot.com/123"
    # The attempt status is the top-level tryjob Status, not ExecutionState.Status.
    assert att.status == storage_pb2.TRIGGERED == 2
    assert att.reused is True
    assert not att.HasField("result")
    assert s.requirement.retry_config.single_quota == 2
    assert s.requirement.retry_config.global_quota == 3
    assert len(s.requirement.definitions) == 0
    assert s.status == storage_pb2.ExecutionState.RUNNING == 1
    assert s.requirement_version == 2
    assert not s.HasField("end_time") and not s.HasField("failures")
    assert _enc(s) == EXECUTION_STATE_HEX


def test_execution_state_build_and_json():
    s = _execution_state()
    assert _enc(s) == EXECUTION_STATE_HEX
    _check_json(s, EXECUTION_STATE_JSON)


# --- 12.4 small checks ------------------------------------------------------


def test_output_packed_and_unpacked_ids():
    packed = "0a0301ac02"
    out = cq_pb2.Output(triggered_build_ids=[1, 300])
    assert _enc(out) == packed
    assert list(_decode(cq_pb2.Output, packed).triggered_build_ids) == [1, 300]
    unpacked = _decode(cq_pb2.Output, "080108ac02")
    assert list(unpacked.triggered_build_ids) == [1, 300]
    assert unpacked == out
    # Re-encoding always produces the packed form.
    assert _enc(unpacked) == packed


def test_empty_oneof_member_is_written():
    entry = storage_pb2.ExecutionLogEntry(
        time=timestamp_pb2.Timestamp(seconds=1),
        requirement_changed=storage_pb2.ExecutionLogEntry.RequirementChanged(),
    )
    assert entry.WhichOneof("kind") == "requirement_changed"
    assert _enc(entry) == "0a0208011200"
    decoded = _decode(storage_pb2.ExecutionLogEntry, "0a0208011200")
    assert decoded.WhichOneof("kind") == "requirement_changed"
    assert decoded.time.seconds == 1
    _check_json(entry, '{"time": "1970-01-01T00:00:01Z", "requirementChanged": {}}')
    # Without the member, the oneof is unset and nothing is written for it.
    assert _enc(storage_pb2.ExecutionLogEntry(time=timestamp_pb2.Timestamp(seconds=1))) == (
        "0a020801"
    )


def test_oneof_last_member_on_wire_wins():
    # requirement_changed (2) then retry_denied (9) with reason "x".
    raw = bytes.fromhex("1200") + bytes.fromhex("4a03120178")
    entry = storage_pb2.ExecutionLogEntry.FromString(raw)
    assert entry.WhichOneof("kind") == "retry_denied"
    assert entry.retry_denied.reason == "x"


LABEL_HEX = "4a0f0a02280710ffffffffffffffffff01520f08feffffffffffffffff0112024e6f5206080112026f6b"
LABEL_JSON = (
    '{"all": [{"user": {"accountId": "7"}, "value": -1}], "values": {"1": "ok", "-2": "No"}}'
)


def test_label_info_negative_votes_and_int_map_keys():
    label = gerrit_pb2.LabelInfo(
        all=[gerrit_pb2.ApprovalInfo(user=gerrit_pb2.AccountInfo(account_id=7), value=-1)],
        values={-2: "No", 1: "ok"},
    )
    assert _enc(label) == LABEL_HEX
    # -1 and -2 are sign-extended to 10-byte varints.
    assert bytes.fromhex("10ffffffffffffffffff01") in bytes.fromhex(LABEL_HEX)
    assert bytes.fromhex("08feffffffffffffffff01") in bytes.fromhex(LABEL_HEX)
    decoded = _decode(gerrit_pb2.LabelInfo, LABEL_HEX)
    assert decoded.all[0].value == -1
    assert decoded.all[0].user.account_id == 7
    assert dict(decoded.values) == {-2: "No", 1: "ok"}
    assert _enc(decoded) == LABEL_HEX
    # Map keys are JSON strings, including int32 keys.
    _check_json(label, LABEL_JSON)
    assert set(json_format.MessageToDict(label)["values"]) == {"1", "-2"}


def test_map_entry_order_on_wire_does_not_matter():
    # The 1 -> "ok" entry first, then -2 -> "No".
    raw = bytes.fromhex("5206080112026f6b" + "520f08feffffffffffffffff0112024e6f")
    decoded = gerrit_pb2.LabelInfo.FromString(raw)
    assert dict(decoded.values) == {-2: "No", 1: "ok"}
    # Deterministic serialization sorts by key.
    assert _enc(decoded) == "520f08feffffffffffffffff0112024e6f5206080112026f6b"


# --- 12.5 migration / gerrit ------------------------------------------------

RUNCL_HEX = (
    "080912210a19782d7265766965772e676f6f676c65736f757263652e636f6d187b2003"
    "38022207612f622e7478742a0a0a060880fabc84061801320408081001"
)
RUNCL_JSON = """{"id": "9", "gc": {"host": "x-review.googlesource.com", "change": "123",
  "patchset": "3", "mode": "FULL_RUN"}, "files": ["a/b.txt"],
  "trigger": {"time": "2021-05-03T00:00:00Z", "accountId": "1"},
  "deps": [{"id": "8", "hard": true}]}"""


def _runcl() -> migration_pb2.RunCL:
    return migration_pb2.RunCL(
        id=9,
        gc=attempt_pb2.GerritChange(
            host="x-review.googlesource.com",
            change=123,
            patchset=3,
            mode=attempt_pb2.FULL_RUN,
        ),
        files=["a/b.txt"],
        trigger=migration_pb2.RunCL.Trigger(
            time=timestamp_pb2.Timestamp(seconds=1620000000), account_id=1
        ),
        deps=[migration_pb2.RunCL.Dep(id=8, hard=True)],
    )


def test_runcl_decode():
    cl = _decode(migration_pb2.RunCL, RUNCL_HEX)
    assert cl.id == 9
    assert cl.gc.host == "x-review.googlesource.com"
    assert cl.gc.change == 123 and cl.gc.patchset == 3
    assert cl.gc.mode == attempt_pb2.FULL_RUN == 2
    assert list(cl.files) == ["a/b.txt"]
    assert cl.trigger.time.seconds == 1620000000
    assert cl.trigger.account_id == 1 and cl.trigger.email == ""
    assert [(d.id, d.hard) for d in cl.deps] == [(8, True)]
    assert not cl.HasField("info")
    assert _enc(cl) == RUNCL_HEX


def test_runcl_build_and_json():
    cl = _runcl()
    assert _enc(cl) == RUNCL_HEX
    _check_json(cl, RUNCL_JSON)


VERIFIED_HEX = "0a170a050a016b4804120e70726f6a2f3132332d312d61626358036203626164"
VERIFIED_JSON = """{"run": {"attempt": {"key": "k", "status": "FAILURE"},
  "id": "proj/123-1-abc"}, "action": "ACTION_FAIL", "finalMessage": "bad"}"""


def _verified() -> migration_pb2.ReportVerifiedRunRequest:
    return migration_pb2.ReportVerifiedRunRequest(
        run=migration_pb2.ReportedRun(
            id="proj/123-1-abc",
            attempt=attempt_pb2.Attempt(key="k", status=attempt_pb2.FAILURE),
        ),
        action=migration_pb2.ReportVerifiedRunRequest.ACTION_FAIL,
        final_message="bad",
    )


def test_report_verified_run_decode():
    req = _decode(migration_pb2.ReportVerifiedRunRequest, VERIFIED_HEX)
    assert req.run.id == "proj/123-1-abc"
    assert req.run.attempt.key == "k"
    # AttemptStatus.FAILURE is 4 (SubmitStatus.FAILURE would be 3).
    assert req.run.attempt.status == attempt_pb2.FAILURE == 4
    assert req.action == migration_pb2.ReportVerifiedRunRequest.ACTION_FAIL == 3
    assert req.final_message == "bad"
    assert _enc(req) == VERIFIED_HEX


def test_report_verified_run_build_and_json():
    req = _verified()
    raw = bytes.fromhex(_enc(req))
    assert raw.hex() == VERIFIED_HEX
    # ReportedRun emits attempt (1) before id (2); action/final_message tags.
    assert raw[2:4] == bytes.fromhex("0a05")
    assert bytes.fromhex("5803") in raw and bytes.fromhex("6203626164") in raw
    _check_json(req, VERIFIED_JSON)


CHANGE_INFO_JSON = """{"number": "123", "owner": {"email": "o@example.com", "accountId": "1"},
  "project": "p", "ref": "refs/heads/main", "status": "NEW", "currentRevision": "abc",
  "revisions": {"abc": {"kind": "TRIVIAL_REBASE", "number": 3,
                        "commit": {"message": "msg"}}},
  "labels": {"Commit-Queue": {"all": [{"user": {"accountId": "7"}, "value": -1}],
                              "values": {"1": "ok", "-2": "No"}}},
  "updated": "2021-05-03T00:00:00Z"}"""


def test_change_info_json_sample():
    ci = json_format.Parse(CHANGE_INFO_JSON, gerrit_pb2.ChangeInfo())
    assert ci.number == 123
    assert ci.owner.email == "o@example.com" and ci.owner.account_id == 1
    assert ci.status == gerrit_pb2.NEW
    rev = ci.revisions["abc"]
    assert rev.kind == gerrit_pb2.RevisionInfo.TRIVIAL_REBASE and rev.number == 3
    assert rev.commit.message == "msg" and rev.commit.id == ""
    label = ci.labels["Commit-Queue"]
    assert label.all[0].value == -1 and dict(label.values) == {-2: "No", 1: "ok"}
    assert ci.updated.seconds == 1620000000
    assert json_format.MessageToDict(ci) == json.loads(CHANGE_INFO_JSON)
    # The label reproduces the 12.4 LabelInfo bytes inside the map entry.
    assert LABEL_HEX in _enc(ci)
    again = gerrit_pb2.ChangeInfo.FromString(ci.SerializeToString(deterministic=True))
    assert again == ci


@pytest.mark.parametrize(
    "json_text",
    [
        '{"summary_markdown": "ok", "id": "5"}',
        '{"summaryMarkdown": "ok", "id": 5}',
    ],
)
def test_json_parser_accepts_snake_case_and_numeric_int64(json_text):
    bb = json_format.Parse(json_text, storage_pb2.Result.Buildbucket())
    assert bb.summary_markdown == "ok" and bb.id == 5


def test_json_enum_accepts_numbers():
    r = json_format.Parse('{"status": 4}', storage_pb2.Result())
    assert r.status == storage_pb2.Result.FAILED_TRANSIENTLY
    b = json_format.Parse('{"status": 68}', storage_pb2.Result.Buildbucket())
    assert b.status == common_pb2.CANCELED
