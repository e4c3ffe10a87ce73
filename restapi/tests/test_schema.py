"""The OpenAPI schema: valid, documented, and committed as restapi/openapi.yml."""

from pathlib import Path

import yaml
from django.core.management import call_command
from openapi_spec_validator import validate

COMMITTED = Path(__file__).resolve().parent.parent / "openapi.yml"
REGENERATE = "make api-schema"


def generated_schema(tmp_path) -> str:
    out = tmp_path / "openapi.yml"
    call_command("spectacular", urlconf="restapi.urls", file=str(out), validate=True)
    return out.read_text()


def test_the_committed_schema_is_current(tmp_path):
    assert generated_schema(tmp_path) == COMMITTED.read_text(), (
        f"the REST API's schema changed: run `{REGENERATE}` and commit restapi/openapi.yml"
    )


def test_the_schema_is_valid_openapi():
    validate(yaml.safe_load(COMMITTED.read_text()))


def test_every_parameter_and_field_is_documented():
    schema = yaml.safe_load(COMMITTED.read_text())
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    assert parameter.get("description"), (path, parameter["name"])
                    assert parameter.get("schema", {}).get("type") or parameter["schema"].get(
                        "items"
                    ), (path, parameter["name"])
    status = schema["components"]["schemas"]["RunStatusEnum"]
    assert status["enum"] == [
        "PENDING",
        "RUNNING",
        "WAITING_FOR_SUBMISSION",
        "SUBMITTING",
        "SUCCEEDED",
        "FAILED",
        "CANCELLED",
    ]
