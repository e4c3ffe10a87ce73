"""cvsite.db: rows of several tables inserted together, now or at the end of a block."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cvsite.db import insert_later, insert_rows, inserts_deferred
from migration_api.models import ApiCall, ApiToken
from runs.models import RunEvent, RunEventKind
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
