"""Buildbucket requests built and builds read, as upstream CV does (buildbucket.md §2.2–§2.6).

Pure: no database, no network, no clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from google.protobuf import json_format, struct_pb2

from cvproto.buildbucket.v2 import build_pb2, builds_service_pb2, common_pb2
from cvproto.cq.recipe import cq_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from tryjobs import buildbucket_status
from tryjobs.backend import LaunchCL, LaunchRequest

__all__ = [
    "DEFAULT_MASK",
    "SEARCH_MASK",
    "BuildParseError",
    "ParsedBuild",
    "accepts_for_reuse",
    "builder_name",
    "cancel_request",
    "cl_group_key",
    "equivalent_cl_group_key",
    "get_build_request",
    "parse_build",
    "schedule_build_request",
    "search_builds_request",
]

Build = build_pb2.Build
Result = tryjob_pb.Result

_MASK_FIELDS = [
    "builder",
    "create_time",
    "id",
    "output.properties",
    "status",
    "status_details",
    "summary_markdown",
    "update_time",
    "infra.resultdb",
]
# Reuse needs the CLs a build tested and what it was asked to run with (§2.6).
_SEARCH_EXTRA_FIELDS = ["builder", "input.gerrit_changes", "infra.buildbucket.requested_properties"]
_OUTPUT_KEYS = [
    buildbucket_status.CQ_OUTPUT_KEY,
    buildbucket_status.DO_NOT_RETRY_KEY,
    buildbucket_status.FAILURE_TYPE_KEY,
]


def _mask(fields: list[str]) -> builds_service_pb2.BuildMask:
    mask = builds_service_pb2.BuildMask()
    mask.fields.paths.extend(fields)
    for key in _OUTPUT_KEYS:
        mask.output_properties.add().path.append(key)
    return mask


DEFAULT_MASK = _mask(_MASK_FIELDS)
SEARCH_MASK = _mask(_MASK_FIELDS + _SEARCH_EXTRA_FIELDS)

# Top-level requested properties that do not make a build someone else's (§2.6 (c)).
_REUSABLE_PROPERTY_KEYS = frozenset({"$recipe_engine/cq", "$recipe_engine/cv", "requester"})


def builder_name(builder) -> str:
    return f"{builder.project}/{builder.bucket}/{builder.builder}"


# Launch (§2.2) -------------------------------------------------------------------------------


def _group_key(cls: Iterable[LaunchCL], *, equivalent: bool) -> str:
    ordered = sorted(cls, key=lambda cl: f"gerrit/{cl.host}/{cl.change}")
    parts = [
        b"\0".join(
            [
                cl.host.encode(),
                str(cl.change).encode(),
                str(cl.min_equivalent_patchset if equivalent else cl.patchset).encode(),
            ]
        )
        for cl in ordered
    ]
    digest = hashlib.sha256(b"equivalent_cl_group_key" if equivalent else b"")
    digest.update(b"\0".join(parts))
    return digest.hexdigest()[:16]


def cl_group_key(cls: Iterable[LaunchCL]) -> str:
    """`cq_cl_group_key`: the CLs at their current patchsets."""
    return _group_key(cls, equivalent=False)


def equivalent_cl_group_key(cls: Iterable[LaunchCL]) -> str:
    """`cq_equivalent_cl_group_key`: the CLs at their minimum equivalent patchsets."""
    return _group_key(cls, equivalent=True)


def _attempt_key(run_id: str) -> str:
    return run_id.rsplit("-", 1)[-1]


def _tags(request: LaunchRequest) -> list[common_pb2.StringPair]:
    experimental = request.definition.optional
    pairs = {
        ("user_agent", "cq"),
        ("cq_attempt_key", _attempt_key(request.run_id)),
        ("cq_cl_group_key", cl_group_key(request.cls)),
        ("cq_equivalent_cl_group_key", equivalent_cl_group_key(request.cls)),
        ("cq_experimental", "true" if experimental else "false"),
    }
    pairs |= {("cq_cl_owner", cl.owner_email) for cl in request.cls if cl.owner_email}
    pairs |= {("cq_triggerer", cl.trigger_email) for cl in request.cls if cl.trigger_email}
    pairs |= {("cq_cl_tag", tag) for tag in request.cl_tags}
    trimmed = sorted((key, value.strip()) for key, value in pairs)
    return [common_pb2.StringPair(key=key, value=value) for key, value in trimmed]


def _cq_input(request: LaunchRequest) -> cq_pb2.Input:
    return cq_pb2.Input(
        active=True,
        top_level=True,
        run_mode=request.mode,
        dry_run=request.mode == "DRY_RUN",
        owner_is_googler=request.owner_is_googler,
        experimental=request.definition.optional,
    )


def schedule_build_request(request: LaunchRequest) -> builds_service_pb2.ScheduleBuildRequest:
    """The ScheduleBuild item that launches `request`'s tryjob."""
    definition = request.definition.buildbucket
    schedule = builds_service_pb2.ScheduleBuildRequest(
        request_id=str(request.tryjob_id),
        builder=definition.builder,
        gerrit_changes=[
            common_pb2.GerritChange(
                host=cl.host, project=cl.gerrit_project, change=cl.change, patchset=cl.patchset
            )
            for cl in request.cls
        ],
        tags=_tags(request),
        mask=DEFAULT_MASK,
    )
    schedule.properties.update({"$recipe_engine/cq": json_format.MessageToDict(_cq_input(request))})
    for experiment in request.definition.experiments:
        schedule.experiments[experiment] = True
    return schedule


def get_build_request(build_id: int) -> builds_service_pb2.GetBuildRequest:
    return builds_service_pb2.GetBuildRequest(id=build_id, mask=DEFAULT_MASK)


def cancel_request(build_id: int, summary: str) -> builds_service_pb2.CancelBuildRequest:
    return builds_service_pb2.CancelBuildRequest(id=build_id, summary_markdown=summary)


def search_builds_request(
    cl: LaunchCL, patchset: int, page_token: str = ""
) -> builds_service_pb2.SearchBuildsRequest:
    """One page of builds that tested `cl` at `patchset` (§2.6)."""
    predicate = builds_service_pb2.BuildPredicate(
        gerrit_changes=[
            common_pb2.GerritChange(
                host=cl.host, project=cl.gerrit_project, change=cl.change, patchset=patchset
            )
        ],
        include_experimental=True,
    )
    return builds_service_pb2.SearchBuildsRequest(
        predicate=predicate, page_token=page_token, mask=SEARCH_MASK
    )


# Builds -> tryjobs (§2.4) ----------------------------------------------------------------------


class BuildParseError(ValueError):
    """A build whose status has no tryjob status (STATUS_UNSPECIFIED, ENDED_MASK)."""


@dataclass(frozen=True)
class ParsedBuild:
    """A build as a tryjob sees it."""

    status: int
    result: Result


def parse_build(build: Build) -> ParsedBuild:
    """The tryjob status and result of `build`; BuildParseError for a status cvsite cannot
    map (STATUS_UNSPECIFIED, ENDED_MASK)."""
    try:
        return ParsedBuild(*buildbucket_status.result_from_build(build))
    except buildbucket_status.UnexpectedBuildStatusError as e:
        raise BuildParseError(f"build {build.id}: {e}") from e


# Reuse (§2.6) ----------------------------------------------------------------------------------


def accepts_for_reuse(build: Build, cls: Sequence[LaunchCL], builders: Iterable[str]) -> bool:
    """Whether `build` tested exactly the run's CLs, each within [min equivalent, current]
    patchset, on one of `builders`, asked nothing of it beyond what CV asks."""
    if builder_name(build.builder) not in set(builders):
        return False
    ranges = {(cl.host, cl.change): (cl.min_equivalent_patchset, cl.patchset) for cl in cls}
    tested = {(c.host, c.change): c.patchset for c in build.input.gerrit_changes}
    if len(tested) != len(ranges):
        return False
    for key, patchset in tested.items():
        accepted = ranges.get(key)
        if accepted is None or not accepted[0] <= patchset <= accepted[1]:
            return False
    requested: struct_pb2.Struct = build.infra.buildbucket.requested_properties
    return set(requested.fields) <= _REUSABLE_PROPERTY_KEYS
