"""Buildbucket build → Tryjob status/result mapping and CQ output parsing.

Pure helpers. Spec: tryjob_semantics.md §7.1 (status mapping) and §7.2 (output parsing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format

from cvproto.buildbucket.v2 import build_pb2, common_pb2
from cvproto.cq.recipe import cq_pb2
from cvproto.cv.internal.tryjob import storage_pb2

__all__ = [
    "CQ_OUTPUT_KEY",
    "DO_NOT_RETRY_KEY",
    "FAILURE_TYPE_KEY",
    "TRANSIENT_FAILURE",
    "BuildbucketStatusError",
    "InvalidOutputPropertiesError",
    "UnexpectedBuildStatusError",
    "parse_cq_output",
    "parse_cq_output_with_errors",
    "result_from_build",
    "tryjob_status_from_build",
]

CQ_OUTPUT_KEY = "$recipe_engine/cq/output"
DO_NOT_RETRY_KEY = "do_not_retry"
FAILURE_TYPE_KEY = "failure_type"
TRANSIENT_FAILURE = "TRANSIENT_FAILURE"
_CV_KEYS = (CQ_OUTPUT_KEY, DO_NOT_RETRY_KEY, FAILURE_TYPE_KEY)

_BB = common_pb2
_Result = storage_pb2.Result


class BuildbucketStatusError(ValueError):
    """Base class for all errors raised by this module."""


class UnexpectedBuildStatusError(BuildbucketStatusError):
    """The build status cannot be mapped to a Tryjob status."""


class InvalidOutputPropertiesError(BuildbucketStatusError):
    """The build's output properties are not a JSON object."""


def _status_label(status: object) -> str:
    if isinstance(status, int) and not isinstance(status, bool):
        try:
            return _BB.Status.Name(status)
        except ValueError:
            return str(status)
    return repr(status)


def tryjob_status_from_build(
    build_status: int, timeout: bool, transient_failure: bool
) -> tuple[int, int]:
    """Maps a build to (tryjob `Status`, `Result.Status`), checking rules in spec order.

    `timeout`: the build's `status_details.timeout` is set.
    `transient_failure`: output property `failure_type == "TRANSIENT_FAILURE"`
    (see `parse_cq_output`).
    """
    if isinstance(build_status, bool) or not isinstance(build_status, int):
        raise UnexpectedBuildStatusError(
            f"unexpected buildbucket status {_status_label(build_status)}: must be an int"
        )
    if build_status == _BB.SUCCESS:
        # SUCCESS wins even over a timeout flag.
        return storage_pb2.ENDED, _Result.SUCCEEDED
    if timeout:
        # Upstream checks this before looking at the status at all.
        return storage_pb2.ENDED, _Result.TIMEOUT
    if build_status == _BB.FAILURE:
        if transient_failure:
            return storage_pb2.ENDED, _Result.FAILED_TRANSIENTLY
        return storage_pb2.ENDED, _Result.FAILED_PERMANENTLY
    if build_status in (_BB.CANCELED, _BB.INFRA_FAILURE):
        # CANCELED counts as transient for legacy CQ compatibility.
        return storage_pb2.ENDED, _Result.FAILED_TRANSIENTLY
    if build_status in (_BB.SCHEDULED, _BB.STARTED):
        return storage_pb2.TRIGGERED, _Result.UNKNOWN
    raise UnexpectedBuildStatusError(f"unexpected buildbucket status {_status_label(build_status)}")


def parse_cq_output_with_errors(
    output_properties: Mapping[str, Any] | None,
) -> tuple[cq_pb2.Output | None, bool, list[str]]:
    """Like `parse_cq_output`, but also returns the parse errors (for logging)."""
    if output_properties is None:
        return None, False, []
    if not isinstance(output_properties, Mapping):
        raise InvalidOutputPropertiesError(
            f"invalid output properties {output_properties!r}: must be a JSON object (dict), "
            f"not {type(output_properties).__name__}"
        )
    # Computed independently of the Output so it survives Output errors.
    transient = output_properties.get(FAILURE_TYPE_KEY) == TRANSIENT_FAILURE
    if not any(k in output_properties for k in _CV_KEYS):
        return None, transient, []

    output = cq_pb2.Output()
    errors: list[str] = []
    if CQ_OUTPUT_KEY in output_properties:
        raw = output_properties[CQ_OUTPUT_KEY]
        if not isinstance(raw, dict):
            errors.append(
                f'"{CQ_OUTPUT_KEY}" must be a JSON object, got {type(raw).__name__} {raw!r}'
            )
        elif isinstance(raw.get("retry"), bool):
            # Python's ParseDict takes a bool as enum number 0/1; proto JSON does not.
            errors.append(
                f'"{CQ_OUTPUT_KEY}" is not a valid cq.recipe.Output: '
                f"retry must be an enum name or number, got {raw['retry']!r}"
            )
        else:
            try:
                json_format.ParseDict(raw, output)
            except json_format.ParseError as e:
                errors.append(f'"{CQ_OUTPUT_KEY}" is not a valid cq.recipe.Output: {e}')
    if DO_NOT_RETRY_KEY in output_properties:
        dnr = output_properties[DO_NOT_RETRY_KEY]
        if not isinstance(dnr, bool):
            errors.append(
                f'"{DO_NOT_RETRY_KEY}" must be a JSON boolean, got {type(dnr).__name__} {dnr!r}'
            )
        elif output.retry == cq_pb2.Output.OUTPUT_RETRY_UNSPECIFIED:
            # Legacy key only fills the gap; the structured output wins.
            output.retry = (
                cq_pb2.Output.OUTPUT_RETRY_DENIED if dnr else cq_pb2.Output.OUTPUT_RETRY_ALLOWED
            )
    if errors:
        return None, transient, errors
    return output, transient, []


def parse_cq_output(
    output_properties: Mapping[str, Any] | None,
) -> tuple[cq_pb2.Output | None, bool]:
    """Extracts (`cq.recipe.Output` or None, transient-failure flag) from build output properties.

    Output is None when no CV key is present or when any CV key is malformed;
    the transient flag is True iff `failure_type == "TRANSIENT_FAILURE"`.
    """
    output, transient, _ = parse_cq_output_with_errors(output_properties)
    return output, transient


def result_from_build(build: build_pb2.Build) -> tuple[int, storage_pb2.Result]:
    """(tryjob status, Result) of a build (buildbucket.md §2.4): the mapping above, and the
    result's times, output and the build's identity, status, summary and ResultDB
    invocation. Raises UnexpectedBuildStatusError; a malformed CV output only drops the
    result's output, as upstream."""
    properties = (
        json_format.MessageToDict(build.output.properties)
        if build.output.HasField("properties")
        else None
    )
    output, transient = parse_cq_output(properties)
    status, result_status = tryjob_status_from_build(
        build.status, build.status_details.HasField("timeout"), transient
    )
    result = _Result(status=result_status)
    if build.HasField("create_time"):
        result.create_time.CopyFrom(build.create_time)
    if build.HasField("update_time"):
        result.update_time.CopyFrom(build.update_time)
    if output is not None:
        result.output.CopyFrom(output)
    bb = result.buildbucket
    bb.id = build.id
    bb.builder.CopyFrom(build.builder)
    bb.status = build.status
    bb.summary_markdown = build.summary_markdown
    if build.infra.HasField("resultdb"):
        bb.infra.resultdb.CopyFrom(build.infra.resultdb)
    return status, result
