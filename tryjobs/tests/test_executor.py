"""The pure executor, scenario by scenario (tryjob_semantics.md §3-§6).

Every scenario states the whole expected state, every log entry (kind, order, contents) and
the whole plan; every resulting state must also be storable by the serializers.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from cvproto.cv.internal.tryjob import storage_pb2 as pb
from tryjobs import executor, serializers
from tryjobs.definitions import DuplicateDefinitionError
from tryjobs.executor import (
    Discard,
    Launched,
    LaunchFailed,
    Plan,
    Reused,
    Step,
    apply_outcomes,
    drive,
    on_requirement,
    on_tryjobs_updated,
)
from tryjobs.retry import (
    EXPLICITLY_DENIED,
    INSUFFICIENT_GLOBAL_QUOTA,
    INSUFFICIENT_QUOTA,
    RETRY_NOT_ENABLED,
)
from tryjobs.tests.test_executor_support import (
    CANCELLED,
    ENDED,
    FAILED_PERMANENTLY,
    FAILED_TRANSIENTLY,
    NO_REUSE,
    NOW,
    ONE,
    OPT,
    OTHER_RUN,
    PENDING,
    RC_A,
    RC_B,
    RUN,
    SUCCEEDED,
    TIMEOUT,
    TRIGGERED,
    UNKNOWN,
    UNTRIGGERED,
    ZERO,
    Output,
    RetryConfig,
    State,
    att,
    defn,
    eid_of,
    ended,
    ex,
    request,
    requirement,
    requirement_changed,
    res,
    retry_denied,
    running,
    show,
    snap,
    state,
    tj,
    tryjob_discarded,
    tryjobs_ended,
    tryjobs_launch_failed,
    tryjobs_launched,
    tryjobs_reused,
)

RUNNING_, FAILED_, SUCCEEDED_ = State.RUNNING, State.FAILED, State.SUCCEEDED
OPT_CRITICAL = defn("optional-a", critical=True, optional=True)
ZERO_NO_REUSE = defn("builder-zero", disable_reuse=True)
DENIED_OUTPUT = Output.OUTPUT_RETRY_DENIED
LAUNCH_DENIED = "received PermissionDenied from buildbucket. message: no access to bucket"


@dataclass
class Scenario:
    name: str
    before: State | None
    act: Callable[[State | None], Step]
    state: State
    log: list = field(default_factory=list)
    plan: tuple = ()
    discards: tuple = ()
    noop: bool = False


def new_requirement(req: pb.Requirement, version: int):
    return lambda s: on_requirement(s, RUN, req, version, NOW)


def update(*tryjobs):
    return lambda s: on_tryjobs_updated(s, RUN, tryjobs, NOW)


def outcomes(plan: tuple, *results):
    return lambda s: apply_outcomes(s, RUN, Plan(plan), results, NOW)


def other(tryjob_id, status, definition, result=None):
    """A tryjob another run launched and this run reuses."""
    return tj(tryjob_id, status, definition, result, launched_by=OTHER_RUN, reused_by=(RUN.id,))


SCENARIOS = [
    # Requirement changes (§3.4, §5) ------------------------------------------------------------
    Scenario(
        "first requirement: every definition planned, nothing logged",
        None,
        new_requirement(requirement(ZERO, NO_REUSE, OPT, retry=RC_A), 1),
        state([ZERO, NO_REUSE, OPT], [ex(), ex(), ex()], retry=RC_A),
        plan=(request(0, ZERO), request(1, NO_REUSE), request(2, OPT)),
    ),
    Scenario(
        "first requirement empty: SUCCEEDED at once",
        None,
        new_requirement(requirement(), 1),
        state([], [], status=SUCCEEDED_),
    ),
    Scenario(
        "first requirement on a state row without one",
        State(status=RUNNING_),
        new_requirement(requirement(ONE), 1),
        state([ONE], [ex()]),
        plan=(request(0, ONE),),
    ),
    Scenario(
        "requirement version below the state's (3 vs 2): no-op",
        state([ZERO], [ex(running(1))], version=3),
        new_requirement(requirement(ONE), 2),
        state([ZERO], [ex(running(1))], version=3),
        noop=True,
    ),
    Scenario(
        "requirement version equal to the state's: no-op",
        state([ZERO], [ex(running(1))], version=2),
        new_requirement(requirement(ONE), 2),
        state([ZERO], [ex(running(1))], version=2),
        noop=True,
    ),
    Scenario(
        "terminal state ignores a new requirement",
        state([ZERO], [ex(ended(1, SUCCEEDED))], status=SUCCEEDED_),
        new_requirement(requirement(ONE), 2),
        state([ZERO], [ex(ended(1, SUCCEEDED))], status=SUCCEEDED_),
        noop=True,
    ),
    Scenario(
        "added definition planned, existing execution kept",
        state([ZERO], [ex(running(1))], retry=RC_A),
        new_requirement(requirement(ZERO, ONE, retry=RC_A), 2),
        state([ZERO, ONE], [ex(running(1)), ex()], retry=RC_A, version=2),
        [requirement_changed()],
        plan=(request(1, ONE, known=(1,)),),
    ),
    Scenario(
        "removed definition: discarded and left running",
        state([ZERO, ONE], [ex(running(1)), ex(running(2, reused=True))]),
        new_requirement(requirement(ZERO), 2),
        state([ZERO], [ex(running(1))], version=2),
        [requirement_changed(), tryjob_discarded(snap(running(2, reused=True), ONE))],
        discards=(Discard(definition=ONE, tryjob_id=2, external_id=eid_of(2)),),
    ),
    Scenario(
        "removed definition without attempts: nothing discarded",
        state([ZERO, ONE], [ex(running(1)), ex()]),
        new_requirement(requirement(ZERO), 2),
        state([ZERO], [ex(running(1))], version=2),
        [requirement_changed()],
    ),
    Scenario(
        "changed definition and retry config: attempts and quota kept, nothing relaunched",
        state(
            [ZERO, ONE],
            [ex(ended(1, FAILED_TRANSIENTLY), running(2), used=1), ex(running(3))],
            retry=RC_A,
        ),
        new_requirement(requirement(ZERO_NO_REUSE, ONE, retry=RC_B), 2),
        state(
            [ZERO_NO_REUSE, ONE],
            [ex(ended(1, FAILED_TRANSIENTLY), running(2), used=1), ex(running(3))],
            retry=RC_B,
            version=2,
        ),
        [requirement_changed()],
    ),
    Scenario(
        "QUIRK fixed: removing the last running critical definition SUCCEEDS",
        state([ZERO, ONE], [ex(ended(1, SUCCEEDED)), ex(running(2))]),
        new_requirement(requirement(ZERO), 2),
        state([ZERO], [ex(ended(1, SUCCEEDED))], status=SUCCEEDED_, version=2),
        [requirement_changed(), tryjob_discarded(snap(running(2), ONE))],
        discards=(Discard(definition=ONE, tryjob_id=2, external_id=eid_of(2)),),
    ),
    Scenario(
        "definition made critical with a failed latest attempt: retried at once",
        state([ZERO, OPT], [ex(running(1)), ex(ended(2, FAILED_TRANSIENTLY))], retry=RC_A),
        new_requirement(requirement(ZERO, OPT_CRITICAL, retry=RC_A), 2),
        state(
            [ZERO, OPT_CRITICAL],
            [ex(running(1)), ex(ended(2, FAILED_TRANSIENTLY), used=1)],
            retry=RC_A,
            version=2,
        ),
        [requirement_changed()],
        plan=(request(1, OPT_CRITICAL, 2, known=(1, 2)),),
    ),
    Scenario(
        "definition made critical with a failed latest attempt, retry off: FAILED",
        state([ZERO, OPT], [ex(running(1)), ex(ended(2, FAILED_PERMANENTLY))]),
        new_requirement(requirement(ZERO, OPT_CRITICAL), 2),
        state(
            [ZERO, OPT_CRITICAL],
            [ex(running(1)), ex(ended(2, FAILED_PERMANENTLY))],
            status=FAILED_,
            version=2,
            unsuccessful=(2,),
        ),
        [
            requirement_changed(),
            retry_denied(RETRY_NOT_ENABLED, snap(ended(2, FAILED_PERMANENTLY), OPT_CRITICAL)),
        ],
    ),
    Scenario(
        "definition made critical after its launch failed: relaunched",
        state([ZERO, OPT], [ex(running(1)), ex(att(2, UNTRIGGERED))]),
        new_requirement(requirement(ZERO, OPT_CRITICAL), 2),
        state([ZERO, OPT_CRITICAL], [ex(running(1)), ex(att(2, UNTRIGGERED))], version=2),
        [requirement_changed()],
        plan=(request(1, OPT_CRITICAL, 2, known=(1, 2), known_eids=(eid_of(1),)),),
    ),
    Scenario(
        "reordered requirement: executions follow the new order",
        state([ZERO, ONE], [ex(running(1)), ex(running(2), used=1)], retry=RC_A),
        new_requirement(requirement(ONE, ZERO, retry=RC_A), 2),
        state([ONE, ZERO], [ex(running(2), used=1), ex(running(1))], retry=RC_A, version=2),
        [requirement_changed()],
    ),
    Scenario(
        "every definition removed: SUCCEEDED, discards in the old order",
        state(
            [ZERO, ONE],
            [ex(running(1)), ex(ended(2, FAILED_TRANSIENTLY), running(3), used=1)],
            retry=RC_A,
        ),
        new_requirement(requirement(retry=RC_A), 2),
        state([], [], retry=RC_A, status=SUCCEEDED_, version=2),
        [
            requirement_changed(),
            tryjob_discarded(snap(running(1), ZERO)),
            tryjob_discarded(snap(running(3), ONE)),
        ],
        discards=(
            Discard(definition=ZERO, tryjob_id=1, external_id=eid_of(1)),
            Discard(definition=ONE, tryjob_id=3, external_id=eid_of(3)),
        ),
    ),
    # Tryjob updates (§3.3) ---------------------------------------------------------------------
    Scenario(
        "PENDING attempt triggered: refreshed, nothing logged",
        state([ZERO], [ex(att(1, PENDING))]),
        update(tj(1, TRIGGERED, ZERO, res(UNKNOWN))),
        state([ZERO], [ex(running(1))]),
    ),
    Scenario(
        "one critical succeeds while another runs: RUNNING",
        state([ZERO, ONE], [ex(running(1)), ex(running(2))]),
        update(tj(1, ENDED, ZERO, res(SUCCEEDED))),
        state([ZERO, ONE], [ex(ended(1, SUCCEEDED)), ex(running(2))]),
        [tryjobs_ended(snap(ended(1, SUCCEEDED), ZERO))],
    ),
    Scenario(
        "last critical succeeds: SUCCEEDED with end_time",
        state([ZERO, ONE], [ex(ended(1, SUCCEEDED)), ex(running(2))]),
        update(tj(2, ENDED, ONE, res(SUCCEEDED))),
        state([ZERO, ONE], [ex(ended(1, SUCCEEDED)), ex(ended(2, SUCCEEDED))], status=SUCCEEDED_),
        [tryjobs_ended(snap(ended(2, SUCCEEDED), ONE))],
    ),
    Scenario(
        "two critical end in one batch: one entry, in execution order",
        state([ZERO, ONE], [ex(running(1)), ex(running(2))]),
        update(tj(2, ENDED, ONE, res(SUCCEEDED)), tj(1, ENDED, ZERO, res(SUCCEEDED))),
        state([ZERO, ONE], [ex(ended(1, SUCCEEDED)), ex(ended(2, SUCCEEDED))], status=SUCCEEDED_),
        [tryjobs_ended(snap(ended(1, SUCCEEDED), ZERO), snap(ended(2, SUCCEEDED), ONE))],
    ),
    Scenario(
        "optional tryjob fails: logged, ignored",
        state([ZERO, OPT], [ex(running(1)), ex(running(2))], retry=RC_A),
        update(tj(2, ENDED, OPT, res(FAILED_PERMANENTLY))),
        state([ZERO, OPT], [ex(running(1)), ex(ended(2, FAILED_PERMANENTLY))], retry=RC_A),
        [tryjobs_ended(snap(ended(2, FAILED_PERMANENTLY), OPT))],
    ),
    Scenario(
        "every critical succeeded while an optional runs: SUCCEEDED",
        state([ZERO, OPT], [ex(running(1)), ex(running(2))]),
        update(tj(1, ENDED, ZERO, res(SUCCEEDED))),
        state([ZERO, OPT], [ex(ended(1, SUCCEEDED)), ex(running(2))], status=SUCCEEDED_),
        [tryjobs_ended(snap(ended(1, SUCCEEDED), ZERO))],
    ),
    Scenario(
        "QUIRK fixed: CANCELLED critical is a failure, retried at the transient weight",
        state([ZERO, ONE], [ex(running(1)), ex(running(2))], retry=RC_A),
        update(tj(1, CANCELLED, ZERO)),
        state([ZERO, ONE], [ex(att(1, CANCELLED), used=1), ex(running(2))], retry=RC_A),
        [tryjobs_ended(snap(att(1, CANCELLED), ZERO))],
        plan=(request(0, ZERO, 2, known=(1, 2)),),
    ),
    Scenario(
        "QUIRK fixed: CANCELLED critical with retry off fails the run",
        state([ZERO, ONE], [ex(running(1)), ex(ended(2, SUCCEEDED))]),
        update(tj(1, CANCELLED, ZERO)),
        state(
            [ZERO, ONE],
            [ex(att(1, CANCELLED)), ex(ended(2, SUCCEEDED))],
            status=FAILED_,
            unsuccessful=(1,),
        ),
        [
            tryjobs_ended(snap(att(1, CANCELLED), ZERO)),
            retry_denied(RETRY_NOT_ENABLED, snap(att(1, CANCELLED), ZERO)),
        ],
    ),
    Scenario(
        "QUIRK fixed: a CANCELLED tryjob's leftover result is not kept",
        state([ZERO, OPT], [ex(running(1)), ex(running(2))]),
        update(tj(2, CANCELLED, OPT, res(UNKNOWN))),
        state([ZERO, OPT], [ex(running(1)), ex(att(2, CANCELLED))]),
        [tryjobs_ended(snap(att(2, CANCELLED), OPT))],
    ),
    Scenario(
        "reused running tryjob whose recipe excludes the run's mode: new attempt, no log",
        state([ZERO, OPT], [ex(running(1)), ex(running(2, reused=True))]),
        update(other(2, TRIGGERED, OPT, res(UNKNOWN, modes=("FULL_RUN",)))),
        state(
            [ZERO, OPT],
            [ex(running(1)), ex(att(2, TRIGGERED, res(UNKNOWN, modes=("FULL_RUN",)), True))],
        ),
        plan=(request(1, OPT, 2, known=(1, 2)),),
    ),
    Scenario(
        "reused running tryjob whose recipe allows the run's mode: nothing",
        state([ZERO, OPT], [ex(running(1)), ex(running(2, reused=True))]),
        update(other(2, TRIGGERED, OPT, res(UNKNOWN, modes=("FULL_RUN", "DRY_RUN")))),
        state(
            [ZERO, OPT],
            [
                ex(running(1)),
                ex(att(2, TRIGGERED, res(UNKNOWN, modes=("FULL_RUN", "DRY_RUN")), True)),
            ],
        ),
    ),
    Scenario(
        "own running tryjob whose recipe excludes the mode: not reused, nothing",
        state([ZERO], [ex(running(1))]),
        update(tj(1, TRIGGERED, ZERO, res(UNKNOWN, modes=("FULL_RUN",)))),
        state([ZERO], [ex(att(1, TRIGGERED, res(UNKNOWN, modes=("FULL_RUN",))))]),
    ),
    Scenario(
        "reused critical success in an excluded mode: logged, new attempt",
        state([ZERO], [ex(running(1, reused=True))], retry=RC_A),
        update(other(1, ENDED, ZERO, res(SUCCEEDED, modes=("FULL_RUN",)))),
        state([ZERO], [ex(att(1, ENDED, res(SUCCEEDED, modes=("FULL_RUN",)), True))], retry=RC_A),
        [tryjobs_ended(snap(att(1, ENDED, res(SUCCEEDED, modes=("FULL_RUN",)), True), ZERO))],
        plan=(request(0, ZERO, 2, known=(1,)),),
    ),
    Scenario(
        "reused tryjob that never triggered: new attempt",
        state([ZERO, OPT], [ex(running(1)), ex(att(2, PENDING, reused=True))]),
        update(other(2, UNTRIGGERED, OPT)),
        state([ZERO, OPT], [ex(running(1)), ex(att(2, UNTRIGGERED, reused=True))]),
        plan=(request(1, OPT, 2, known=(1, 2), known_eids=(eid_of(1),)),),
    ),
    Scenario(
        "own optional tryjob that never triggered: nothing",
        state([ZERO, OPT], [ex(running(1)), ex(att(2, PENDING))]),
        update(tj(2, UNTRIGGERED, OPT, reason="received NotFound from buildbucket")),
        state([ZERO, OPT], [ex(running(1)), ex(att(2, UNTRIGGERED))]),
    ),
    Scenario(
        "update of a tryjob no execution holds (removed definition): ignored",
        state([ZERO], [ex(running(1))]),
        update(tj(9, ENDED, ONE, res(FAILED_PERMANENTLY))),
        state([ZERO], [ex(running(1))]),
    ),
    Scenario(
        "update of an earlier attempt: copied silently",
        state([ZERO], [ex(ended(1, FAILED_TRANSIENTLY), running(2), used=1)], retry=RC_A),
        update(tj(1, ENDED, ZERO, res(FAILED_PERMANENTLY))),
        state([ZERO], [ex(ended(1, FAILED_PERMANENTLY), running(2), used=1)], retry=RC_A),
    ),
    Scenario(
        "refreshed result of an ENDED tryjob: logged again",
        state([ZERO, ONE], [ex(ended(1, SUCCEEDED)), ex(running(2))]),
        update(tj(1, ENDED, ZERO, res(SUCCEEDED, builder="builder-zero"))),
        state([ZERO, ONE], [ex(ended(1, SUCCEEDED, builder="builder-zero")), ex(running(2))]),
        [tryjobs_ended(snap(ended(1, SUCCEEDED, builder="builder-zero"), ZERO))],
    ),
    Scenario(
        "terminal state ignores later updates",
        state([ZERO], [ex(ended(1, FAILED_PERMANENTLY))], status=FAILED_, unsuccessful=(1,)),
        update(tj(1, ENDED, ZERO, res(SUCCEEDED))),
        state([ZERO], [ex(ended(1, FAILED_PERMANENTLY))], status=FAILED_, unsuccessful=(1,)),
        noop=True,
    ),
    Scenario(
        "no state yet: an update is a no-op (upstream would SUCCEED it)",
        None,
        update(tj(1, ENDED, ZERO, res(SUCCEEDED))),
        State(status=RUNNING_),
        noop=True,
    ),
    Scenario(
        "critical failure fails the state while another critical still runs",
        state([ZERO, ONE], [ex(running(1)), ex(running(2))]),
        update(tj(1, ENDED, ZERO, res(FAILED_PERMANENTLY))),
        state(
            [ZERO, ONE],
            [ex(ended(1, FAILED_PERMANENTLY)), ex(running(2))],
            status=FAILED_,
            unsuccessful=(1,),
        ),
        [
            tryjobs_ended(snap(ended(1, FAILED_PERMANENTLY), ZERO)),
            retry_denied(RETRY_NOT_ENABLED, snap(ended(1, FAILED_PERMANENTLY), ZERO)),
        ],
    ),
    Scenario(
        "denied batch drops the attempts it planned",
        state([ZERO, OPT], [ex(running(1)), ex(running(2, reused=True))], retry=RC_A),
        update(
            tj(1, ENDED, ZERO, res(FAILED_PERMANENTLY)),
            other(2, TRIGGERED, OPT, res(UNKNOWN, modes=("FULL_RUN",))),
        ),
        state(
            [ZERO, OPT],
            [
                ex(ended(1, FAILED_PERMANENTLY), used=3),
                ex(att(2, TRIGGERED, res(UNKNOWN, modes=("FULL_RUN",)), True)),
            ],
            retry=RC_A,
            status=FAILED_,
            unsuccessful=(1,),
        ),
        [
            tryjobs_ended(snap(ended(1, FAILED_PERMANENTLY), ZERO)),
            retry_denied(INSUFFICIENT_QUOTA, snap(ended(1, FAILED_PERMANENTLY), ZERO)),
        ],
    ),
    Scenario(
        "allowed retry and a relaunch planned together, in execution order",
        state([ZERO, OPT], [ex(running(1)), ex(running(2, reused=True))], retry=RC_A),
        update(
            other(2, TRIGGERED, OPT, res(UNKNOWN, modes=("FULL_RUN",))),
            tj(1, ENDED, ZERO, res(FAILED_TRANSIENTLY)),
        ),
        state(
            [ZERO, OPT],
            [
                ex(ended(1, FAILED_TRANSIENTLY), used=1),
                ex(att(2, TRIGGERED, res(UNKNOWN, modes=("FULL_RUN",)), True)),
            ],
            retry=RC_A,
        ),
        [tryjobs_ended(snap(ended(1, FAILED_TRANSIENTLY), ZERO))],
        plan=(request(0, ZERO, 2, known=(1, 2)), request(1, OPT, 2, known=(1, 2))),
    ),
    Scenario(
        "empty batch on a state with an execution lacking attempts: planned",
        state([ZERO, ONE], [ex(running(1)), ex()]),
        update(),
        state([ZERO, ONE], [ex(running(1)), ex()]),
        plan=(request(1, ONE, known=(1,)),),
    ),
    # Retry arithmetic: the worked examples of §4.3 and their derivations -----------------------
    Scenario(
        "§4.3 no retry config: denied, no quota used",
        state([ZERO, ONE], [ex(running(1)), ex(running(2))]),
        update(tj(1, ENDED, ZERO, res(FAILED_TRANSIENTLY))),
        state(
            [ZERO, ONE],
            [ex(ended(1, FAILED_TRANSIENTLY)), ex(running(2))],
            status=FAILED_,
            unsuccessful=(1,),
        ),
        [
            tryjobs_ended(snap(ended(1, FAILED_TRANSIENTLY), ZERO)),
            retry_denied(RETRY_NOT_ENABLED, snap(ended(1, FAILED_TRANSIENTLY), ZERO)),
        ],
    ),
    Scenario(
        "§4.3 all-zero retry config: denied, no quota used",
        state([ZERO, ONE], [ex(running(1)), ex(running(2))], retry=RetryConfig()),
        update(tj(1, ENDED, ZERO, res(FAILED_TRANSIENTLY))),
        state(
            [ZERO, ONE],
            [ex(ended(1, FAILED_TRANSIENTLY)), ex(running(2))],
            retry=RetryConfig(),
            status=FAILED_,
            unsuccessful=(1,),
        ),
        [
            tryjobs_ended(snap(ended(1, FAILED_TRANSIENTLY), ZERO)),
            retry_denied(RETRY_NOT_ENABLED, snap(ended(1, FAILED_TRANSIENTLY), ZERO)),
        ],
    ),
    Scenario(
        "§4.3 RC-A transient failure: retried, zero=1",
        state([ZERO, ONE], [ex(running(345)), ex(running(567))], retry=RC_A),
        update(tj(345, ENDED, ZERO, res(FAILED_TRANSIENTLY))),
        state(
            [ZERO, ONE], [ex(ended(345, FAILED_TRANSIENTLY), used=1), ex(running(567))], retry=RC_A
        ),
        [tryjobs_ended(snap(ended(345, FAILED_TRANSIENTLY), ZERO))],
        plan=(request(0, ZERO, 2, known=(345, 567)),),
    ),
    Scenario(
        "§4.3 RC-A permanent failure: 3 > 2, insufficient quota",
        state([ZERO, ONE], [ex(running(345)), ex(running(567))], retry=RC_A),
        update(tj(345, ENDED, ZERO, res(FAILED_PERMANENTLY))),
        state(
            [ZERO, ONE],
            [ex(ended(345, FAILED_PERMANENTLY), used=3), ex(running(567))],
            retry=RC_A,
            status=FAILED_,
            unsuccessful=(345,),
        ),
        [
            tryjobs_ended(snap(ended(345, FAILED_PERMANENTLY), ZERO)),
            retry_denied(INSUFFICIENT_QUOTA, snap(ended(345, FAILED_PERMANENTLY), ZERO)),
        ],
    ),
    Scenario(
        "§4.3 RC-A two timeouts: 2 each, total 4 > 3, insufficient global quota",
        state([ZERO, ONE], [ex(running(345)), ex(running(567))], retry=RC_A),
        update(tj(345, ENDED, ZERO, res(TIMEOUT)), tj(567, ENDED, ONE, res(TIMEOUT))),
        state(
            [ZERO, ONE],
            [ex(ended(345, TIMEOUT), used=2), ex(ended(567, TIMEOUT), used=2)],
            retry=RC_A,
            status=FAILED_,
            unsuccessful=(345, 567),
        ),
        [
            tryjobs_ended(snap(ended(345, TIMEOUT), ZERO), snap(ended(567, TIMEOUT), ONE)),
            retry_denied(
                INSUFFICIENT_GLOBAL_QUOTA,
                snap(ended(345, TIMEOUT), ZERO),
                snap(ended(567, TIMEOUT), ONE),
            ),
        ],
    ),
    Scenario(
        "§4.3 RC-A reused permanent failure: retried free",
        state([ZERO, ONE], [ex(running(345, reused=True)), ex(running(567))], retry=RC_A),
        update(other(345, ENDED, ZERO, res(FAILED_PERMANENTLY))),
        state(
            [ZERO, ONE],
            [ex(ended(345, FAILED_PERMANENTLY, reused=True)), ex(running(567))],
            retry=RC_A,
        ),
        [tryjobs_ended(snap(ended(345, FAILED_PERMANENTLY, reused=True), ZERO))],
        plan=(request(0, ZERO, 2, known=(345, 567)),),
    ),
    Scenario(
        "§4.3 RC-A output denies retry: denied, no quota used",
        state([ZERO, ONE], [ex(running(345)), ex(running(567))], retry=RC_A),
        update(tj(345, ENDED, ZERO, res(FAILED_TRANSIENTLY, retry=DENIED_OUTPUT))),
        state(
            [ZERO, ONE],
            [ex(ended(345, FAILED_TRANSIENTLY, retry=DENIED_OUTPUT)), ex(running(567))],
            retry=RC_A,
            status=FAILED_,
            unsuccessful=(345,),
        ),
        [
            tryjobs_ended(snap(ended(345, FAILED_TRANSIENTLY, retry=DENIED_OUTPUT), ZERO)),
            retry_denied(
                EXPLICITLY_DENIED, snap(ended(345, FAILED_TRANSIENTLY, retry=DENIED_OUTPUT), ZERO)
            ),
        ],
    ),
    Scenario(
        "reused failure ignores its recipe's retry denial (kept)",
        state([ZERO, ONE], [ex(running(345, reused=True)), ex(running(567))], retry=RC_A),
        update(other(345, ENDED, ZERO, res(FAILED_PERMANENTLY, retry=DENIED_OUTPUT))),
        state(
            [ZERO, ONE],
            [
                ex(ended(345, FAILED_PERMANENTLY, reused=True, retry=DENIED_OUTPUT)),
                ex(running(567)),
            ],
            retry=RC_A,
        ),
        [
            tryjobs_ended(
                snap(ended(345, FAILED_PERMANENTLY, reused=True, retry=DENIED_OUTPUT), ZERO)
            )
        ],
        plan=(request(0, ZERO, 2, known=(345, 567)),),
    ),
    Scenario(
        "§4.3 RC-B transient failure: used 1, retried",
        state([ZERO, ONE], [ex(running(1)), ex(running(2))], retry=RC_B),
        update(tj(1, ENDED, ZERO, res(FAILED_TRANSIENTLY))),
        state([ZERO, ONE], [ex(ended(1, FAILED_TRANSIENTLY), used=1), ex(running(2))], retry=RC_B),
        [tryjobs_ended(snap(ended(1, FAILED_TRANSIENTLY), ZERO))],
        plan=(request(0, ZERO, 2, known=(1, 2)),),
    ),
    Scenario(
        "§4.3 RC-B permanent failure: 5 > 2, FAILED",
        state([ZERO, ONE], [ex(running(1)), ex(running(2))], retry=RC_B),
        update(tj(1, ENDED, ZERO, res(FAILED_PERMANENTLY))),
        state(
            [ZERO, ONE],
            [ex(ended(1, FAILED_PERMANENTLY), used=5), ex(running(2))],
            retry=RC_B,
            status=FAILED_,
            unsuccessful=(1,),
        ),
        [
            tryjobs_ended(snap(ended(1, FAILED_PERMANENTLY), ZERO)),
            retry_denied(INSUFFICIENT_QUOTA, snap(ended(1, FAILED_PERMANENTLY), ZERO)),
        ],
    ),
    Scenario(
        "§4.3 RC-B two transient failures in one batch: both retried",
        state([ZERO, ONE], [ex(running(1)), ex(running(2))], retry=RC_B),
        update(
            tj(1, ENDED, ZERO, res(FAILED_TRANSIENTLY)), tj(2, ENDED, ONE, res(FAILED_TRANSIENTLY))
        ),
        state(
            [ZERO, ONE],
            [ex(ended(1, FAILED_TRANSIENTLY), used=1), ex(ended(2, FAILED_TRANSIENTLY), used=1)],
            retry=RC_B,
        ),
        [
            tryjobs_ended(
                snap(ended(1, FAILED_TRANSIENTLY), ZERO), snap(ended(2, FAILED_TRANSIENTLY), ONE)
            )
        ],
        plan=(request(0, ZERO, 2, known=(1, 2)), request(1, ONE, 2, known=(1, 2))),
    ),
    Scenario(
        "§4.3 RC-A one execution, 1st transient failure: used 1, retried",
        state([ZERO], [ex(running(1))], retry=RC_A),
        update(tj(1, ENDED, ZERO, res(FAILED_TRANSIENTLY))),
        state([ZERO], [ex(ended(1, FAILED_TRANSIENTLY), used=1)], retry=RC_A),
        [tryjobs_ended(snap(ended(1, FAILED_TRANSIENTLY), ZERO))],
        plan=(request(0, ZERO, 2, known=(1,)),),
    ),
    Scenario(
        "§4.3 RC-A one execution, 2nd transient failure: used 2 (not > 2), retried",
        state([ZERO], [ex(ended(1, FAILED_TRANSIENTLY), running(2), used=1)], retry=RC_A),
        update(tj(2, ENDED, ZERO, res(FAILED_TRANSIENTLY))),
        state(
            [ZERO],
            [ex(ended(1, FAILED_TRANSIENTLY), ended(2, FAILED_TRANSIENTLY), used=2)],
            retry=RC_A,
        ),
        [tryjobs_ended(snap(ended(2, FAILED_TRANSIENTLY), ZERO))],
        plan=(request(0, ZERO, 3, known=(1, 2)),),
    ),
    Scenario(
        "§4.3 RC-A one execution, 3rd transient failure: used 3 > 2, FAILED",
        state(
            [ZERO],
            [ex(ended(1, FAILED_TRANSIENTLY), ended(2, FAILED_TRANSIENTLY), running(3), used=2)],
            retry=RC_A,
        ),
        update(tj(3, ENDED, ZERO, res(FAILED_TRANSIENTLY))),
        state(
            [ZERO],
            [
                ex(
                    ended(1, FAILED_TRANSIENTLY),
                    ended(2, FAILED_TRANSIENTLY),
                    ended(3, FAILED_TRANSIENTLY),
                    used=3,
                )
            ],
            retry=RC_A,
            status=FAILED_,
            unsuccessful=(3,),
        ),
        [
            tryjobs_ended(snap(ended(3, FAILED_TRANSIENTLY), ZERO)),
            retry_denied(INSUFFICIENT_QUOTA, snap(ended(3, FAILED_TRANSIENTLY), ZERO)),
        ],
    ),
    Scenario(
        "§4.3 RC-A execution A at 2, B times out: B=2 but total 4 > 3, snapshot of B only",
        state(
            [ZERO, ONE],
            [
                ex(ended(1, FAILED_TRANSIENTLY), ended(2, FAILED_TRANSIENTLY), running(3), used=2),
                ex(running(4)),
            ],
            retry=RC_A,
        ),
        update(tj(4, ENDED, ONE, res(TIMEOUT))),
        state(
            [ZERO, ONE],
            [
                ex(ended(1, FAILED_TRANSIENTLY), ended(2, FAILED_TRANSIENTLY), running(3), used=2),
                ex(ended(4, TIMEOUT), used=2),
            ],
            retry=RC_A,
            status=FAILED_,
            unsuccessful=(4,),
        ),
        [
            tryjobs_ended(snap(ended(4, TIMEOUT), ONE)),
            retry_denied(INSUFFICIENT_GLOBAL_QUOTA, snap(ended(4, TIMEOUT), ONE)),
        ],
    ),
    Scenario(
        "exactly the global quota is allowed (strict comparison)",
        state(
            [ZERO, ONE],
            [
                ex(ended(1, FAILED_TRANSIENTLY), ended(2, FAILED_TRANSIENTLY), running(3), used=2),
                ex(running(4)),
            ],
            retry=RC_A,
        ),
        update(tj(4, ENDED, ONE, res(FAILED_TRANSIENTLY))),
        state(
            [ZERO, ONE],
            [
                ex(ended(1, FAILED_TRANSIENTLY), ended(2, FAILED_TRANSIENTLY), running(3), used=2),
                ex(ended(4, FAILED_TRANSIENTLY), used=1),
            ],
            retry=RC_A,
        ),
        [tryjobs_ended(snap(ended(4, FAILED_TRANSIENTLY), ONE))],
        plan=(request(1, ONE, 2, known=(1, 2, 3, 4)),),
    ),
    Scenario(
        "QUIRK fixed: a zero weight (RC-B timeout) still costs 1",
        state([ZERO], [ex(running(1))], retry=RC_B),
        update(tj(1, ENDED, ZERO, res(TIMEOUT))),
        state([ZERO], [ex(ended(1, TIMEOUT), used=1)], retry=RC_B),
        [tryjobs_ended(snap(ended(1, TIMEOUT), ZERO))],
        plan=(request(0, ZERO, 2, known=(1,)),),
    ),
    Scenario(
        "QUIRK fixed: zero-weight failures run out of quota (3 > 2)",
        state([ZERO], [ex(ended(1, TIMEOUT), ended(2, TIMEOUT), running(3), used=2)], retry=RC_B),
        update(tj(3, ENDED, ZERO, res(TIMEOUT))),
        state(
            [ZERO],
            [ex(ended(1, TIMEOUT), ended(2, TIMEOUT), ended(3, TIMEOUT), used=3)],
            retry=RC_B,
            status=FAILED_,
            unsuccessful=(3,),
        ),
        [
            tryjobs_ended(snap(ended(3, TIMEOUT), ZERO)),
            retry_denied(INSUFFICIENT_QUOTA, snap(ended(3, TIMEOUT), ZERO)),
        ],
    ),
    # Executing a plan (§3.5-§3.7) --------------------------------------------------------------
    Scenario(
        "two tryjobs launched in one round: one entry",
        state([ZERO, ONE], [ex(), ex()], retry=RC_A),
        outcomes(
            (request(0, ZERO), request(1, ONE)),
            Launched(tj(1, TRIGGERED, ZERO, res(UNKNOWN))),
            Launched(tj(2, TRIGGERED, ONE, res(UNKNOWN))),
        ),
        state([ZERO, ONE], [ex(running(1)), ex(running(2))], retry=RC_A),
        [tryjobs_launched(snap(running(1), ZERO), snap(running(2), ONE))],
    ),
    Scenario(
        "launched in two rounds: one entry per round",
        state([ZERO, ONE], [ex(), ex()]),
        outcomes(
            (request(0, ZERO), request(1, ONE)),
            Launched(tj(1, TRIGGERED, ZERO, res(UNKNOWN)), round=2),
            Launched(tj(2, TRIGGERED, ONE, res(UNKNOWN)), round=1),
        ),
        state([ZERO, ONE], [ex(running(1)), ex(running(2))]),
        [tryjobs_launched(snap(running(2), ONE)), tryjobs_launched(snap(running(1), ZERO))],
    ),
    Scenario(
        "one reused, one launched: reused logged first",
        state([ZERO, ONE], [ex(), ex()]),
        outcomes(
            (request(0, ZERO), request(1, ONE)),
            Reused(other(5, TRIGGERED, ZERO, res(UNKNOWN))),
            Launched(tj(6, TRIGGERED, ONE, res(UNKNOWN))),
        ),
        state([ZERO, ONE], [ex(running(5, reused=True)), ex(running(6))]),
        [
            tryjobs_reused(snap(running(5, reused=True), ZERO)),
            tryjobs_launched(snap(running(6), ONE)),
        ],
    ),
    Scenario(
        "reused success for the only critical: SUCCEEDED at once",
        state([ZERO, OPT], [ex(), ex()]),
        outcomes(
            (request(0, ZERO), request(1, OPT)),
            Reused(other(5, ENDED, ZERO, res(SUCCEEDED))),
            Launched(tj(6, TRIGGERED, OPT, res(UNKNOWN))),
        ),
        state(
            [ZERO, OPT], [ex(ended(5, SUCCEEDED, reused=True)), ex(running(6))], status=SUCCEEDED_
        ),
        [
            tryjobs_reused(snap(ended(5, SUCCEEDED, reused=True), ZERO)),
            tryjobs_launched(snap(running(6), OPT)),
        ],
    ),
    Scenario(
        "reused PENDING tryjob of another run: waited for",
        state([ZERO], [ex()]),
        outcomes((request(0, ZERO),), Reused(other(4, PENDING, ZERO))),
        state([ZERO], [ex(att(4, PENDING, reused=True))]),
        [tryjobs_reused(snap(att(4, PENDING, reused=True), ZERO))],
    ),
    Scenario(
        "critical launch failure: FAILED with launch_failures",
        state([ZERO, ONE], [ex(), ex()]),
        outcomes(
            (request(0, ZERO), request(1, ONE)),
            Launched(tj(1, TRIGGERED, ZERO, res(UNKNOWN))),
            LaunchFailed(tj(2, UNTRIGGERED, ONE, reason=LAUNCH_DENIED)),
        ),
        state(
            [ZERO, ONE],
            [ex(running(1)), ex(att(2, UNTRIGGERED))],
            status=FAILED_,
            launch_failures=((ONE, LAUNCH_DENIED),),
        ),
        [tryjobs_launched(snap(running(1), ZERO)), tryjobs_launch_failed((ONE, LAUNCH_DENIED))],
    ),
    Scenario(
        "optional launch failure: logged, ignored",
        state([ZERO, OPT], [ex(), ex()]),
        outcomes(
            (request(0, ZERO), request(1, OPT)),
            Launched(tj(1, TRIGGERED, ZERO, res(UNKNOWN))),
            LaunchFailed(tj(2, UNTRIGGERED, OPT, reason="received NotFound from buildbucket")),
        ),
        state([ZERO, OPT], [ex(running(1)), ex(att(2, UNTRIGGERED))]),
        [
            tryjobs_launched(snap(running(1), ZERO)),
            tryjobs_launch_failed((OPT, "received NotFound from buildbucket")),
        ],
    ),
    Scenario(
        "retry attempt fails to launch: FAILED, only the launch failure listed",
        state([ZERO], [ex(ended(1, FAILED_TRANSIENTLY), used=1)], retry=RC_A),
        outcomes(
            (request(0, ZERO, 2, known=(1,)),),
            LaunchFailed(tj(2, UNTRIGGERED, ZERO, reason=LAUNCH_DENIED)),
        ),
        state(
            [ZERO],
            [ex(ended(1, FAILED_TRANSIENTLY), att(2, UNTRIGGERED), used=1)],
            retry=RC_A,
            status=FAILED_,
            launch_failures=((ZERO, LAUNCH_DENIED),),
        ),
        [tryjobs_launch_failed((ZERO, LAUNCH_DENIED))],
    ),
    Scenario(
        "launched tryjob had already failed: retried in the same pass",
        state([ZERO], [ex()], retry=RC_A),
        outcomes((request(0, ZERO),), Launched(tj(1, ENDED, ZERO, res(FAILED_TRANSIENTLY)))),
        state([ZERO], [ex(ended(1, FAILED_TRANSIENTLY), used=1)], retry=RC_A),
        [tryjobs_launched(snap(ended(1, FAILED_TRANSIENTLY), ZERO))],
        plan=(request(0, ZERO, 2, known=(1,)),),
    ),
    Scenario(
        "launched tryjob had already failed, retry off: FAILED (upstream would pass it)",
        state([ZERO], [ex()]),
        outcomes((request(0, ZERO),), Launched(tj(1, ENDED, ZERO, res(FAILED_PERMANENTLY)))),
        state([ZERO], [ex(ended(1, FAILED_PERMANENTLY))], status=FAILED_, unsuccessful=(1,)),
        [
            tryjobs_launched(snap(ended(1, FAILED_PERMANENTLY), ZERO)),
            retry_denied(RETRY_NOT_ENABLED, snap(ended(1, FAILED_PERMANENTLY), ZERO)),
        ],
    ),
    Scenario(
        "QUIRK fixed: the run's own tryjob found by reuse is not marked reused",
        state([ZERO], [ex()]),
        outcomes(
            (request(0, ZERO),),
            Reused(tj(3, TRIGGERED, ZERO, res(UNKNOWN), reused_by=(RUN.id,))),
        ),
        state([ZERO], [ex(running(3))]),
        [tryjobs_reused(snap(running(3), ZERO))],
    ),
    Scenario(
        "launched ID already another run's tryjob (reconciled): the attempt is reused",
        state([ZERO], [ex()]),
        outcomes((request(0, ZERO),), Launched(other(7, TRIGGERED, ZERO, res(UNKNOWN)))),
        state([ZERO], [ex(running(7, reused=True))]),
        [tryjobs_launched(snap(running(7, reused=True), ZERO))],
    ),
    Scenario(
        "only optional tryjobs: SUCCEEDED once launched",
        state([OPT], [ex()]),
        outcomes((request(0, OPT),), Launched(tj(1, TRIGGERED, OPT, res(UNKNOWN)))),
        state([OPT], [ex(running(1))], status=SUCCEEDED_),
        [tryjobs_launched(snap(running(1), OPT))],
    ),
]


def test_there_are_at_least_forty_scenarios():
    assert len(SCENARIOS) >= 40
    assert len({s.name for s in SCENARIOS}) == len(SCENARIOS)


def _copy(msg):
    if msg is None:
        return None
    copy = type(msg)()
    copy.CopyFrom(msg)
    return copy


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Scenario):
    before = _copy(scenario.before)
    step = scenario.act(scenario.before)
    assert show(step.state) == show(scenario.state)
    assert step.state == scenario.state
    assert [show(e) for e in step.log_entries] == [show(e) for e in scenario.log]
    assert list(step.log_entries) == scenario.log
    assert step.plan.attempts == scenario.plan
    assert step.plan.discards == scenario.discards
    assert step.noop is scenario.noop
    # Pure: the input state is left as it was.
    assert scenario.before == before
    # Storable: what the serializers accept is what the executor produces.
    serializers.execution_state_rows("p/1", step.state)
    for i, entry in enumerate(step.log_entries):
        serializers.log_entry_row("p/1", 1, entry, f"entries[{i}]")


# Driving a run through several passes ----------------------------------------------------------


class FakeBackend:
    """Launches every requested attempt with the next tryjob ID, unless told otherwise."""

    def __init__(self, first_id=100):
        self.next_id = first_id
        self.tryjobs = {}
        self.reuse = {}  # execution index -> TryjobView to reuse once

    def start(self, plan: Plan):
        results = []
        for item in plan.attempts:
            if item.reuse_allowed and item.index in self.reuse:
                results.append(Reused(self.reuse.pop(item.index)))
                continue
            tryjob = tj(self.next_id, TRIGGERED, item.definition, res(UNKNOWN))
            self.tryjobs[tryjob.id] = tryjob
            self.next_id += 1
            results.append(Launched(tryjob))
        return results


def test_drive_a_run_from_requirement_through_retry_and_reuse_to_success():
    backend = FakeBackend()
    backend.reuse[1] = other(50, TRIGGERED, ONE, res(UNKNOWN))
    step = drive(
        on_requirement(None, RUN, requirement(ZERO, ONE, OPT, retry=RC_A), 1, NOW),
        RUN,
        NOW,
        backend.start,
    )
    assert [e.WhichOneof("kind") for e in step.log_entries] == [
        "tryjobs_reused",
        "tryjobs_launched",
    ]
    assert [[a.tryjob_id for a in e.attempts] for e in step.state.executions] == [
        [100],
        [50],
        [101],
    ]
    assert step.state.status == RUNNING_

    # ZERO fails transiently: retried with a new launch, quota 1.
    step = drive(
        on_tryjobs_updated(step.state, RUN, [tj(100, ENDED, ZERO, res(FAILED_TRANSIENTLY))], NOW),
        RUN,
        NOW,
        backend.start,
    )
    assert [e.WhichOneof("kind") for e in step.log_entries] == ["tryjobs_ended", "tryjobs_launched"]
    assert [a.tryjob_id for a in step.state.executions[0].attempts] == [100, 102]
    assert step.state.executions[0].used_quota == 1

    # The reused tryjob and the retry succeed; the optional one still runs.
    step = drive(
        on_tryjobs_updated(
            step.state,
            RUN,
            [other(50, ENDED, ONE, res(SUCCEEDED)), tj(102, ENDED, ZERO, res(SUCCEEDED))],
            NOW,
        ),
        RUN,
        NOW,
        backend.start,
    )
    assert step.state.status == SUCCEEDED_
    assert step.state.end_time == state([], [], status=SUCCEEDED_).end_time
    serializers.execution_state_rows("p/1", step.state)


def test_drive_without_plan_returns_the_step_as_is():
    first = on_tryjobs_updated(state([ZERO], [ex(running(1))]), RUN, [], NOW)
    assert drive(first, RUN, NOW, lambda plan: pytest.fail("no I/O expected")) == first


def test_drive_stops_a_plan_that_never_ends():
    def keep_failing(plan):
        return [Launched(tj(1000 + len(plan.attempts), ENDED, ZERO, res(FAILED_TRANSIENTLY)))]

    step = on_requirement(None, RUN, requirement(ZERO, retry=RC_A), 1, NOW)
    with pytest.raises(RuntimeError, match="after 2 rounds"):
        drive(step, RUN, NOW, keep_failing, max_rounds=2)


# Refusals (programming errors of the caller) ---------------------------------------------------


def test_a_requirement_naming_a_builder_twice_is_refused():
    with pytest.raises(DuplicateDefinitionError, match=r"definitions\[1\].*definitions\[0\]"):
        on_requirement(None, RUN, requirement(ZERO, ZERO_NO_REUSE), 1, NOW)


def test_requirement_versions_start_at_one():
    with pytest.raises(ValueError, match="at least 1"):
        on_requirement(None, RUN, requirement(ZERO), 0, NOW)


def test_an_unspecified_tryjob_status_is_refused():
    with pytest.raises(ValueError, match="STATUS_UNSPECIFIED"):
        on_tryjobs_updated(state([ZERO], [ex(running(1))]), RUN, [tj(1, 0, ZERO)], NOW)


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="naive"):
        on_requirement(None, RUN, requirement(ZERO), 1, NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    "outcome, message",
    [
        (Reused(tj(3, PENDING, ZERO)), "own PENDING tryjob"),
        (Launched(tj(3, UNTRIGGERED, ZERO)), "TRIGGERED or ENDED, not UNTRIGGERED"),
        (LaunchFailed(tj(3, TRIGGERED, ZERO, res(UNKNOWN))), "UNTRIGGERED, not TRIGGERED"),
        ("launched", "not Reused, Launched or LaunchFailed"),
    ],
)
def test_outcomes_that_cannot_be_are_refused(outcome, message):
    with pytest.raises((ValueError, TypeError), match=message):
        apply_outcomes(state([ZERO], [ex()]), RUN, Plan((request(0, ZERO),)), [outcome], NOW)


def test_one_outcome_per_planned_attempt():
    with pytest.raises(ValueError, match="2 outcomes for 1 planned"):
        apply_outcomes(
            state([ZERO], [ex()]),
            RUN,
            Plan((request(0, ZERO),)),
            [Launched(tj(1, TRIGGERED, ZERO)), Launched(tj(2, TRIGGERED, ZERO))],
            NOW,
        )


def test_a_plan_for_another_state_is_refused():
    with pytest.raises(ValueError, match=r"does not match the state's executions\[0\]"):
        apply_outcomes(
            state([ONE], [ex()]),
            RUN,
            Plan((request(0, ZERO),)),
            [Launched(tj(1, TRIGGERED, ZERO))],
            NOW,
        )


# Launch failure reasons (§3.7) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "code, message, reason",
    [
        (5, "", "received NotFound from buildbucket"),
        (7, "no access", "received PermissionDenied from buildbucket. message: no access"),
        (99, "", "received Code(99) from buildbucket"),
        (None, "boom", "unexpected internal error"),
    ],
)
def test_launch_failure_reason(code, message, reason):
    assert executor.launch_failure_reason(code, message) == reason


def test_retriable_launch_codes():
    names = ["Internal", "Unknown", "Unavailable", "NotFound", "ResourceExhausted"]
    names.append("DeadlineExceeded")
    retriable = {
        executor.launch_failure_reason(code).split()[1]
        for code in range(17)
        if executor.is_retriable_launch_code(code)
    }
    assert retriable == set(names)


def test_module_docstring_example_runs():
    import doctest

    result = doctest.testmod(executor)
    assert result.attempted > 0 and result.failed == 0
