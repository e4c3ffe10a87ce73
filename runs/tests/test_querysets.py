"""Run.objects: the common filters, and lookups by name that refuse what no row can hold."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from runs.ids import RunID
from runs.models import CL, RUN_ENDED_MASK, Run, RunStatus, holds_nul
from runs.queries import AnyOf
from runs.tests.factories import BASE_TIME, make_cl, make_run

pytestmark = pytest.mark.django_db

KEY = "a1b2c3d4e5f60718"


def runs_of_attempt(key: str, hours: tuple[int, ...]) -> list[Run]:
    return [
        make_run(
            id=str(RunID.new("chromium", BASE_TIME + timedelta(hours=h), key)),
            cqd_attempt_key=key,
            create_time=BASE_TIME + timedelta(hours=h),
        )
        for h in hours
    ]


def test_active_and_ended_split_the_runs_by_the_ended_bit():
    runs = {status: make_run(status=status) for status in RunStatus}

    assert set(Run.objects.active()) == {r for s, r in runs.items() if not s & RUN_ENDED_MASK}
    assert set(Run.objects.ended()) == {r for s, r in runs.items() if s & RUN_ENDED_MASK}


def test_a_run_is_named_by_its_id_before_its_attempt_key():
    run, other = make_run(), make_run()

    assert list(Run.objects.named(run.id, other.cqd_attempt_key)) == [run]
    assert list(Run.objects.named("", other.cqd_attempt_key)) == [other]


def test_runs_named_by_attempt_key_come_newest_first():
    older, newer = runs_of_attempt(KEY, (1, 2))
    make_run()

    assert list(Run.objects.named("", KEY)) == [newer, older]


@pytest.mark.parametrize(
    "run_id, attempt_key",
    [("chromium/0-1-unknown", ""), ("", "0000000000000000"), ("", "")],
)
def test_a_name_no_run_has_finds_nothing(run_id, attempt_key):
    make_run()
    assert not Run.objects.named(run_id, attempt_key).exists()


@pytest.mark.parametrize("run_id, attempt_key", [("chromium/1-1-a\x00b", ""), ("", "a\x00b")])
def test_a_name_holding_a_nul_finds_nothing_without_asking_the_database(run_id, attempt_key):
    make_run()
    with CaptureQueriesContext(connection) as captured:
        assert list(Run.objects.named(run_id, attempt_key)) == []
        assert Run.objects.select_for_update().named(run_id, attempt_key).first() is None
    assert len(captured) == 0  # PostgreSQL would refuse to compare text with a NUL


def test_the_filters_chain_with_each_other():
    ended, running = runs_of_attempt(KEY, (1, 2))
    Run.objects.filter(id=ended.id).update(status=RunStatus.FAILED, end_time=BASE_TIME)

    assert list(Run.objects.named("", KEY).active()) == [running]
    assert list(Run.objects.ended().named("", KEY)) == [ended]


def test_holds_nul():
    assert holds_nul("a\x00") and not holds_nul("chromium") and not holds_nul("")


def test_any_of_finds_keys_that_array_syntax_would_split_or_unquote():
    """AnyOf writes the keys in PostgreSQL's array syntax itself: quotes, backslashes, commas,
    braces, spaces and NULL-like words in a key must reach the database as they are."""
    awkward = ['a"b', "a\\b", "a,b", "{a}", "NULL", "é", "\\", '"']
    runs = [make_run(project=project) for project in awkward]
    make_run(project="other")
    spaced = [make_cl(gerrit_project=name) for name in (" a b ", "a b", "")]
    make_cl(gerrit_project="ab")

    assert set(Run.objects.filter(AnyOf(F("id"), [run.id for run in runs]))) == set(runs)
    assert set(Run.objects.filter(AnyOf(F("project"), awkward))) == set(runs)
    assert set(CL.objects.filter(AnyOf(F("gerrit_project"), [" a b ", "a b", ""]))) == set(spaced)
    assert not Run.objects.filter(AnyOf(F("id"), [])).exists()


def test_any_of_takes_int_keys():
    cls = [make_cl() for _ in range(3)]

    assert set(CL.objects.filter(AnyOf(F("id"), [cls[0].id, cls[2].id]))) == {cls[0], cls[2]}
