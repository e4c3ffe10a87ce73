"""cvsite.db: rows of several tables inserted together, now or at the end of a block; prepared
queries selected together."""

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cvsite.db import PreparedSelect, insert_later, insert_rows, inserts_deferred, select_together
from migration_api.models import ApiCall, ApiToken
from runs.models import Run, RunEvent, RunEventKind
from runs.tests.factories import make_run

pytestmark = pytest.mark.django_db


def event(run, detail: str) -> RunEvent:
    return RunEvent(
        run=run, time=timezone.now(), actor="test", kind=RunEventKind.CREATED, detail=detail
    )


def call(caller: str) -> ApiCall:
    return ApiCall(
        time=timezone.now(), caller=caller, method="ReportRuns", code="OK", duration_ms=1.5
    )


def test_rows_of_several_tables_go_in_one_round_trip_on_postgresql():
    run = make_run()
    token, _ = ApiToken.issue("cqdaemon", ["chromium"])  # auto_now_add and defaults: filled in
    rows = [event(run, "first"), call("cqdaemon"), event(run, "second")]
    rows[1].token = token

    with CaptureQueriesContext(connection) as captured:
        insert_rows(rows)

    assert len(captured) == (1 if connection.vendor == "postgresql" else 3)
    assert [e.detail for e in RunEvent.objects.filter(run=run)] == ["first", "second"]
    stored = ApiCall.objects.get()
    assert (stored.token, stored.caller, stored.duration_ms) == (token, "cqdaemon", 1.5)
    assert all(row.pk is None for row in rows)  # not read back


def test_a_refused_row_fails_the_whole_batch_naming_what_was_wrong():
    run = make_run()
    refused = call("cqdaemon")
    refused.time = None
    with pytest.raises(IntegrityError, match="time"), transaction.atomic():
        insert_rows([event(run, "fine"), refused])
    assert not RunEvent.objects.exists() and not ApiCall.objects.exists()


def test_rows_wait_for_the_end_of_the_block():
    run = make_run()
    with inserts_deferred():
        insert_later(event(run, "a"))
        insert_later(call("cqdaemon"))
        with inserts_deferred():  # joins the outer block
            insert_later(event(run, "b"))
        assert not RunEvent.objects.exists() and not ApiCall.objects.exists()
    assert [e.detail for e in RunEvent.objects.filter(run=run)] == ["a", "b"]
    assert ApiCall.objects.count() == 1


def test_a_block_ended_by_an_exception_inserts_nothing():
    run = make_run()
    with pytest.raises(RuntimeError), inserts_deferred():
        insert_later(event(run, "lost"))
        raise RuntimeError("the call failed")
    assert not RunEvent.objects.exists()
    insert_later(event(run, "later"))  # outside any block: inserted at once
    assert [e.detail for e in RunEvent.objects.all()] == ["later"]


RUN_BY_ID = PreparedSelect(lambda run_id: Run.objects.filter(id=run_id))
LOCKED_RUN_BY_ID = PreparedSelect(lambda run_id: Run.objects.select_for_update().filter(id=run_id))
EVENTS_BY_RUN_AND_ACTOR = PreparedSelect(
    lambda run_id, actor: RunEvent.objects.filter(run_id=run_id, actor=actor).order_by("detail")
)


def test_prepared_queries_are_selected_together_in_one_round_trip_on_postgresql():
    first, second = make_run(), make_run()
    insert_rows([event(second, "b"), event(second, "a"), event(first, "not this run's")])

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        runs, events, nothing = select_together(
            LOCKED_RUN_BY_ID(run_id=first.id),
            EVENTS_BY_RUN_AND_ACTOR(run_id=second.id, actor="test"),
            RUN_BY_ID(run_id="chromium/unknown"),
        )

    assert len(captured) == (1 if connection.vendor == "postgresql" else 3)
    assert runs == [first] and nothing == []
    assert runs[0].create_time == first.create_time  # converted as the ORM converts it
    assert [(e.run_id, e.detail) for e in events] == [(second.id, "a"), (second.id, "b")]


def test_a_prepared_query_is_compiled_once_per_thread_and_run_with_each_call_s_values():
    first, second = make_run(), make_run()
    default = connections["default"]
    compiler, sql, names = RUN_BY_ID.compiled(default)

    assert select_together(RUN_BY_ID(run_id=first.id)) == [[first]]
    assert select_together(RUN_BY_ID(run_id=second.id)) == [[second]]
    assert RUN_BY_ID.compiled(default) == (compiler, sql, names) and names == ["run_id"]

    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(RUN_BY_ID.compiled(default)))
    thread.start()
    thread.join()
    assert elsewhere[0][0] is not compiler  # its own compiler: never shared between threads


@pytest.mark.django_db(transaction=True)  # no test-wide transaction around it
def test_a_prepared_lock_outside_a_transaction_is_refused_as_django_refuses_it():
    run = make_run()
    with transaction.atomic():
        assert select_together(LOCKED_RUN_BY_ID(run_id=run.id)) == [[run]]  # compiled now
    with pytest.raises(TransactionManagementError, match="outside of a transaction"):
        select_together(LOCKED_RUN_BY_ID(run_id=run.id))


def test_a_prepared_query_must_be_given_exactly_its_values():
    with pytest.raises(TypeError, match=r"give exactly \['run_id', 'actor'\], not \['run_id'\]"):
        EVENTS_BY_RUN_AND_ACTOR(run_id="x")


@pytest.mark.parametrize(
    "build, problem",
    [
        (lambda value: Run.objects.filter(id=value).select_related(), "plain query of Run"),
        (lambda value: Run.objects.filter(id=value, status=1), "as they are"),
        (lambda value: Run.objects.filter(project__contains=value), "as they are"),
        (lambda value: RunEvent.objects.filter(id=len(value)), "as they are"),
    ],
    ids=["select_related", "a-constant", "a-rewriting-lookup", "a-value-not-passed"],
)
def test_a_query_that_cannot_be_prepared_is_refused_saying_why(build, problem):
    with pytest.raises(ValueError, match=problem):
        select_together(PreparedSelect(build)(value="x"))
