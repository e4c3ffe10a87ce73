"""Schemathesis against a live server: requests generated from the committed schema for every
endpoint, valid ones and invalid ones. No answer is a 500, and every answer (status, headers,
body) is one the schema describes.

The operations are driven one by one with Hypothesis (schemathesis's own pytest loader does
not run under pytest 9). CVSITE_API_FUZZ_EXAMPLES sets the examples per endpoint and mode
(make test: 25).
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from migration_api.models import ApiToken
from restapi.tests.conftest import add_cls, make_cl, make_full_run, make_tryjob
from restapi.tests.test_schema import COMMITTED
from runs.models import RunStatus
from runs.tests.factories import make_run

EXAMPLES = int(os.environ.get("CVSITE_API_FUZZ_EXAMPLES", "25"))
SCHEMA = schemathesis.openapi.from_path(COMMITTED)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def api_token(transactional_db) -> str:
    # Objects to find, in scope and out of it, so that some generated requests hit them.
    make_full_run("chromium")
    make_full_run("v8", status=RunStatus.FAILED)
    add_cls(make_run("chromium"), [make_cl(1)])
    make_tryjob()
    return ApiToken.issue("schemathesis", ["chromium"])[1]


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_every_answer_conforms_and_none_is_a_500(live_server, api_token, operation, mode):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case):
        case.call_and_validate(
            base_url=live_server.url,
            headers={"Authorization": f"Bearer {api_token}"},
            # Some values that fit the schema are still refused, rightly: a cursor this API
            # did not issue, text in `cl` that names no CL. Every other check runs.
            excluded_checks=[positive_data_acceptance],
        )

    check()
