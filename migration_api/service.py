"""The Migration service CQDaemon calls: one thin handler per RPC over runs/ actions.

Validation order and error codes follow upstream's 2021-06-22 server (see
shared/reference/migration_behaviour.md §2); on top of it every call is authenticated by a
bearer token and may only touch the LUCI projects that token covers.
"""

from collections import defaultdict

from django.conf import settings
from google.protobuf import empty_pb2

from cvproto.migration import migration_pb2 as migration_pb
from migration_api.auth import CallRecorder, authenticate, require_project
from prpc.codes import Code
from prpc.errors import PrpcError
from prpc.formats import Encoded
from prpc.metrics import CallMetrics
from prpc.service import CallContext, Service
from runs import actions, queries, serializers
from runs.errors import ActionError
from runs.models import CL, NetrcToken, holds_nul

EMPTY = empty_pb2.Empty


def actor(context: CallContext) -> str:
    return f"api:{context.principal.name}"


def perform(action, *args, **kwargs):
    """Runs a runs/ action, answering its ActionError with the same code."""
    try:
        return action(*args, **kwargs)
    except ActionError as e:
        raise PrpcError(e.code, e.message) from e


def find_run(context: CallContext, run_id: str, attempt_key: str, *, lock: bool = False):
    """The run the request names, looked up only among the token's projects.

    A run ID names its project: outside the token's scope that is PERMISSION_DENIED before
    any lookup (the caller named the project). A run found by attempt key alone in another
    project is not found at all, exactly as if it did not exist: an answer must not tell a
    caller that another project's run exists.
    """
    if run_id:
        require_project(context, run_id.partition("/")[0])
    find = actions.find_run_to_verify if lock else actions.find_run
    return find(run_id, attempt_key, context.principal.visible_projects)


def no_run(run_id: str, attempt_key: str) -> PrpcError:
    if run_id:
        return PrpcError(Code.NOT_FOUND, f"Run {run_id!r} does not exist")
    return PrpcError(Code.NOT_FOUND, f"no run has attempt key {attempt_key!r}")


def report_runs(request: migration_pb.ReportRunsRequest, context: CallContext):
    by_project = defaultdict(list)
    for i, reported in enumerate(request.runs):
        project = reported.attempt.luci_project or reported.id.partition("/")[0]
        if not project:
            raise PrpcError(
                Code.INVALID_ARGUMENT,
                f"runs[{i}]: give attempt.luci_project or a run id naming the project",
            )
        by_project[project].append(reported)
    sole_project = context.principal.sole_project
    if not request.runs and sole_project:
        by_project[sole_project] = []  # this CQDaemon is working on nothing now
    for project in by_project:
        require_project(context, project)
    perform(actions.report_runs, dict(by_project), actor(context))
    return EMPTY()


def report_finished_run(request: migration_pb.ReportFinishedRunRequest, context: CallContext):
    reported = request.run
    attempt = reported.attempt
    if not attempt.key:
        raise PrpcError(Code.INVALID_ARGUMENT, "attempt key is required")
    if not attempt.gerrit_changes:
        raise PrpcError(Code.INVALID_ARGUMENT, "at least 1 gerrit change is required")
    if attempt.luci_project:
        require_project(context, attempt.luci_project)
    run = find_run(context, reported.id, attempt.key)
    if run is None:
        if reported.id:
            raise no_run(reported.id, attempt.key)
        if not attempt.luci_project:
            raise PrpcError(
                Code.INVALID_ARGUMENT,
                "run.attempt.luci_project is required for an attempt cvsite has no run for",
            )
    perform(actions.report_finished_run, run, reported, actor(context))
    return EMPTY()


def report_verified_run(request: migration_pb.ReportVerifiedRunRequest, context: CallContext):
    if not request.run.attempt.key:
        raise PrpcError(Code.INVALID_ARGUMENT, "attempt key is required")
    if request.run.attempt.luci_project:
        require_project(context, request.run.attempt.luci_project)
    run = find_run(context, request.run.id, request.run.attempt.key, lock=True)
    if run is None:
        raise no_run(request.run.id, request.run.attempt.key)
    perform(actions.report_verified_run, run, request, actor(context))
    return EMPTY()


def fetch_run_status(request: migration_pb.FetchRunStatusRequest, context: CallContext):
    if not request.attempt_key:
        raise PrpcError(Code.INVALID_ARGUMENT, "attempt_key is required")
    if not request.luci_project:
        raise PrpcError(Code.INVALID_ARGUMENT, "luci_project is required")
    require_project(context, request.luci_project)
    run = find_run(context, request.cv_id, request.attempt_key)
    if run is None:
        raise no_run(request.cv_id, request.attempt_key)
    event, extra = perform(actions.run_status_event, run)
    return migration_pb.FetchRunStatusResponse(event=event, extra=extra)


def post_gerrit_message(request: migration_pb.PostGerritMessageRequest, context: CallContext):
    if not request.host or request.change <= 0 or not request.revision:
        raise PrpcError(Code.INVALID_ARGUMENT, "host, change and revision are required")
    if "/" in request.host:
        raise PrpcError(
            Code.INVALID_ARGUMENT,
            f"host/change are invalid: host {request.host!r} must not contain '/'",
        )
    if not request.project:
        raise PrpcError(Code.INVALID_ARGUMENT, "project is required")
    if not request.attempt_key:
        raise PrpcError(Code.INVALID_ARGUMENT, "attempt_key is required")
    if not request.comment:
        raise PrpcError(Code.INVALID_ARGUMENT, "comment is required")
    require_project(context, request.project)
    run = find_run(context, request.run_id, request.attempt_key)
    cl = None
    if not holds_nul(request.host):
        cl = CL.objects.filter(host=request.host, change=request.change).first()
    if run is None:
        raise PrpcError(
            Code.UNAVAILABLE,
            f"Run {request.run_id!r} | Attempt {request.attempt_key!r} doesn't exist",
        )
    if cl is None:
        raise PrpcError(
            Code.UNAVAILABLE, f"https://{request.host}/{request.change} is not yet known to CV"
        )
    if run.project != request.project:
        raise PrpcError(
            Code.FAILED_PRECONDITION,
            f"Run {run.id!r} doesn't match expected LUCI project {request.project!r}",
        )
    perform(actions.post_gerrit_message, run, cl, request, actor(context))
    return migration_pb.PostGerritMessageResponse()


def listable_project(context: CallContext, project: str) -> bool:
    """Checks a list request's `luci_project`; False when no project can have that name."""
    if not project:
        raise PrpcError(Code.INVALID_ARGUMENT, "luci_project is required")
    require_project(context, project)
    return not holds_nul(project)


def fetch_active_runs(request: migration_pb.FetchActiveRunsRequest, context: CallContext):
    if not listable_project(context, request.luci_project):
        return migration_pb.FetchActiveRunsResponse()
    runs = queries.runs_for_cqdaemon(request.luci_project)
    return Encoded(
        migration_pb.FetchActiveRunsResponse,
        serializers.active_runs_response(runs.run_ids, runs.cls, runs.fyi_deps, runs.outside_cls),
    )


def fetch_excluded_cls(request: migration_pb.FetchExcludedCLsRequest, context: CallContext):
    if not listable_project(context, request.luci_project):
        return migration_pb.FetchExcludedCLsResponse()
    cls = queries.cls_excluded_from_cqdaemon(request.luci_project)
    return migration_pb.FetchExcludedCLsResponse(
        cls=[serializers.excluded_cl_message(cl) for cl in cls]
    )


def report_used_netrc(request: migration_pb.ReportUsedNetrcRequest, context: CallContext):
    """The token is kept for the caller's projects only; a token for every project sets the
    host's default, used by projects that have reported none of their own."""
    token = context.principal
    projects = [NetrcToken.ALL_PROJECTS] if token.all_projects else token.projects
    perform(actions.report_used_netrc, projects, request.gerrit_host, request.access_token)
    return EMPTY()


def request_limit(method: str) -> int:
    """ReportRuns carries a project's every active run; every other request is small."""
    if method == "ReportRuns":
        return settings.MIGRATION_MAX_REPORT_RUNS_BYTES
    return settings.MIGRATION_MAX_REQUEST_BYTES


MIGRATION = Service(
    migration_pb.DESCRIPTOR.services_by_name["Migration"],
    {
        "ReportRuns": report_runs,
        "ReportFinishedRun": report_finished_run,
        "ReportVerifiedRun": report_verified_run,
        "FetchRunStatus": fetch_run_status,
        "PostGerritMessage": post_gerrit_message,
        "FetchActiveRuns": fetch_active_runs,
        "FetchExcludedCLs": fetch_excluded_cls,
        "ReportUsedNetrc": report_used_netrc,
    },
    authenticate=authenticate,
    max_request_bytes=request_limit,
    observers=[CallRecorder(), CallMetrics()],
    # Gerrit is called holding no transaction; the action commits the post's intent first.
    outside_transaction=["PostGerritMessage"],
)
