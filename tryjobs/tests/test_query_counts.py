"""A launch takes the same number of SQL statements whatever the number of builders.

A requirement's launch (tryjobs.passes, tryjobs.launching) reads, creates, saves and locks
its tryjobs and writes the execution state's executions and attempts with set-based
statements, so 20 definitions cost what one does.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cvproto.cv.internal.tryjob import storage_pb2 as pb
from tryjobs import operations
from tryjobs.models import ExecutionAttempt, Tryjob, TryjobStatus
from tryjobs.tests import actions_support
from tryjobs.tests.actions_support import cvsite_run, defn, requirement, state_of

# Fixtures.
backend = actions_support.backend

pytestmark = pytest.mark.django_db

# What a launch of any size runs: the decision (run locked; project verifier; pending
# events; execution state; the run's CLs), the search of reusable builds (the CLs'
# dependencies), the PENDING rows (run locked again; state version; orphans; reuse
# candidates; tryjobs; their CL patchsets), the launched rows (locked; holders of their
# external IDs; one statement writing them all; their reusers, for events and for views)
# and the state (run locked again; state version; state; executions; attempts; log), plus
# the savepoints of each transaction inside the test's own.
LAUNCH_STATEMENTS = 31


def launch_statements(builders: int) -> list[str]:
    run = cvsite_run()
    wanted = requirement(*(defn(f"builder-{i}") for i in range(builders)))
    with CaptureQueriesContext(connection) as queries:
        operations.set_requirement(run.id, wanted, "test")
    state = state_of(run)
    assert [len(e.attempts) for e in state.executions] == [1] * builders
    assert {a.status for e in state.executions for a in e.attempts} == {pb.TRIGGERED}
    assert Tryjob.objects.filter(launched_by=run, status=TryjobStatus.TRIGGERED).count() == (
        builders
    )
    assert ExecutionAttempt.objects.filter(execution__state_id=run.id).count() == builders
    return [q["sql"] for q in queries.captured_queries]


def test_a_launch_takes_as_many_statements_for_20_builders_as_for_one(backend):
    one = launch_statements(1)
    twenty = launch_statements(20)
    assert len(twenty) == len(one) == LAUNCH_STATEMENTS, "\n".join(twenty)
    assert len(backend.launch_calls) == 2
    assert [len(call) for call in backend.launch_calls] == [1, 20]
