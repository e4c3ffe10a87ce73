"""Buildbucket: the push endpoint's throughput, and a launch against the fake Buildbucket.

push: 10,000 builds_v2 notifications (each ending a different TRIGGERED tryjob) POSTed to
/pubsub/buildbucket through Django's test client (URL routing, middleware, authentication,
the view), against decoding the same deliveries and storing the same updates directly
(tryjobs.buildbucket.pubsub.decode_push, messages.parse_build, record_tryjob_updates), one
update per transaction in both. ratio = push rate / direct rate; the goal is >= 0.5.

launch: a run's 20-definition requirement set (tryjobs.operations.set_requirement) on the fake
server over HTTP, against the same Batch sent straight to the fake with the pRPC client (best
of several each). The goal line (<= 2) is the launch as the issue defines it, the pass's one
Batch of 20 ScheduleBuild: from the requests built to the launched rows saved, read from the
pass's own `cvsite_tryjob_launch_duration_seconds`. The line after it is the whole pass around
that launch (its decision under the run's lock, the reuse search, the PENDING rows committed
before the call, the execution state saved after it) against the same Batch.
"""

import base64
import json
import time
import zlib
from datetime import UTC, datetime, timedelta

from django.test import Client
from django.test.utils import override_settings
from google.protobuf import json_format
from prometheus_client import REGISTRY

from cvproto.buildbucket.v2 import build_pb2, builds_service_pb2, notification_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.times import to_timestamp
from runs import actions as run_actions
from runs.ids import RunID
from runs.models import CL, Run, RunCL, RunStatus, Verifier
from runs.serializers import set_served_message
from tryjobs import external_id as eid
from tryjobs import operations, serializers
from tryjobs.backend import LaunchCL, LaunchRequest, get_backend
from tryjobs.buildbucket import messages, pubsub
from tryjobs.buildbucket.client import BuildsClient
from tryjobs.buildbucket.fake_server import FakeBuildbucket
from tryjobs.models import Tryjob
from tryjobs.updates import TryjobUpdate, record_tryjob_updates

NOTIFICATIONS = 10_000
BUILDERS = 20
# Both sides take their best of this many: the launch is wall time across two threads (the
# fake serves in this process), and a best of 10 swung by 10-15% from one run to the next.
LAUNCHES = 30
PUSH_GOAL = 0.5
LAUNCH_GOAL = 2.0
HOST = "cr-buildbucket.appspot.com"
TOKEN = "bench-push-token"
CREATED = datetime.now(UTC) - timedelta(hours=1)
PROJECT = "bench-buildbucket"


def definition(i: int) -> tryjob_pb.Definition:
    msg = tryjob_pb.Definition(critical=True)
    msg.buildbucket.host = HOST
    msg.buildbucket.builder.project = PROJECT
    msg.buildbucket.builder.bucket = "try"
    msg.buildbucket.builder.builder = f"builder-{i}"
    return msg


def make_tryjobs(first_build_id: int) -> list[int]:
    build_ids = [first_build_id + i for i in range(NOTIFICATIONS)]
    rows = []
    for build_id in build_ids:
        result = tryjob_pb.Result(status=tryjob_pb.Result.UNKNOWN)
        result.create_time.CopyFrom(to_timestamp(CREATED))
        result.update_time.CopyFrom(to_timestamp(CREATED))
        result.buildbucket.id = build_id
        result.buildbucket.status = 2
        rows.append(
            Tryjob(
                **serializers.tryjob_columns(
                    definition=definition(0),
                    status=tryjob_pb.TRIGGERED,
                    external_id=eid.buildbucket_external_id(HOST, build_id),
                    result=result,
                ),
                reuse_key="bench",
                create_time=CREATED,
                update_time=CREATED,
                eversion=1,
            )
        )
    Tryjob.objects.bulk_create(rows, batch_size=1000)
    return build_ids


def delivery(build_id: int) -> bytes:
    build = build_pb2.Build(id=build_id, status=12, summary_markdown="All tests passed")
    build.builder.CopyFrom(definition(0).buildbucket.builder)
    build.create_time.CopyFrom(to_timestamp(CREATED))
    build.update_time.CopyFrom(to_timestamp(CREATED + timedelta(minutes=30)))
    build.end_time.CopyFrom(build.update_time)
    build.infra.buildbucket.hostname = HOST
    large = build_pb2.Build()
    large.output.properties.update({"$recipe_engine/cq/output": {"retry": "OUTPUT_RETRY_DENIED"}})
    payload = notification_pb2.BuildsV2PubSub(
        build=build, build_large_fields=zlib.compress(large.SerializeToString())
    )
    data = base64.b64encode(json_format.MessageToJson(payload).encode()).decode()
    return json.dumps({"message": {"data": data, "attributes": {"version": "v2"}}}).encode()


def bench_push() -> None:
    pushed = [delivery(b) for b in make_tryjobs(7_000_000_000_000_000_000)]
    direct = [delivery(b) for b in make_tryjobs(7_100_000_000_000_000_000)]
    client = Client()
    with override_settings(BUILDBUCKET_PUSH_TOKEN=TOKEN):
        start = time.perf_counter()
        for body in pushed:
            response = client.post(
                "/pubsub/buildbucket",
                data=body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
            )
            assert response.status_code == 200, response.content
        push_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for body in direct:
        notification = pubsub.decode_push(body)
        parsed = messages.parse_build(notification.build)
        external_id = eid.buildbucket_external_id(notification.host, notification.build_id)
        record_tryjob_updates([TryjobUpdate(external_id, parsed.status, parsed.result)])
    direct_seconds = time.perf_counter() - start
    assert Tryjob.objects.filter(status=tryjob_pb.ENDED).count() == 2 * NOTIFICATIONS
    push_rate, direct_rate = NOTIFICATIONS / push_seconds, NOTIFICATIONS / direct_seconds
    ratio = push_rate / direct_rate
    verdict = "meets" if ratio >= PUSH_GOAL else "misses"
    print(
        f"buildbucket push: {NOTIFICATIONS} notifications: endpoint {push_rate:.0f}/s, "
        f"direct decode+store {direct_rate:.0f}/s; ratio {ratio:.2f} "
        f"({verdict} goal >= {PUSH_GOAL})"
    )


def make_run(n: int) -> Run:
    run_actions.set_project_verifier(PROJECT, Verifier.CVSITE, "bench")
    key = f"{n:016x}"
    run = Run.objects.create(
        id=str(RunID.new(PROJECT, CREATED + timedelta(seconds=n), key)),
        project=PROJECT,
        cqd_attempt_key=key,
        status=RunStatus.RUNNING,
        mode="DRY_RUN",
        create_time=CREATED,
    )
    cl = CL.objects.create(
        host="bench-review.googlesource.com",
        change=800_000 + n,
        patchset=3,
        min_equivalent_patchset=3,
        info=b"",
    )
    run_cl = RunCL(
        run=run,
        cl=cl,
        position=0,
        trigger_time=CREATED,
        trigger_mode="DRY_RUN",
        trigger_account_id=1,
        patchset=3,
        min_equivalent_patchset=3,
        info=b"",
    )
    set_served_message(run_cl).save()
    return run


def launch_seconds() -> float:
    """The time this process's launches of PROJECT took so far (tryjobs.launching's
    LAUNCH_DURATION, as a scrape reads it)."""
    sample = "cvsite_tryjob_launch_duration_seconds_sum"
    return REGISTRY.get_sample_value(sample, {"project": PROJECT}) or 0.0


def bench_launch() -> None:
    requirement = tryjob_pb.Requirement(definitions=[definition(i) for i in range(BUILDERS)])
    with (
        FakeBuildbucket(host=HOST) as fake,
        override_settings(
            TRYJOB_BACKEND="tryjobs.buildbucket.backend.BuildbucketBackend",
            BUILDBUCKET_URL_OVERRIDES={HOST: fake.url},
            BUILDBUCKET_TOKEN_FILE=None,
        ),
    ):
        get_backend.cache_clear()
        try:
            passes, launches, batches = [], [], []
            client = BuildsClient(HOST)
            cl = LaunchCL("bench-review.googlesource.com", 1, 3, "", "bench")
            for n in range(LAUNCHES):
                run = make_run(n)
                launched_before = launch_seconds()
                start = time.perf_counter()
                operations.set_requirement(run.id, requirement, "bench")
                passes.append(time.perf_counter() - start)
                launches.append(launch_seconds() - launched_before)
                batch = builds_service_pb2.BatchRequest()
                for i in range(BUILDERS):
                    request = LaunchRequest(
                        tryjob_id=10_000_000 + n * BUILDERS + i,
                        definition=definition(i),
                        run_id=run.id,
                        mode="DRY_RUN",
                        owner="",
                        attempt_key=run.cqd_attempt_key,
                        cls=(cl,),
                    )
                    batch.requests.add().schedule_build.CopyFrom(
                        messages.schedule_build_request(request)
                    )
                start = time.perf_counter()
                client.batch(batch)
                batches.append(time.perf_counter() - start)
            assert len(fake.builds) == 2 * BUILDERS * LAUNCHES
            assert all(launches), "a pass launched without its launch being timed"
        finally:
            get_backend.cache_clear()
    launch, whole_pass, batch_time = min(launches), min(passes), min(batches)
    ratio = launch / batch_time
    verdict = "meets" if ratio <= LAUNCH_GOAL else "misses"
    print(
        f"buildbucket launch: {BUILDERS} builders: the launch {launch * 1e3:.1f} ms, "
        f"the fake's Batch alone {batch_time * 1e3:.1f} ms; ratio {ratio:.2f} "
        f"({verdict} goal <= {LAUNCH_GOAL})"
    )
    print(
        f"buildbucket launch: the whole set_requirement pass around it "
        f"{whole_pass * 1e3:.1f} ms; ratio {whole_pass / batch_time:.2f} to the Batch"
    )


def run() -> None:
    bench_push()
    bench_launch()
