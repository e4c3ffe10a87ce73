"""Run-side constraints are enforced by the database: each case saves a valid row, then writes the
same row with exactly one invariant broken through `objects.create()` and through a queryset
`update()` (neither runs Python validation) and expects an IntegrityError naming the constraint.
`validate_constraints()` must report the same constraint, with its violation_error_message where
one is set. Also: Run.clean() and the encryption of legacy netrc tokens.
"""

import itertools
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ImproperlyConfigured, ValidationError
from django.test import override_settings

from runs.ids import RunID
from runs.models import (
    CL,
    RUN_ENDED_MASK,
    DepKind,
    FinishedCQDRun,
    NetrcToken,
    ReportedRun,
    ReportedRunsSnapshot,
    Run,
    RunCL,
    RunCLDep,
    RunStatus,
    VerifiedCQDRun,
    VerifyAction,
)
from runs.serializers import set_served_message
from runs.tests.constraints import apply, constraint_messages, db_rejects, default_message
from runs.tests.factories import BASE_TIME, make_cl, make_run

T0 = BASE_TIME
T1 = BASE_TIME + timedelta(hours=2)
HOST = "chromium-review.googlesource.com"

MSG_RUN_ID = "the run ID must be <project>/...-<attempt key>"
MSG_END_TIME = "an ended run needs an end time; an active one has none"
MSG_PATCHSET_RANGE = "min_equivalent_patchset must be in 1..patchset"
MSG_FAIL_MESSAGE = "ACTION_FAIL needs a final message"

_numbers = itertools.count(1)


def make_run_cl(run: Run, cl: CL, position: int = 0, **overrides) -> RunCL:
    fields = {
        "run": run,
        "cl": cl,
        "position": position,
        "patchset": 2,
        "min_equivalent_patchset": 1,
        "info": b"",
        "trigger_time": T0,
        "trigger_mode": "DRY_RUN",
        "trigger_account_id": 1000,
    }
    fields.update(overrides)
    run_cl = set_served_message(RunCL(**fields))
    run_cl.save()
    return run_cl


def cqd_fields(**overrides) -> dict:
    """Columns of a bigquery.Attempt row; FinishedCQDRun and VerifiedCQDRun add update_time."""
    fields = {"attempt_key": f"{next(_numbers):016x}", "attempt": b""}
    fields.update(overrides)
    return fields


def create_run(**overrides) -> Run:
    """A valid Run whose columns, project included, can all be overridden."""
    n = next(_numbers)
    create_time = T0 + timedelta(seconds=n)
    attempt_key = f"{n:016x}"
    status = overrides.get("status", RunStatus.RUNNING)
    fields = {
        "id": str(RunID.new("chromium", create_time, attempt_key)),
        "project": "chromium",
        "cqd_attempt_key": attempt_key,
        "mode": "DRY_RUN",
        "create_time": create_time,
        "status": status,
        "end_time": T1 if status & RUN_ENDED_MASK else None,
    }
    fields.update(overrides)
    return Run.objects.create(**fields)


# --- Run ---------------------------------------------------------------------------------------

# (id, base status, bad columns, constraints any of which the database may name, messages)
RUN_VIOLATIONS = [
    *[
        (f"{status.name.lower()}-without-end-time", status, {"end_time": None},
         ["run_end_time_iff_ended"], [MSG_END_TIME])
        for status in RunStatus.ended()
    ],
    *[
        (f"{status.name.lower()}-with-end-time", status, {"end_time": T1},
         ["run_end_time_iff_ended"], [MSG_END_TIME])
        for status in RunStatus.active()
    ],
    # A status that is neither active nor ended also breaks the end-time rule, whatever end_time.
    ("status-3", RunStatus.RUNNING, {"status": 3},
     ["run_status_valid", "run_end_time_iff_ended"],
     [default_message("run_status_valid"), MSG_END_TIME]),
    ("status-64-with-end-time", RunStatus.SUCCEEDED, {"status": 64},
     ["run_status_valid", "run_end_time_iff_ended"],
     [default_message("run_status_valid"), MSG_END_TIME]),
    ("status-0", RunStatus.PENDING, {"status": 0},
     ["run_status_valid", "run_end_time_iff_ended"],
     [default_message("run_status_valid"), MSG_END_TIME]),
    ("empty-project", RunStatus.RUNNING, {"project": ""},
     ["run_project_and_mode_set", "run_id_matches_project_and_attempt_key"],
     [default_message("run_project_and_mode_set"), MSG_RUN_ID]),
    ("project-not-the-ids", RunStatus.RUNNING, {"project": "v8"},
     ["run_id_matches_project_and_attempt_key"], [MSG_RUN_ID]),
    ("attempt-key-not-the-ids", RunStatus.RUNNING, {"cqd_attempt_key": "ffffffffffffffff"},
     ["run_id_matches_project_and_attempt_key"], [MSG_RUN_ID]),
    ("empty-mode", RunStatus.RUNNING, {"mode": ""},
     ["run_project_and_mode_set"], [default_message("run_project_and_mode_set")]),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status, bad, constraints, messages",
    [case[1:] for case in RUN_VIOLATIONS],
    ids=[case[0] for case in RUN_VIOLATIONS],
)
def test_run_invariant_is_enforced_by_the_database(status, bad, constraints, messages):
    valid = create_run(status=status)

    with db_rejects(*constraints):
        create_run(**{"status": status, **bad})
    with db_rejects(*constraints):
        Run.objects.filter(pk=valid.pk).update(**bad)

    valid.refresh_from_db()
    assert valid.status == status
    assert constraint_messages(apply(valid, bad)) == messages


@pytest.mark.django_db
@pytest.mark.parametrize("status", RunStatus, ids=lambda s: s.name.lower())
def test_valid_run_saves_in_every_status(status):
    run = make_run(status=status)
    run.full_clean()
    assert run.is_ended == (run.end_time is not None)


@pytest.mark.django_db
def test_run_ends_through_an_update_only_with_an_end_time():
    run = make_run(status=RunStatus.RUNNING)
    rows = Run.objects.filter(pk=run.pk)
    with db_rejects("run_end_time_iff_ended"):
        rows.update(status=RunStatus.SUCCEEDED)
    rows.update(status=RunStatus.SUCCEEDED, end_time=T1)
    assert rows.get().is_ended


@pytest.mark.django_db
def test_run_full_clean_reports_the_end_time_message():
    run = make_run(status=RunStatus.FAILED)
    run.end_time = None
    with pytest.raises(ValidationError) as excinfo:
        run.full_clean()
    assert excinfo.value.message_dict[NON_FIELD_ERRORS] == [MSG_END_TIME]


@pytest.mark.django_db
def test_run_full_clean_rejects_a_project_other_than_the_run_ids():
    run = make_run("chromium")
    run.project = "v8"
    with pytest.raises(ValidationError) as excinfo:
        run.full_clean()
    assert list(excinfo.value.message_dict) == ["project"]
    assert "'v8' differs from the run ID's 'chromium'" in excinfo.value.message_dict["project"][0]


@pytest.mark.django_db
def test_run_full_clean_rejects_an_attempt_key_other_than_the_run_ids_suffix():
    run = make_run()
    suffix = run.id.rsplit("-", 1)[1]
    run.cqd_attempt_key = "0123456789abcdef"
    assert suffix != run.cqd_attempt_key
    with pytest.raises(ValidationError) as excinfo:
        run.full_clean()
    assert list(excinfo.value.message_dict) == ["cqd_attempt_key"]
    assert suffix in excinfo.value.message_dict["cqd_attempt_key"][0]


@pytest.mark.django_db
def test_run_full_clean_rejects_a_malformed_id():
    run = make_run()
    run.id = "chromium/not-a-run-id"
    with pytest.raises(ValidationError) as excinfo:
        run.full_clean()
    assert "id" in excinfo.value.message_dict


def test_run_clean_accepts_the_factory_run_id():
    run = Run(
        id="chromium/9000000000000-1-0123456789abcdef",
        project="chromium",
        cqd_attempt_key="0123456789abcdef",
    )
    run.clean()


# --- CL and RunCL ------------------------------------------------------------------------------

CL_VIOLATIONS = [
    ("change-0", {"change": 0}, "cl_change_positive", None),
    ("change-negative", {"change": -7}, "cl_change_positive", None),
    ("empty-host", {"host": ""}, "cl_host_valid", None),
    ("host-with-slash", {"host": f"{HOST}/c"}, "cl_host_valid", None),
    ("host-is-slash", {"host": "/"}, "cl_host_valid", None),
    ("min-equivalent-above-patchset", {"min_equivalent_patchset": 2},
     "cl_min_equivalent_patchset_in_range", MSG_PATCHSET_RANGE),
    ("min-equivalent-0", {"min_equivalent_patchset": 0},
     "cl_min_equivalent_patchset_in_range", MSG_PATCHSET_RANGE),
    ("patchset-below-min-equivalent", {"patchset": 3, "min_equivalent_patchset": 4},
     "cl_min_equivalent_patchset_in_range", MSG_PATCHSET_RANGE),
    ("patchset-0", {"patchset": 0, "min_equivalent_patchset": 0},
     "cl_min_equivalent_patchset_in_range", MSG_PATCHSET_RANGE),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad, constraint, message",
    [case[1:] for case in CL_VIOLATIONS],
    ids=[case[0] for case in CL_VIOLATIONS],
)
def test_cl_invariant_is_enforced_by_the_database(bad, constraint, message):
    valid = make_cl()

    with db_rejects(constraint):
        make_cl(**bad)
    with db_rejects(constraint):
        CL.objects.filter(pk=valid.pk).update(**bad)

    assert constraint_messages(apply(valid, bad)) == [message or default_message(constraint)]


@pytest.mark.django_db
def test_valid_cls_save():
    make_cl(patchset=5, min_equivalent_patchset=5).full_clean()
    make_cl(patchset=5, min_equivalent_patchset=1).full_clean()
    make_cl("chrome-internal-review.googlesource.com").full_clean()


@pytest.mark.django_db
def test_cl_host_and_change_are_unique_together():
    cl = make_cl(change=123456)
    make_cl("chrome-internal-review.googlesource.com", change=123456)
    make_cl(change=123457)
    with db_rejects("cl_unique_host_change", "runs_cl.host, runs_cl.change"):
        make_cl(change=123456)
    other = make_cl(change=123458)
    with db_rejects("cl_unique_host_change", "runs_cl.host, runs_cl.change"):
        CL.objects.filter(pk=other.pk).update(change=cl.change)
    assert constraint_messages(apply(other, {"change": cl.change})) == [
        "CL with this Host and Change already exists."
    ]


@pytest.mark.django_db
def test_run_cl_snapshot_range_is_enforced_by_the_database():
    run, cl = make_run(), make_cl(patchset=2)
    valid = make_run_cl(run, cl, patchset=2, min_equivalent_patchset=2)
    with db_rejects("runcl_min_equivalent_patchset_in_range"):
        make_run_cl(run, make_cl(), position=1, patchset=2, min_equivalent_patchset=3)
    with db_rejects("runcl_min_equivalent_patchset_in_range"):
        RunCL.objects.filter(pk=valid.pk).update(min_equivalent_patchset=0)
    valid.min_equivalent_patchset = 3
    assert constraint_messages(valid) == [MSG_PATCHSET_RANGE]


@pytest.mark.django_db
def test_run_cl_is_unique_per_run_and_cl_and_per_run_and_position():
    run, cl, cl2 = make_run(), make_cl(), make_cl()
    make_run_cl(run, cl, position=0)
    make_run_cl(make_run(), cl, position=0)  # the same CL in another run
    with db_rejects("runcl_unique_run_cl", "runs_runcl.run_id, runs_runcl.cl_id"):
        make_run_cl(run, cl, position=1)
    with db_rejects("runcl_unique_run_position", "runs_runcl.run_id, runs_runcl.position"):
        make_run_cl(run, cl2, position=0)
    second = make_run_cl(run, cl2, position=1)
    with db_rejects("runcl_unique_run_position", "runs_runcl.run_id, runs_runcl.position"):
        RunCL.objects.filter(pk=second.pk).update(position=0)
    with db_rejects("runcl_unique_run_cl", "runs_runcl.run_id, runs_runcl.cl_id"):
        RunCL.objects.filter(pk=second.pk).update(cl=cl)


@pytest.mark.django_db
def test_run_cl_dep_is_unique_and_of_a_known_kind():
    run, cl, dep1, dep2 = make_run(), make_cl(), make_cl(), make_cl()
    run_cl = make_run_cl(run, cl)
    first = RunCLDep.objects.create(run_cl=run_cl, depends_on=dep1, kind=DepKind.HARD, position=0)
    RunCLDep.objects.create(run_cl=run_cl, depends_on=dep2, kind=DepKind.SOFT, position=1)
    with db_rejects("runcldep_unique_dependency", "runs_runcldep.run_cl_id, runs_runcldep.depends"):
        RunCLDep.objects.create(run_cl=run_cl, depends_on=dep1, kind=DepKind.SOFT, position=2)
    with db_rejects("runcldep_unique_position", "runs_runcldep.run_cl_id, runs_runcldep.position"):
        RunCLDep.objects.create(run_cl=run_cl, depends_on=make_cl(), kind=DepKind.SOFT, position=0)
    for kind in (0, 3):
        with db_rejects("runcldep_kind_valid"):
            RunCLDep.objects.create(run_cl=run_cl, depends_on=make_cl(), kind=kind, position=5)
        with db_rejects("runcldep_kind_valid"):
            RunCLDep.objects.filter(pk=first.pk).update(kind=kind)
        assert constraint_messages(apply(first, {"kind": kind})) == [
            default_message("runcldep_kind_valid")
        ]


# --- What CQDaemon reported --------------------------------------------------------------------


@pytest.mark.django_db
def test_finished_cqd_run_has_one_row_per_nonempty_attempt_key():
    first = FinishedCQDRun.objects.create(
        **cqd_fields(update_time=T0, attempt_key="00000000000000aa")
    )
    second = FinishedCQDRun.objects.create(**cqd_fields(update_time=T0))
    with db_rejects("finishedcqdrun_attempt_key", "runs_finishedcqdrun.attempt_key"):
        FinishedCQDRun.objects.create(**cqd_fields(update_time=T0, attempt_key=first.attempt_key))
    with db_rejects("finishedcqdrun_attempt_key", "runs_finishedcqdrun.attempt_key"):
        FinishedCQDRun.objects.filter(pk=second.pk).update(attempt_key=first.attempt_key)
    with db_rejects("finishedcqdrun_key_set"):
        FinishedCQDRun.objects.create(**cqd_fields(update_time=T0, attempt_key=""))
    with db_rejects("finishedcqdrun_key_set"):
        FinishedCQDRun.objects.filter(pk=second.pk).update(attempt_key="")
    assert constraint_messages(apply(second, {"attempt_key": ""})) == [
        default_message("finishedcqdrun_key_set")
    ]


VERIFIED_VIOLATIONS = [
    ("action-0", VerifyAction.SUBMIT, {"action": 0}, "verifiedcqdrun_action_valid", None),
    ("action-4", VerifyAction.DRY_RUN_OK, {"action": 4}, "verifiedcqdrun_action_valid", None),
    ("fail-without-message", VerifyAction.FAIL, {"final_message": ""},
     "verifiedcqdrun_fail_has_message", MSG_FAIL_MESSAGE),
    ("submit-becomes-fail-without-message", VerifyAction.SUBMIT, {"action": VerifyAction.FAIL},
     "verifiedcqdrun_fail_has_message", MSG_FAIL_MESSAGE),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    "action, bad, constraint, message",
    [case[1:] for case in VERIFIED_VIOLATIONS],
    ids=[case[0] for case in VERIFIED_VIOLATIONS],
)
def test_verified_cqd_run_invariant_is_enforced_by_the_database(action, bad, constraint, message):
    final_message = "CQ failed: tryjobs" if action == VerifyAction.FAIL else ""
    valid = VerifiedCQDRun.objects.create(
        **cqd_fields(update_time=T0, run=make_run(), action=action, final_message=final_message)
    )
    fields = cqd_fields(update_time=T0, run=make_run(), action=action, final_message=final_message)
    with db_rejects(constraint):
        VerifiedCQDRun.objects.create(**{**fields, **bad})
    with db_rejects(constraint):
        VerifiedCQDRun.objects.filter(pk=valid.pk).update(**bad)
    assert constraint_messages(apply(valid, bad)) == [message or default_message(constraint)]


@pytest.mark.django_db
def test_verified_cqd_run_first_report_wins_and_fail_needs_a_message_in_full_clean():
    run = make_run()
    verified = VerifiedCQDRun.objects.create(
        **cqd_fields(update_time=T0, run=run, action=VerifyAction.SUBMIT)
    )
    with db_rejects("runs_verifiedcqdrun.run_id", "runs_verifiedcqdrun_pkey"):
        VerifiedCQDRun.objects.create(
            **cqd_fields(update_time=T0, run=run, action=VerifyAction.DRY_RUN_OK)
        )
    verified.full_clean()
    verified.action = VerifyAction.FAIL
    with pytest.raises(ValidationError) as excinfo:
        verified.full_clean()
    assert excinfo.value.message_dict[NON_FIELD_ERRORS] == [MSG_FAIL_MESSAGE]


@pytest.mark.django_db
def test_reported_runs_are_unique_per_project_and_position():
    snapshot = ReportedRunsSnapshot.objects.create(project="chromium", reported_at=T0)
    ReportedRun.objects.create(**cqd_fields(snapshot=snapshot, position=0))
    with db_rejects("reportedrun_position", "runs_reportedrun.snapshot_id"):
        ReportedRun.objects.create(**cqd_fields(snapshot=snapshot, position=0))
    with db_rejects("project"):
        ReportedRunsSnapshot.objects.create(project="chromium", reported_at=T1)


# --- NetrcToken --------------------------------------------------------------------------------

PLAINTEXT = "git-cqdaemon-token-1/abcdefghijklmnopqrstuvwxyz0123456789"


def saved_token(host: str = HOST) -> NetrcToken:
    token = NetrcToken(gerrit_host=host)
    token.set_access_token(PLAINTEXT)
    token.save()
    return NetrcToken.objects.get(pk=token.pk)


@pytest.mark.django_db
def test_netrc_token_round_trips_and_is_stored_encrypted():
    token = saved_token()
    stored = bytes(token.encrypted_access_token)
    assert token.access_token() == PLAINTEXT
    assert PLAINTEXT.encode() not in stored
    assert b"abcdefghijklmnopqrstuvwxyz" not in stored
    again = NetrcToken(gerrit_host="x")
    again.set_access_token(PLAINTEXT)
    assert bytes(again.encrypted_access_token) != stored  # Fernet is randomized


@pytest.mark.django_db
def test_netrc_token_survives_key_rotation():
    old = saved_token()
    new_key = Fernet.generate_key().decode()
    with override_settings(NETRC_TOKEN_KEYS=[new_key, *settings.NETRC_TOKEN_KEYS]):
        assert old.access_token() == PLAINTEXT  # old key still decrypts
        rotated = saved_token("chrome-internal-review.googlesource.com")
        assert rotated.access_token() == PLAINTEXT
    # The newest key encrypts: without it, the new token cannot be read.
    with pytest.raises(InvalidToken):
        rotated.access_token()
    with override_settings(NETRC_TOKEN_KEYS=[new_key]):
        assert rotated.access_token() == PLAINTEXT


@pytest.mark.django_db
def test_netrc_token_under_an_unknown_key_does_not_decrypt():
    token = saved_token()
    with override_settings(NETRC_TOKEN_KEYS=[Fernet.generate_key().decode()]):
        with pytest.raises(InvalidToken):
            token.access_token()


def test_netrc_token_with_an_invalid_key_is_improperly_configured():
    with override_settings(NETRC_TOKEN_KEYS=["not-a-fernet-key"]):
        with pytest.raises(ImproperlyConfigured):
            NetrcToken(gerrit_host=HOST).set_access_token(PLAINTEXT)


@pytest.mark.django_db
def test_netrc_token_is_unique_per_host():
    saved_token()
    with db_rejects("gerrit_host"):
        saved_token()
