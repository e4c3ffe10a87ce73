"""The reference's fixtures E1–E17 (buildbucket.md §3): requests built equal to the expected
after decoding, responses and notifications parsed to the expected tryjob status and result."""

import base64
import json
import pathlib

import pytest
from google.protobuf import json_format

from cvproto.buildbucket.v2 import build_pb2, builds_service_pb2, notification_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from tryjobs import stale
from tryjobs.backend import LaunchCL, LaunchRequest
from tryjobs.buildbucket import messages, pubsub

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
HOST = "cr-buildbucket.appspot.com"
RUN_ID = "infra/9045781234567-1-8f3e2a1b9c7d6e5f"
CL_A = LaunchCL(
    "chromium-review.googlesource.com", 5412345, 7, "rev-a", "infra/luci/luci-go",
    min_equivalent_patchset=6, owner_email="alice@google.com", trigger_email="bob@google.com",
)  # fmt: skip
CL_B = LaunchCL(
    "chromium-review.googlesource.com", 5412399, 2, "rev-b", "infra/luci/luci-go",
    owner_email="carol@google.com", trigger_email="bob@google.com",
)  # fmt: skip


def fixture(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def parse(name: str, message_class):
    return json_format.ParseDict(fixture(name), message_class())


def definition(builder: str, *, optional=False, experiments=()) -> tryjob_pb.Definition:
    d = tryjob_pb.Definition(critical=not optional, optional=optional, experiments=experiments)
    d.buildbucket.host = HOST
    d.buildbucket.builder.project, d.buildbucket.builder.bucket = "infra", "try"
    d.buildbucket.builder.builder = builder
    return d


def launch(tryjob_id, defn, mode, cls, cl_tags=()) -> LaunchRequest:
    return LaunchRequest(
        tryjob_id=tryjob_id, definition=defn, run_id=RUN_ID, mode=mode,
        owner="alice@google.com", attempt_key="8f3e2a1b9c7d6e5f", cls=cls,
        cl_tags=cl_tags, owner_is_googler=True,
    )  # fmt: skip


def test_group_keys_match_upstream_check_vector():
    host = "example-review.googlesource.com"
    cls = [
        LaunchCL(host, 22, 10, "", "p", min_equivalent_patchset=10),
        LaunchCL(host, 11, 4, "", "p", min_equivalent_patchset=3),
    ]
    assert messages.cl_group_key(cls) == "42497728aa4b5097"
    assert messages.equivalent_cl_group_key(cls) == "1aac15146c0bc164"


def test_e1_schedule_build_of_a_dry_run():
    request = messages.schedule_build_request(
        launch(4567890123, definition("linux-rel"), "DRY_RUN", (CL_A,))
    )
    assert request == parse("E1", builds_service_pb2.ScheduleBuildRequest)


def test_e2_batch_of_a_full_run_with_an_optional_experimental_builder():
    optional = definition(
        "linux-rel-experimental", optional=True, experiments=["luci.recipes.use_python3"]
    )
    batch = builds_service_pb2.BatchRequest()
    for tryjob_id, defn in [(4567890201, definition("linux-rel")), (4567890202, optional)]:
        batch.requests.add().schedule_build.CopyFrom(
            messages.schedule_build_request(
                launch(tryjob_id, defn, "FULL_RUN", (CL_A, CL_B), cl_tags=("team:infra",))
            )
        )
    expected = parse("E2", builds_service_pb2.BatchRequest)
    assert batch == expected
    assert batch.SerializeToString(deterministic=True) == expected.SerializeToString(
        deterministic=True
    )


def expected_result(name: str) -> tuple[int, tryjob_pb.Result]:
    oracle = fixture("E21")[name]
    status = tryjob_pb.Status.Value(oracle["tryjobStatus"])
    return status, json_format.ParseDict(oracle["result"], tryjob_pb.Result())


def test_e3_batch_response_items():
    response = parse("E3", builds_service_pb2.BatchResponse)
    scheduled, failed = response.responses
    assert messages.parse_build(scheduled.schedule_build) == messages.ParsedBuild(
        *expected_result("E4")
    )
    assert failed.WhichOneof("response") == "error"
    assert (failed.error.code, failed.error.message) == (
        5,
        'builder "infra/try/linux-rel-experimental" not found',
    )


@pytest.mark.parametrize("name", ["E4", "E5", "E6", "E7", "E8", "E9", "E10", "E11"])
def test_builds_parse_to_the_oracle(name):
    parsed = messages.parse_build(parse(name, build_pb2.Build))
    assert parsed == messages.ParsedBuild(*expected_result(name))


def test_a_status_cvsite_cannot_map_is_an_error():
    build = parse("E4", build_pb2.Build)
    build.status = 4  # ENDED_MASK: a search filter, never a status
    with pytest.raises(messages.BuildParseError, match="unexpected buildbucket status"):
        messages.parse_build(build)


def test_e12_get_build():
    assert messages.get_build_request(8752643215461357665) == parse(
        "E12", builds_service_pb2.GetBuildRequest
    )


def test_e13_search_pages():
    assert messages.search_builds_request(CL_A, 7) == parse(
        "E13a", builds_service_pb2.SearchBuildsRequest
    )
    assert messages.search_builds_request(CL_A, 7, "id>8752650000000000030") == parse(
        "E13b", builds_service_pb2.SearchBuildsRequest
    )


def test_e14_search_results_accepted_only_for_the_same_cls_builder_and_requests():
    response = parse("E14", builds_service_pb2.SearchBuildsResponse)
    accepted = [
        b.id for b in response.builds
        if messages.accepts_for_reuse(b, [CL_A], ["infra/try/linux-rel"])
    ]  # fmt: skip
    assert accepted == [8752650000000000010]
    assert response.next_page_token
    parsed = messages.parse_build(response.builds[0])
    assert (parsed.status, parsed.result.status) == (tryjob_pb.ENDED, tryjob_pb.Result.SUCCEEDED)
    assert not parsed.result.HasField("output")


def test_e14_a_build_of_other_cls_or_patchsets_is_not_reused():
    build = parse("E14", builds_service_pb2.SearchBuildsResponse).builds[0]
    assert not messages.accepts_for_reuse(build, [CL_A, CL_B], ["infra/try/linux-rel"])
    build.input.gerrit_changes[0].patchset = 5  # below the min equivalent patchset 6
    assert not messages.accepts_for_reuse(build, [CL_A], ["infra/try/linux-rel"])


def test_e15_cancel():
    assert messages.cancel_request(8752643215461357665, stale.STALE_SUMMARY) == parse(
        "E15", builds_service_pb2.CancelBuildRequest
    )


def test_e16_e17_notification_decodes_to_the_merged_build():
    notification = pubsub.decode_push(json.dumps(fixture("E17")).encode())
    assert (notification.host, notification.build_id) == (HOST, 8752643215461357665)
    expected = parse("E16", notification_pb2.BuildsV2PubSub)
    large = json_format.ParseDict(fixture("E16_large_fields"), build_pb2.Build())
    merged = build_pb2.Build()
    merged.CopyFrom(expected.build)
    merged.MergeFrom(large)
    assert notification.build == merged
    assert messages.parse_build(notification.build) == messages.ParsedBuild(*expected_result("E17"))


def test_e17_envelope_data_is_e16():
    data = json.loads(base64.b64decode(fixture("E17")["message"]["data"]))
    assert data == fixture("E16")
