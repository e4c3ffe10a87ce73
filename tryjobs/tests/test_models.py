"""The seed's Status invariants and the shape of definitions and results are enforced by the
database: each case saves a valid row, then writes the same row with exactly one invariant broken
through `objects.create()` and through a queryset `update()` (neither runs Python validation) and
expects an IntegrityError naming the constraint. `validate_constraints()` must report the same
constraint, with its violation_error_message where one is set.
"""

import itertools
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from runs.tests.constraints import apply, constraint_messages, db_rejects, default_message
from runs.tests.factories import BASE_TIME, make_cl, make_run
from tryjobs.models import (
    RETRY_CONFIG_FIELDS,
    BuildStatus,
    CommentLevel,
    Execution,
    ExecutionAttempt,
    ExecutionLogEntry,
    ExecutionState,
    ExecutionStatus,
    LaunchFailure,
    LogKind,
    ResultStatus,
    Tryjob,
    TryjobCLPatchset,
    TryjobStatus,
    UnsuccessfulResult,
)

T0 = BASE_TIME
T1 = BASE_TIME + timedelta(minutes=30)
BB_HOST = "cr-buildbucket.appspot.com"
EID = f"buildbucket/{BB_HOST}/8800000000000000001"

_build_ids = itertools.count(8_900_000_000_000_000_000)
_positions = itertools.count(0)

DEFINITION = {
    "buildbucket_host": BB_HOST,
    "builder_project": "chromium",
    "builder_bucket": "try",
    "builder_name": "linux-rel",
}
EQUIVALENT = {
    "equivalent_host": BB_HOST,
    "equivalent_project": "chromium",
    "equivalent_bucket": "try",
    "equivalent_name": "linux-rel-orchestrator",
}
BUILD_BUILDER = {
    "build_builder_project": "chromium",
    "build_builder_bucket": "try",
    "build_builder_name": "linux-rel",
}
RETRY_CONFIG = dict.fromkeys(RETRY_CONFIG_FIELDS, 1)

MSG_NEEDS_EID = "a TRIGGERED, ENDED or CANCELLED tryjob needs an external ID"
MSG_NO_EID = "a PENDING or UNTRIGGERED tryjob has no external ID"
MSG_EMPTY_EID = "an absent external ID is NULL, never empty"
MSG_FINAL_RESULT = "an ENDED tryjob needs a result whose status is not UNKNOWN"
MSG_NO_RESULT = "a PENDING, CANCELLED or UNTRIGGERED tryjob has no result"
MSG_BUILDER_SET = "a definition needs a Buildbucket host and builder"
MSG_EQUIVALENT_WHOLE = "an equivalent builder needs host, project, bucket, name"
MSG_END_TIME = "a terminal state has an end time, a running one none"
MSG_FAILED_FAILURES = "a FAILED execution state must say why (failures)"


def new_external_id() -> str:
    return f"buildbucket/{BB_HOST}/{next(_build_ids)}"


def status_fields(status: int, /, **overrides) -> dict:
    """Status, external ID and result of a tryjob or attempt that satisfy the seed's invariants."""
    fields = {"status": status}
    if status in (TryjobStatus.TRIGGERED, TryjobStatus.ENDED, TryjobStatus.CANCELLED):
        fields["external_id"] = new_external_id()
    if status == TryjobStatus.ENDED:
        fields["result_status"] = ResultStatus.SUCCEEDED
    fields.update(overrides)
    return fields


def tryjob_fields(status: int = TryjobStatus.PENDING, /, **overrides) -> dict:
    fields = {**DEFINITION, "create_time": T0, "update_time": T0}
    if status == TryjobStatus.UNTRIGGERED:
        fields["untriggered_reason"] = "CV is not allowed to trigger this builder"
    fields.update(status_fields(status, **overrides))
    return fields


def make_tryjob(status: int = TryjobStatus.PENDING, /, **overrides) -> Tryjob:
    return Tryjob.objects.create(**tryjob_fields(status, **overrides))


def make_state(**overrides) -> ExecutionState:
    return ExecutionState.objects.create(run=make_run(), **overrides)


def make_execution(state: ExecutionState | None = None, **overrides) -> Execution:
    fields = {**DEFINITION, "state": state or make_state(), "position": next(_positions)}
    fields.update(overrides)
    return Execution.objects.create(**fields)


def attempt_fields(execution: Execution, status: int, /, **overrides) -> dict:
    fields = {"execution": execution, "position": next(_positions)}
    if "tryjob" not in overrides:
        fields["tryjob_id"] = 1  # no foreign key in the database: any ID will do
    fields.update(status_fields(status, **overrides))
    return fields


@dataclass(frozen=True)
class Violation:
    id: str
    status: int
    bad: dict
    constraint: str  # without the model's prefix
    message: str | None = None  # None: the default "Constraint … is violated."
    base: dict = field(default_factory=dict)

    def expected_message(self, prefix: str) -> str:
        return self.message or default_message(f"{prefix}_{self.constraint}")


S = TryjobStatus
R = ResultStatus
WITH_RESULT = {"result_status": R.UNKNOWN}
WITH_BUILD = {"result_status": R.UNKNOWN, "build_id": 8_800_000_000_000_000_001}

# Shared by Tryjob and ExecutionAttempt (prefixes "tryjob" and "attempt").
STATUS_VIOLATIONS = [
    Violation("triggered-without-eid", S.TRIGGERED, {"external_id": None},
              "triggered_has_external_id", MSG_NEEDS_EID),
    Violation("ended-without-eid", S.ENDED, {"external_id": None},
              "triggered_has_external_id", MSG_NEEDS_EID),
    Violation("cancelled-without-eid", S.CANCELLED, {"external_id": None},
              "triggered_has_external_id", MSG_NEEDS_EID),
    Violation("pending-with-eid", S.PENDING, {"external_id": EID},
              "untriggered_has_no_external_id", MSG_NO_EID),
    Violation("untriggered-with-eid", S.UNTRIGGERED, {"external_id": EID},
              "untriggered_has_no_external_id", MSG_NO_EID),
    Violation("empty-eid", S.TRIGGERED, {"external_id": ""},
              "external_id_not_empty", MSG_EMPTY_EID),
    Violation("ended-without-result", S.ENDED, {"result_status": None},
              "ended_has_final_result", MSG_FINAL_RESULT),
    Violation("ended-with-unknown-result", S.ENDED, {"result_status": R.UNKNOWN},
              "ended_has_final_result", MSG_FINAL_RESULT),
    Violation("pending-with-result", S.PENDING, {"result_status": R.SUCCEEDED},
              "unlaunched_has_no_result", MSG_NO_RESULT),
    Violation("pending-with-unknown-result", S.PENDING, {"result_status": R.UNKNOWN},
              "unlaunched_has_no_result", MSG_NO_RESULT),
    Violation("cancelled-with-result", S.CANCELLED, {"result_status": R.FAILED_PERMANENTLY},
              "unlaunched_has_no_result", MSG_NO_RESULT),
    Violation("untriggered-with-result", S.UNTRIGGERED, {"result_status": R.SUCCEEDED},
              "unlaunched_has_no_result", MSG_NO_RESULT),
    Violation("status-0", S.PENDING, {"status": 0}, "status_valid"),
    Violation("status-6", S.PENDING, {"status": 6}, "status_valid"),
    Violation("status-9", S.PENDING, {"status": 9}, "status_valid"),
]  # fmt: skip

RESULT_VIOLATIONS = [
    Violation("result-status-0", S.TRIGGERED, {"result_status": 0}, "result_status_valid"),
    Violation("result-status-6", S.ENDED, {"result_status": 6}, "result_status_valid"),
    Violation("result-create-time-without-result", S.PENDING, {"result_create_time": T0},
              "result_parts_need_result"),
    Violation("result-update-time-without-result", S.PENDING, {"result_update_time": T0},
              "result_parts_need_result"),
    Violation("result-output-without-result", S.TRIGGERED, {"result_output": b"\x08\x01"},
              "result_parts_need_result"),
    Violation("build-id-without-result", S.TRIGGERED, {"build_id": 8_800_000_000_000_000_001},
              "result_parts_need_result"),
    Violation("build-status-without-build-id", S.TRIGGERED, {"build_status": BuildStatus.STARTED},
              "build_parts_need_build", base=WITH_RESULT),
    Violation("build-builder-without-build-id", S.TRIGGERED, BUILD_BUILDER,
              "build_parts_need_build", base=WITH_RESULT),
    Violation("build-summary-without-build-id", S.TRIGGERED, {"build_summary_markdown": "ok"},
              "build_parts_need_build", base=WITH_RESULT),
    Violation("build-infra-without-build-id", S.TRIGGERED, {"build_infra": b"\x0a\x00"},
              "build_parts_need_build", base=WITH_RESULT),
    Violation("build-builder-project-only", S.TRIGGERED, {"build_builder_project": "chromium"},
              "build_builder_whole", base=WITH_BUILD),
    Violation("build-builder-without-name", S.TRIGGERED,
              {"build_builder_project": "chromium", "build_builder_bucket": "try"},
              "build_builder_whole", base=WITH_BUILD),
    Violation("build-builder-name-only", S.TRIGGERED, {"build_builder_name": "linux-rel"},
              "build_builder_whole", base=WITH_BUILD),
    Violation("build-builder-name-only-without-build-id", S.TRIGGERED,
              {"build_builder_name": "linux-rel"}, "build_builder_whole", base=WITH_RESULT),
    Violation("build-builder-name-removed", S.TRIGGERED, {"build_builder_name": None},
              "build_builder_whole", base={**WITH_BUILD, **BUILD_BUILDER}),
]  # fmt: skip

TRYJOB_ONLY_VIOLATIONS = [
    Violation("untriggered-reason-on-pending", S.PENDING, {"untriggered_reason": "no quota"},
              "untriggered_reason_only_when_untriggered"),
    Violation("untriggered-reason-on-triggered", S.TRIGGERED, {"untriggered_reason": "x"},
              "untriggered_reason_only_when_untriggered"),
    Violation("untriggered-reason-on-ended", S.ENDED, {"untriggered_reason": "x"},
              "untriggered_reason_only_when_untriggered"),
    Violation("untriggered-reason-on-cancelled", S.CANCELLED, {"untriggered_reason": "x"},
              "untriggered_reason_only_when_untriggered"),
    Violation("untriggered-to-pending-keeps-reason", S.UNTRIGGERED, {"status": S.PENDING},
              "untriggered_reason_only_when_untriggered"),
]  # fmt: skip

# Shared by Tryjob, Execution and LaunchFailure: (id, bad columns, constraint, message).
DEFINITION_VIOLATIONS = [
    ("no-host", {"buildbucket_host": ""}, "definition_builder_set", MSG_BUILDER_SET),
    ("no-project", {"builder_project": ""}, "definition_builder_set", MSG_BUILDER_SET),
    ("no-bucket", {"builder_bucket": ""}, "definition_builder_set", MSG_BUILDER_SET),
    ("no-builder-name", {"builder_name": ""}, "definition_builder_set", MSG_BUILDER_SET),
    ("equivalent-name-only", {"equivalent_name": "linux-rel-orchestrator"},
     "definition_equivalent_whole", MSG_EQUIVALENT_WHOLE),
    ("equivalent-without-host", {**EQUIVALENT, "equivalent_host": ""},
     "definition_equivalent_whole", MSG_EQUIVALENT_WHOLE),
    ("equivalent-without-project", {**EQUIVALENT, "equivalent_project": ""},
     "definition_equivalent_whole", MSG_EQUIVALENT_WHOLE),
    ("equivalent-without-bucket", {**EQUIVALENT, "equivalent_bucket": ""},
     "definition_equivalent_whole", MSG_EQUIVALENT_WHOLE),
    ("equivalent-without-name", {**EQUIVALENT, "equivalent_name": ""},
     "definition_equivalent_whole", MSG_EQUIVALENT_WHOLE),
    ("visibility-3", {"result_visibility": 3}, "definition_visibility_valid", None),
    ("visibility-minus-1", {"result_visibility": -1}, "definition_visibility_valid", None),
]  # fmt: skip


def _ids(cases):
    return [case.id for case in cases]


# --- Tryjob ------------------------------------------------------------------------------------

TRYJOB_VIOLATIONS = [*STATUS_VIOLATIONS, *RESULT_VIOLATIONS, *TRYJOB_ONLY_VIOLATIONS]


@pytest.mark.django_db
@pytest.mark.parametrize("case", TRYJOB_VIOLATIONS, ids=_ids(TRYJOB_VIOLATIONS))
def test_tryjob_invariant_is_enforced_by_the_database(case: Violation):
    constraint = f"tryjob_{case.constraint}"
    valid = make_tryjob(case.status, **case.base)

    with db_rejects(constraint):
        make_tryjob(case.status, **{**case.base, **case.bad})
    with db_rejects(constraint):
        Tryjob.objects.filter(pk=valid.pk).update(**case.bad)

    valid.refresh_from_db()
    assert valid.status == case.status  # the rejected update left the row as it was
    assert constraint_messages(apply(valid, case.bad)) == [case.expected_message("tryjob")]


FINAL_RESULT = {
    "result_create_time": T0,
    "result_update_time": T1,
    "result_output": b"\x08\x01",
    "build_id": 8_800_000_000_000_000_002,
    "build_status": BuildStatus.SUCCESS,
    **BUILD_BUILDER,
    "build_summary_markdown": "all green",
    "build_infra": b"\x0a\x00",
}

# (id, status, overrides): every one is a valid row.
VALID_STATUS_ROWS = [
    ("pending", S.PENDING, {}),
    ("triggered-without-result", S.TRIGGERED, {}),
    ("triggered-with-unknown-result", S.TRIGGERED, {"result_status": R.UNKNOWN}),
    ("triggered-with-running-build", S.TRIGGERED,
     {**FINAL_RESULT, "result_status": R.UNKNOWN, "build_status": BuildStatus.STARTED}),
    ("triggered-with-result-that-may-change", S.TRIGGERED, {"result_status": R.SUCCEEDED}),
    ("triggered-with-build-id-only", S.TRIGGERED, {"result_status": R.UNKNOWN, "build_id": 7}),
    ("ended-succeeded", S.ENDED, {"result_status": R.SUCCEEDED}),
    ("ended-succeeded-full-result", S.ENDED, {**FINAL_RESULT, "result_status": R.SUCCEEDED}),
    *[
        (f"ended-{status.name.lower()}", S.ENDED, {"result_status": status})
        for status in (R.FAILED_PERMANENTLY, R.FAILED_TRANSIENTLY, R.TIMEOUT)
    ],
    ("cancelled", S.CANCELLED, {}),
    ("untriggered", S.UNTRIGGERED, {}),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status, overrides", [c[1:] for c in VALID_STATUS_ROWS], ids=[c[0] for c in VALID_STATUS_ROWS]
)
def test_valid_tryjob_saves(status, overrides):
    tryjob = make_tryjob(status, **overrides)
    tryjob.full_clean()
    tryjob.refresh_from_db()
    assert tryjob.status == status
    assert tryjob.result_status == status_fields(status, **overrides).get("result_status")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        EQUIVALENT,
        {"result_visibility": CommentLevel.FULL},
        {"result_visibility": CommentLevel.RESTRICTED},
        {"untriggered_reason": ""},
    ],
    ids=["equivalent-builder", "visibility-full", "visibility-restricted", "empty-reason"],
)
def test_valid_tryjob_definitions_save(overrides):
    status = S.UNTRIGGERED if "untriggered_reason" in overrides else S.PENDING
    make_tryjob(status, **overrides).full_clean()


@pytest.mark.django_db
def test_external_id_is_unique_but_many_tryjobs_have_none():
    first = make_tryjob(S.TRIGGERED)
    make_tryjob(S.PENDING)
    make_tryjob(S.PENDING)  # NULL external IDs never collide
    make_tryjob(S.UNTRIGGERED)

    with db_rejects("external_id"):  # SQLite: tryjobs_tryjob.external_id; PG: ..._external_id_key
        make_tryjob(S.ENDED, external_id=first.external_id)
    other = make_tryjob(S.TRIGGERED)
    with db_rejects("external_id"):
        Tryjob.objects.filter(pk=other.pk).update(external_id=first.external_id)

    duplicate = Tryjob(**tryjob_fields(S.TRIGGERED, external_id=first.external_id))
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert "external_id" in excinfo.value.message_dict
    assert Tryjob.objects.filter(external_id__isnull=True).count() == 3


@pytest.mark.django_db
def test_tryjob_full_clean_reports_the_violation_message():
    tryjob = make_tryjob(S.ENDED)
    tryjob.result_status = R.UNKNOWN
    with pytest.raises(ValidationError) as excinfo:
        tryjob.full_clean()
    assert excinfo.value.message_dict[NON_FIELD_ERRORS] == [MSG_FINAL_RESULT]

    tryjob = make_tryjob(S.TRIGGERED)
    tryjob.status = S.PENDING
    with pytest.raises(ValidationError) as excinfo:
        tryjob.full_clean()
    assert excinfo.value.message_dict[NON_FIELD_ERRORS] == [MSG_NO_EID]


@pytest.mark.django_db
def test_tryjob_lifecycle_through_updates():
    """Each step a real executor takes is allowed; skipping the result on ENDED is not."""
    tryjob = make_tryjob(S.PENDING)
    eid = new_external_id()
    rows = Tryjob.objects.filter(pk=tryjob.pk)
    rows.update(status=S.TRIGGERED, external_id=eid)
    rows.update(result_status=R.UNKNOWN, build_id=1, build_status=BuildStatus.STARTED)
    with db_rejects("tryjob_ended_has_final_result"):
        rows.update(status=S.ENDED)
    rows.update(status=S.ENDED, result_status=R.SUCCEEDED, build_status=BuildStatus.SUCCESS)
    assert rows.get().status == S.ENDED


# --- Definitions: Tryjob, Execution, LaunchFailure ---------------------------------------------

DEFINITION_MODELS = {Tryjob: "tryjob", Execution: "execution", LaunchFailure: "launchfailure"}


def definition_row(model, **overrides):
    if model is Tryjob:
        return make_tryjob(**overrides)
    if model is Execution:
        return make_execution(**overrides)
    fields = {**DEFINITION, "state": make_state(), "position": next(_positions), "reason": "403"}
    fields.update(overrides)
    return LaunchFailure.objects.create(**fields)


@pytest.mark.django_db
@pytest.mark.parametrize("model", DEFINITION_MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize(
    "bad, constraint, message",
    [case[1:] for case in DEFINITION_VIOLATIONS],
    ids=[case[0] for case in DEFINITION_VIOLATIONS],
)
def test_definition_invariant_is_enforced_by_the_database(model, bad, constraint, message):
    constraint = f"{DEFINITION_MODELS[model]}_{constraint}"
    valid = definition_row(model)
    definition_row(model, **EQUIVALENT)  # a whole equivalent builder is fine

    with db_rejects(constraint):
        definition_row(model, **bad)
    with db_rejects(constraint):
        model.objects.filter(pk=valid.pk).update(**bad)

    assert constraint_messages(apply(valid, bad)) == [message or default_message(constraint)]


@pytest.mark.django_db
def test_definition_full_clean_reports_the_violation_message():
    execution = make_execution()
    execution.equivalent_bucket = "try"
    with pytest.raises(ValidationError) as excinfo:
        execution.full_clean()
    assert excinfo.value.message_dict[NON_FIELD_ERRORS] == [MSG_EQUIVALENT_WHOLE]


# --- ExecutionAttempt --------------------------------------------------------------------------

ATTEMPT_VIOLATIONS = [*STATUS_VIOLATIONS, *RESULT_VIOLATIONS]


@pytest.mark.django_db
@pytest.mark.parametrize("case", ATTEMPT_VIOLATIONS, ids=_ids(ATTEMPT_VIOLATIONS))
def test_attempt_invariant_is_enforced_by_the_database(case: Violation):
    constraint = f"attempt_{case.constraint}"
    execution = make_execution()
    valid = ExecutionAttempt.objects.create(**attempt_fields(execution, case.status, **case.base))

    with db_rejects(constraint):
        ExecutionAttempt.objects.create(
            **attempt_fields(execution, case.status, **{**case.base, **case.bad})
        )
    with db_rejects(constraint):
        ExecutionAttempt.objects.filter(pk=valid.pk).update(**case.bad)

    assert constraint_messages(apply(valid, case.bad)) == [case.expected_message("attempt")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status, overrides", [c[1:] for c in VALID_STATUS_ROWS], ids=[c[0] for c in VALID_STATUS_ROWS]
)
def test_valid_attempt_saves(status, overrides):
    tryjob = make_tryjob(status, **overrides)
    attempt = ExecutionAttempt.objects.create(
        **attempt_fields(
            make_execution(), status, tryjob=tryjob, external_id=tryjob.external_id, **overrides
        )
    )
    attempt.refresh_from_db()
    attempt.full_clean()
    assert attempt.tryjob == tryjob


@pytest.mark.django_db
def test_attempts_share_external_ids_and_outlive_their_tryjob():
    """Attempts are snapshots: no unique external ID and no foreign key to the tryjob."""
    tryjob = make_tryjob(S.ENDED)
    first, second = make_execution(), make_execution()
    for execution in (first, second):
        ExecutionAttempt.objects.create(
            **attempt_fields(
                execution, S.ENDED, external_id=tryjob.external_id, tryjob_id=tryjob.pk
            )
        )
    ExecutionAttempt.objects.create(**attempt_fields(first, S.PENDING, tryjob_id=987654321))
    tryjob.delete()
    assert ExecutionAttempt.objects.count() == 3


@pytest.mark.django_db
def test_attempt_position_is_unique_per_execution():
    execution = make_execution()
    ExecutionAttempt.objects.create(**attempt_fields(execution, S.PENDING, position=0))
    ExecutionAttempt.objects.create(**attempt_fields(make_execution(), S.PENDING, position=0))
    with db_rejects("attempt_position", "tryjobs_executionattempt.execution_id"):
        ExecutionAttempt.objects.create(**attempt_fields(execution, S.PENDING, position=0))
    assert constraint_messages(
        ExecutionAttempt(**attempt_fields(execution, S.PENDING, position=0))
    ) == ["Execution attempt with this Execution and Position already exists."]


# --- ExecutionState ----------------------------------------------------------------------------

SUCCEEDED_STATE = {"status": ExecutionStatus.SUCCEEDED, "end_time": T1}
FAILED_STATE = {"status": ExecutionStatus.FAILED, "end_time": T1, "has_failures": True}
WITH_RETRY = {"has_requirement": True, **RETRY_CONFIG}

# (id, valid base, bad columns, constraint, message)
STATE_VIOLATIONS = [
    ("running-with-end-time", {}, {"end_time": T1},
     "executionstate_end_time_iff_terminal", MSG_END_TIME),
    ("succeeded-without-end-time", SUCCEEDED_STATE, {"end_time": None},
     "executionstate_end_time_iff_terminal", MSG_END_TIME),
    ("failed-without-end-time", FAILED_STATE, {"end_time": None},
     "executionstate_end_time_iff_terminal", MSG_END_TIME),
    ("failed-without-failures", FAILED_STATE, {"has_failures": False},
     "executionstate_failed_has_failures", MSG_FAILED_FAILURES),
    *[
        (f"retry-config-without-{name}", WITH_RETRY, {name: None},
         "executionstate_retry_config_whole", None)
        for name in RETRY_CONFIG_FIELDS
    ],
    ("retry-config-single-quota-only", {"has_requirement": True}, {"retry_single_quota": 2},
     "executionstate_retry_config_whole", None),
    ("retry-config-timeout-weight-only", {"has_requirement": True}, {"retry_timeout_weight": 2},
     "executionstate_retry_config_whole", None),
    ("retry-config-without-requirement", WITH_RETRY, {"has_requirement": False},
     "executionstate_retry_config_needs_requirement", None),
    ("status-0", SUCCEEDED_STATE, {"status": 0}, "executionstate_status_valid", None),
    ("status-4", SUCCEEDED_STATE, {"status": 4}, "executionstate_status_valid", None),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    "base, bad, constraint, message",
    [case[1:] for case in STATE_VIOLATIONS],
    ids=[case[0] for case in STATE_VIOLATIONS],
)
def test_execution_state_invariant_is_enforced_by_the_database(base, bad, constraint, message):
    valid = make_state(**base)
    run = make_run()

    with db_rejects(constraint):
        ExecutionState.objects.create(run=run, **{**base, **bad})
    with db_rejects(constraint):
        ExecutionState.objects.filter(pk=valid.pk).update(**bad)

    assert constraint_messages(apply(valid, bad)) == [message or default_message(constraint)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [{}, {"has_requirement": True}, WITH_RETRY, SUCCEEDED_STATE, {**FAILED_STATE, **WITH_RETRY}],
    ids=["running", "running-with-requirement", "running-with-retry", "succeeded", "failed"],
)
def test_valid_execution_state_saves(fields):
    make_state(**fields).full_clean()


@pytest.mark.django_db
def test_execution_state_full_clean_reports_the_violation_message():
    state = make_state(**FAILED_STATE)
    state.has_failures = False
    with pytest.raises(ValidationError) as excinfo:
        state.full_clean()
    assert excinfo.value.message_dict[NON_FIELD_ERRORS] == [MSG_FAILED_FAILURES]


# --- Positions and other uniques ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Execution, LaunchFailure], ids=lambda m: m.__name__)
def test_definition_rows_have_unique_positions_per_state(model):
    state = make_state()
    definition_row(model, state=state, position=0)
    definition_row(model, state=state, position=1)
    definition_row(model, position=0)  # another state
    name = DEFINITION_MODELS[model]
    sqlite_columns = f"tryjobs_{name}.state_id, tryjobs_{name}.position"
    with db_rejects(f"{name}_position", sqlite_columns):
        definition_row(model, state=state, position=0)


@pytest.mark.django_db
def test_unsuccessful_result_position_is_unique_per_state():
    state = make_state(**FAILED_STATE)
    tryjob = make_tryjob(S.ENDED, result_status=R.FAILED_PERMANENTLY)
    UnsuccessfulResult.objects.create(state=state, position=0, tryjob=tryjob)
    with db_rejects("unsuccessfulresult_position", "tryjobs_unsuccessfulresult.state_id"):
        UnsuccessfulResult.objects.create(state=state, position=0, tryjob=tryjob)


@pytest.mark.django_db
def test_tryjob_cl_patchset_is_unique_per_tryjob_and_cl():
    tryjob, cl = make_tryjob(), make_cl(patchset=3)
    TryjobCLPatchset.objects.create(tryjob=tryjob, cl=cl, patchset=2)
    TryjobCLPatchset.objects.create(tryjob=make_tryjob(), cl=cl, patchset=2)
    with db_rejects("tryjobclpatchset_unique", "tryjobs_tryjobclpatchset.tryjob_id"):
        TryjobCLPatchset.objects.create(tryjob=tryjob, cl=cl, patchset=3)


@pytest.mark.django_db
def test_execution_log_kind_is_checked():
    run = make_run()
    entry = ExecutionLogEntry.objects.create(
        run=run, state_version=1, time=T0, kind=LogKind.TRYJOBS_LAUNCHED, detail=b""
    )
    with db_rejects("executionlog_kind_valid"):
        ExecutionLogEntry.objects.create(
            run=run, state_version=1, time=T0, kind="tryjobs_exploded", detail=b""
        )
    with db_rejects("executionlog_kind_valid"):
        ExecutionLogEntry.objects.filter(pk=entry.pk).update(kind="")
