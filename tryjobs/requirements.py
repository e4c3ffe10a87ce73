"""Requirements as operators give them: parsed from text or JSON, and checked before use.

Bad input is an ActionError(INVALID_ARGUMENT) naming the field and the reason.
"""

from google.protobuf import json_format, text_format

from cvproto.codes import Code
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.validation import InvalidMessage
from runs.errors import ActionError
from tryjobs import serializers
from tryjobs.definitions import DuplicateDefinitionError, keyed_definitions

__all__ = ["check_requirement", "format_of", "parse_requirement"]

Requirement = tryjob_pb.Requirement

_TEXT_SUFFIXES = (".txtpb", ".textpb", ".textproto", ".pbtxt", ".prototxt")


def format_of(path: str) -> str | None:
    """ "json" or "text" by a file name's extension; None when it does not say."""
    lowered = path.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith(_TEXT_SUFFIXES):
        return "text"
    return None


def parse_requirement(
    data: str | bytes, fmt: str | None = None, source: str = "requirement"
) -> Requirement:
    """A Requirement from protobuf text format or JSON (`fmt` None: JSON iff it starts with
    "{"), checked with `check_requirement`; ActionError(INVALID_ARGUMENT) names the problem."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ActionError(Code.INVALID_ARGUMENT, f"{source}: not UTF-8 text ({e})") from e
    if fmt is None:
        fmt = "json" if data.lstrip().startswith("{") else "text"
    requirement = Requirement()
    try:
        if fmt == "json":
            json_format.Parse(data, requirement)
        elif fmt == "text":
            text_format.Parse(data, requirement)
        else:
            raise ActionError(
                Code.INVALID_ARGUMENT, f"{source}: unknown format {fmt!r}; use json or text"
            )
    except (json_format.ParseError, text_format.ParseError) as e:
        name = "JSON" if fmt == "json" else "protobuf text format"
        raise ActionError(
            Code.INVALID_ARGUMENT,
            f"{source}: not a cv.internal.tryjob.Requirement in {name}: {e}",
        ) from e
    check_requirement(requirement, source)
    return requirement


def check_requirement(requirement: Requirement, source: str = "requirement") -> None:
    """Refuses a requirement cvsite cannot execute or store, naming the field."""
    try:
        keyed_definitions(requirement, source)
    except DuplicateDefinitionError as e:
        raise ActionError(Code.INVALID_ARGUMENT, str(e)) from e
    for i, definition in enumerate(requirement.definitions):
        try:
            serializers.definition_columns(definition, f"{source}.definitions[{i}]")
        except InvalidMessage as e:
            raise ActionError(Code.INVALID_ARGUMENT, str(e)) from e
    if requirement.HasField("retry_config"):
        for name, value in requirement.retry_config.ListFields():
            if value < 0:
                raise ActionError(
                    Code.INVALID_ARGUMENT,
                    f"{source}.retry_config.{name.name}: must not be negative, got {value}",
                )
