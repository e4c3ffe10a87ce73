"""Properties of the executor over random histories of tryjob updates and requirement changes.

A fake world keeps the tryjobs; each step is a tryjob update (any status the backend may
report, finality not enforced, as upstream's updater does), a requirement change (possibly
stale) or an empty batch, and every plan is carried out with random outcomes (launched,
launched already ended, failed to launch, reused from another run, the run's own tryjob
found again). After every step the state must be storable and obey the invariants below.
"""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvproto.cv.internal.tryjob import storage_pb2 as pb
from tryjobs import serializers
from tryjobs.definitions import definition_key
from tryjobs.executor import (
    Launched,
    LaunchFailed,
    Reused,
    drive,
    on_requirement,
    on_tryjobs_updated,
)
from tryjobs.tests.test_executor_support import (
    CANCELLED,
    ENDED,
    NOW,
    OTHER_RUN,
    PENDING,
    RC_A,
    RC_B,
    RUN,
    SUCCEEDED,
    TRIGGERED,
    UNKNOWN,
    UNTRIGGERED,
    Output,
    RetryConfig,
    State,
    defn,
    eid_of,
    requirement,
)
from tryjobs.views import TryjobView

BUILDERS = ["b0", "b1", "b2", "b3"]
RETRY_CONFIGS = [
    None,
    RetryConfig(),
    RC_A,
    RC_B,
    RetryConfig(single_quota=1, global_quota=2, failure_weight=1),
    RetryConfig(single_quota=5, global_quota=8),  # zero weights
]
FINAL_RESULTS = [
    SUCCEEDED,
    pb.Result.FAILED_PERMANENTLY,
    pb.Result.FAILED_TRANSIENTLY,
    pb.Result.TIMEOUT,
]
TERMINAL = (State.SUCCEEDED, State.FAILED)


@st.composite
def definitions(draw):
    chosen = draw(st.lists(st.sampled_from(BUILDERS), unique=True, max_size=4))
    return [
        defn(
            name,
            critical=draw(st.booleans()),
            disable_reuse=draw(st.booleans()),
            equivalent=draw(st.sampled_from(["", name + "-eq"])),
        )
        for name in chosen
    ]


@st.composite
def results(draw, status, now):
    result = pb.Result(status=status)
    result.create_time.FromDatetime(now - timedelta(minutes=draw(st.integers(0, 60 * 30))))
    if draw(st.booleans()):
        result.output.retry = draw(st.sampled_from(Output.Retry.values()))
    if draw(st.booleans()):
        result.output.SetInParent()
        result.output.reusability.mode_allowlist.extend(
            draw(st.sampled_from([[], ["DRY_RUN"], ["FULL_RUN"], ["FULL_RUN", "DRY_RUN"]]))
        )
    return result


class World:
    """The tryjobs the backend knows, by ID."""

    def __init__(self, data):
        self.data = data
        self.tryjobs: dict[int, TryjobView] = {}
        self.next_id = 1
        self.now = NOW

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def put(self, tryjob: TryjobView) -> TryjobView:
        self.tryjobs[tryjob.id] = tryjob
        return tryjob

    def random_status(self, tryjob_id: int, allow_pending: bool = False):
        draw = self.data.draw
        choices = [TRIGGERED, ENDED, CANCELLED, UNTRIGGERED] + ([PENDING] if allow_pending else [])
        status = draw(st.sampled_from(choices))
        external_id = eid_of(tryjob_id) if status in (TRIGGERED, ENDED, CANCELLED) else ""
        result = None
        if status == TRIGGERED and draw(st.booleans()):
            result = draw(results(UNKNOWN, self.now))
        elif status == ENDED:
            result = draw(results(draw(st.sampled_from(FINAL_RESULTS)), self.now))
        elif status == CANCELLED and draw(st.booleans()):
            result = draw(results(UNKNOWN, self.now))  # the cancellator's leftover
        return status, external_id, result

    def start(self, plan):
        """Carries out a plan with random outcomes."""
        draw = self.data.draw
        outcomes = []
        for item in plan.attempts:
            kind = draw(st.sampled_from(["launch", "launch", "fail", "reuse", "own"]))
            tryjob_id = self.new_id()
            if kind == "fail":
                tryjob = TryjobView(
                    id=tryjob_id,
                    status=UNTRIGGERED,
                    definition=item.definition,
                    launched_by=RUN.id,
                    untriggered_reason="received PermissionDenied from buildbucket",
                )
                outcomes.append(LaunchFailed(self.put(tryjob)))
                continue
            status = draw(st.sampled_from([TRIGGERED, ENDED]))
            result = draw(
                results(
                    UNKNOWN if status == TRIGGERED else draw(st.sampled_from(FINAL_RESULTS)),
                    self.now,
                )
            )
            if kind in ("reuse", "own") and not item.reuse_allowed:
                kind = "launch"
            if kind == "reuse":
                status = draw(st.sampled_from([PENDING, TRIGGERED, ENDED]))
                result = {
                    PENDING: None,
                    TRIGGERED: draw(results(UNKNOWN, self.now)),
                    ENDED: draw(results(SUCCEEDED, self.now)),
                }[status]
                launched_by, reused_by = OTHER_RUN, (RUN.id,)
            elif kind == "own":
                launched_by, reused_by = RUN.id, (RUN.id,)
            else:
                launched_by, reused_by = RUN.id, ()
            tryjob = TryjobView(
                id=tryjob_id,
                status=status,
                external_id=eid_of(tryjob_id) if status != PENDING else "",
                definition=item.definition,
                result=result,
                launched_by=launched_by,
                reused_by=reused_by,
            )
            self.put(tryjob)
            if kind in ("reuse", "own"):
                outcomes.append(Reused(tryjob))
            else:
                outcomes.append(Launched(tryjob, round=draw(st.integers(1, 2))))
        return outcomes

    def succeed(self, tryjob_id: int) -> TryjobView:
        old = self.tryjobs[tryjob_id]
        result = pb.Result(status=SUCCEEDED)
        result.create_time.FromDatetime(self.now)
        return self.put(
            TryjobView(
                id=old.id,
                status=ENDED,
                external_id=eid_of(old.id),
                definition=old.definition,
                result=result,
                launched_by=old.launched_by,
                reused_by=old.reused_by,
            )
        )

    def update(self, tryjob_id: int) -> TryjobView:
        old = self.tryjobs[tryjob_id]
        status, external_id, result = self.random_status(tryjob_id)
        return self.put(
            TryjobView(
                id=old.id,
                status=status,
                external_id=external_id,
                definition=old.definition,
                result=result,
                launched_by=old.launched_by,
                reused_by=old.reused_by,
            )
        )


def check_invariants(previous: State | None, step, last_time):
    state = step.state
    # Storable, always.
    serializers.execution_state_rows("p/1", state)
    for i, entry in enumerate(step.log_entries):
        serializers.log_entry_row("p/1", 1, entry, f"entries[{i}]")
    # FAILED always says why.
    if state.status == State.FAILED:
        assert state.HasField("failures")
        assert state.failures.launch_failures or state.failures.unsuccessful_results
    # end_time exactly when terminal.
    assert state.HasField("end_time") == (state.status in TERMINAL)
    assert not step.plan.attempts
    if previous is not None:
        # A terminal state never changes again.
        if previous.status in TERMINAL:
            assert state == previous
            assert not step.log_entries
        # used_quota never decreases (per definition, across requirement changes).
        before = {
            definition_key(d): e.used_quota
            for d, e in zip(previous.requirement.definitions, previous.executions, strict=True)
        }
        for d, e in zip(state.requirement.definitions, state.executions, strict=True):
            assert e.used_quota >= before.get(definition_key(d), 0)
    # Log times never go backwards.
    for entry in step.log_entries:
        time = entry.time.ToDatetime().replace(tzinfo=NOW.tzinfo)
        assert last_time is None or time >= last_time
        last_time = time
    # Never SUCCEEDED while a critical execution's latest attempt has not succeeded.
    if state.status == State.SUCCEEDED:
        for d, e in zip(state.requirement.definitions, state.executions, strict=True):
            if d.critical:
                latest = e.attempts[-1]
                assert latest.status == ENDED and latest.result.status == SUCCEEDED, d
    return last_time


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_histories_keep_the_invariants(data):
    world = World(data)
    version = 1
    initial = requirement(
        *data.draw(definitions()), retry=data.draw(st.sampled_from(RETRY_CONFIGS))
    )
    step = drive(
        on_requirement(None, RUN, initial, version, world.now), RUN, world.now, world.start
    )
    last_time = check_invariants(None, step, None)
    for _ in range(data.draw(st.integers(1, 12))):
        previous = step.state
        world.now += timedelta(seconds=data.draw(st.integers(0, 3600)))
        action = data.draw(st.sampled_from(["update", "update", "update", "requirement", "none"]))
        if action == "requirement":
            version += data.draw(st.sampled_from([-1, 0, 1, 1, 2]))
            version = max(version, 1)
            new = requirement(
                *data.draw(definitions()), retry=data.draw(st.sampled_from(RETRY_CONFIGS))
            )
            first = on_requirement(previous, RUN, new, version, world.now)
        else:
            ids = [a.tryjob_id for e in previous.executions for a in e.attempts]
            batch = []
            if action == "update" and ids:
                chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3))
                batch = [world.update(i) for i in chosen]
            first = on_tryjobs_updated(previous, RUN, batch, world.now)
        step = drive(first, RUN, world.now, world.start)
        last_time = check_invariants(previous, step, last_time)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_terminal_state_ignores_everything(data):
    world = World(data)
    step = drive(
        on_requirement(None, RUN, requirement(*data.draw(definitions())), 1, world.now),
        RUN,
        world.now,
        world.start,
    )
    rounds = 0
    while step.state.status not in TERMINAL:
        rounds += 1
        latest = [e.attempts[-1].tryjob_id for e in step.state.executions]
        world.now += timedelta(minutes=1)
        if rounds <= 5:
            batch = [world.update(i) for i in latest]
        else:  # random updates may keep it running: end it
            batch = [world.succeed(i) for i in latest]
        step = drive(
            on_tryjobs_updated(step.state, RUN, batch, world.now), RUN, world.now, world.start
        )
        assert rounds < 50
    final = step.state
    world.now += timedelta(minutes=1)
    ids = [a.tryjob_id for e in final.executions for a in e.attempts]
    again = on_tryjobs_updated(final, RUN, [world.update(i) for i in ids], world.now)
    assert (again.state, again.log_entries, again.noop) == (final, (), True)
    changed = on_requirement(final, RUN, requirement(*data.draw(definitions())), 99, world.now)
    assert (changed.state, changed.log_entries, changed.noop) == (final, (), True)
