"""What drf-spectacular cannot infer: how API tokens are sent."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "restapi.access.BearerTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (manage.py create_api_token): it sees its projects.",
        }


ERROR_RESPONSES = {
    "400": ("Bad input: each rejected parameter with its reasons.", "ValidationError"),
    "401": ("No credentials, or an unknown or revoked token.", "Error"),
    "403": ("Logged in, but not staff.", "Error"),
    "404": ("No such object in your projects.", "Error"),
    "406": ("The Accept header names no type this API answers in (application/json).", "Error"),
    "429": ("Over the rate limit: retry after Retry-After seconds.", "Error"),
}
ERROR_SCHEMAS = {
    "Error": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "ValidationError": {
        "type": "object",
        "description": "Rejected parameter -> why.",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Requests allowed per period.",
    "RateLimit-Remaining": "Requests left in this period.",
    "RateLimit-Reset": "Seconds until the period's budget is whole again.",
}


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: the errors every endpoint may answer, the rate-limit headers, that
    no query parameter may be empty, and answers' integers without database-dependent bounds."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for component in schemas.values():
        for field in component.get("properties", {}).values():
            if field.get("type") == "integer":
                # The column's range and size as the database in use says: they differ between
                # SQLite and PostgreSQL, and an answer's bounds are no promise to a client.
                for key in ("minimum", "maximum", "format"):
                    field.pop(key, None)
    schemas.update(ERROR_SCHEMAS)
    headers = {
        name: {"schema": {"type": "integer"}, "description": description}
        for name, description in RATE_LIMIT_HEADERS.items()
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                schema = schema.get("items", schema)
                if parameter["in"] == "query" and schema.get("type") == "string":
                    schema.setdefault("minLength", 1)  # restapi.filters.StrictFilterSet
            for code, (description, schema) in ERROR_RESPONSES.items():
                operation["responses"].setdefault(
                    code,
                    {
                        "description": description,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{schema}"}
                            }
                        },
                    },
                )
            for response in operation["responses"].values():
                response.setdefault("headers", {}).update(headers)
    return result
