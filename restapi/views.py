"""The read-only REST API, /api/v1/: thin viewsets over the runs and tryjobs querysets.

Every list is a keyset page (no count) and runs a fixed number of queries whatever it holds:
related rows are fetched once per page. Objects outside the caller's projects are 404.
"""

import re
from datetime import timedelta

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from restapi import serializers
from restapi.access import BearerTokenAuthentication, ProjectScope, TokenOrStaff
from restapi.filters import CLFilter, RunFilter, TryjobFilter
from restapi.pagination import NewestFirstPagination, RunPagination
from restapi.throttling import PerCallerRateThrottle
from runs.models import CL, Run, RunCL, holds_nul
from tryjobs.models import ExecutionLogEntry, Tryjob
from tryjobs.serializers import (
    execution_state_from_rows,
    load_execution_state_rows,
    log_entry_from_row,
)
from tryjobs.stats import builder_stats

STATS_WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
CL_PAGE_RUNS = 100
CHANGE_NUMBER = re.compile(r"[1-9][0-9]{0,18}")


class ApiView(GenericAPIView):
    """Authentication, scope and rate limits shared by every endpoint."""

    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [TokenOrStaff]
    throttle_classes = [PerCallerRateThrottle]

    @property
    def scope(self) -> ProjectScope:
        return ProjectScope.of(self.request)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "scope": self.scope}

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        rate_limit = getattr(request, "rate_limit", None)
        if rate_limit is not None:
            for header, value in rate_limit.headers().items():
                response[header] = value
        return response


def run_cls_prefetch(*related: str) -> Prefetch:
    """A run's CLs in run order, whole (with `related`), for migration.RunCL messages."""
    run_cls = RunCL.objects.select_related("cl").prefetch_related(*related).order_by("position")
    return Prefetch("run_cls", queryset=run_cls)


def cl_summaries_prefetch() -> Prefetch:
    """A page's run CLs in run order, with only what a list shows of their CLs, in one query.

    The snapshots' large columns (Gerrit change info, file lists) stay unread: at a million
    runs, a page's rows lie scattered over the tables, and reading those columns costs a
    page read (and overflow pages) each.
    """
    run_cls = (
        RunCL.objects.select_related("cl")
        .only("run_id", "position", "cl__id", "cl__host", "cl__change")
        .order_by("position")
    )
    return Prefetch("run_cls", queryset=run_cls)


@extend_schema_view(
    list=extend_schema(summary="Runs, newest first", tags=["runs"]),
    retrieve=extend_schema(
        summary="A run with its CLs, tryjobs, execution state and log",
        tags=["runs"],
        parameters=[
            OpenApiParameter(
                "id",
                str,
                OpenApiParameter.PATH,
                description="Run ID, e.g. chromium/8826510802854-1-f6d25f880c52c34c: its `/` "
                "may be sent as is or as %2F.",
            )
        ],
    ),
)
class RunViewSet(ApiView, viewsets.ReadOnlyModelViewSet):
    filterset_class = RunFilter
    pagination_class = RunPagination
    # Any path: what is no run ID is a 404 in JSON, like a run that does not exist.
    lookup_value_regex = r"(?s:.+)"

    def get_queryset(self):
        runs = self.scope.filter(Run.objects.all(), "project")
        if self.action == "retrieve":
            return runs.prefetch_related(run_cls_prefetch("deps"))  # migration.RunCL has them
        return runs.prefetch_related(cl_summaries_prefetch())

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.RunDetailSerializer
        return serializers.RunSerializer

    def get_object(self):
        if holds_nul(self.kwargs["pk"]):
            raise NotFound()
        run = super().get_object()
        # The tryjobs, execution state and log: a fixed number of queries per run.
        run.tryjobs = list(
            Tryjob.objects.filter(Q(launched_by=run) | Q(reused_by=run)).distinct().order_by("id")
        )
        state_rows = load_execution_state_rows(run.id)
        run.execution_state_message = (
            execution_state_from_rows(state_rows) if state_rows is not None else None
        )
        run.execution_state_version = state_rows.state.eversion if state_rows else 0
        run.execution_log_messages = [
            log_entry_from_row(row)
            for row in ExecutionLogEntry.objects.filter(run=run).order_by("id")
        ]
        return run


@extend_schema_view(
    list=extend_schema(summary="Tryjobs, newest first", tags=["tryjobs"]),
    retrieve=extend_schema(summary="A tryjob", tags=["tryjobs"]),
)
class TryjobViewSet(ApiView, viewsets.ReadOnlyModelViewSet):
    """Tryjobs of builders of your projects (the builder's project is the LUCI project)."""

    serializer_class = serializers.TryjobSerializer
    filterset_class = TryjobFilter
    pagination_class = NewestFirstPagination
    lookup_value_regex = r"[^/]+"  # not an ID: a 404 in JSON (DRF's get_object)

    def get_queryset(self):
        visible_runs = self.scope.filter(Run.objects.only("id"), "project").order_by("id")
        return self.scope.filter(Tryjob.objects.all(), "builder_project").prefetch_related(
            Prefetch("reused_by", queryset=visible_runs, to_attr="visible_reused_by")
        )


@extend_schema_view(
    list=extend_schema(summary="CLs, newest first", tags=["cls"]),
    retrieve=extend_schema(
        summary="A CL with its newest runs",
        tags=["cls"],
        parameters=[
            OpenApiParameter("host", str, OpenApiParameter.PATH, description="Gerrit host."),
            OpenApiParameter("change", int, OpenApiParameter.PATH, description="Change number."),
        ],
    ),
)
class CLViewSet(ApiView, viewsets.ReadOnlyModelViewSet):
    """CLs with at least one run in your projects."""

    filterset_class = CLFilter
    pagination_class = NewestFirstPagination
    lookup_field = "change"

    def get_queryset(self):
        cls = CL.objects.all()
        if self.scope.projects is not None:
            runs_in_scope = self.scope.filter(RunCL.objects.all(), "run__project")
            cls = cls.filter(id__in=runs_in_scope.values("cl_id"))
        return cls

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.CLDetailSerializer
        return serializers.CLSerializer

    def get_object(self):
        host, change = self.kwargs["host"], self.kwargs["change"]
        if holds_nul(host) or not CHANGE_NUMBER.fullmatch(change):
            raise NotFound()
        cl = get_object_or_404(self.get_queryset(), host=host, change=int(change))
        runs = self.scope.filter(Run.objects.filter(run_cls__cl=cl), "project")
        newest = runs.prefetch_related(cl_summaries_prefetch()).order_by("-create_time", "id")
        cl.visible_runs = list(newest[:CL_PAGE_RUNS])
        return cl


class BuilderStatsView(ApiView):
    """Recent results of a builder, with its failure and flake rates over a window."""

    serializer_class = serializers.BuilderStatsSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="A builder's recent results, failure rate and flake rate",
        description=(
            "Over the builder's tryjobs created in the window:\n\n"
            "- **failure_rate** = ended tryjobs that FAILED_PERMANENTLY, FAILED_TRANSIENTLY or "
            "TIMEOUT / ended tryjobs (status ENDED: the result is final; cancelled and "
            "untriggered tryjobs have no result and count nowhere);\n"
            "- **flake_rate** = runs in which the builder failed and then succeeded on a retry "
            "(a failed tryjob, then a later-created succeeded one, both launched by the run) / "
            "runs that launched at least one ended tryjob of the builder.\n\n"
            "Either is null when its denominator is 0. The builder is the tryjob definition's "
            "main builder; its project must be one of yours."
        ),
        tags=["builders"],
        parameters=[serializers.BuilderStatsQuerySerializer],
    )
    def get(self, request, project: str, bucket: str, builder: str):
        if not self.scope.allows(project) or any(holds_nul(p) for p in (project, bucket, builder)):
            raise NotFound()
        query = serializers.BuilderStatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        window = query.validated_data["window"]
        until = timezone.now()
        since = until - STATS_WINDOWS[window]
        stats = builder_stats(
            project, bucket, builder, since, until, query.validated_data["recent"]
        )
        body = {
            "builder": f"{project}/{bucket}/{builder}",
            "window": window,
            "since": since,
            "until": until,
            **stats.__dict__,
        }
        return Response(self.get_serializer(body).data)
