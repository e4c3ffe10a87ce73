"""Tryjobs and the per-run execution state of the tryjob requirement, as rows.

Definitions and results are columns (host, builder, flags, statuses, times) so operators can
query them; the parts of a result that are kept verbatim (the recipe's cq.recipe.Output and
Buildbucket's BuildInfra) are binary encodings. The seed's status invariants are database
constraints. Only tryjobs/serializers.py converts between rows and messages.
"""

from collections.abc import Iterable

from django.db import models
from django.db.models import Q

from runs.models import CL, RollupPeriod, Run


class TryjobStatus(models.IntegerChoices):
    """cv.internal.tryjob.Status."""

    PENDING = 1
    TRIGGERED = 2
    ENDED = 3
    CANCELLED = 4
    UNTRIGGERED = 5


class ResultStatus(models.IntegerChoices):
    """cv.internal.tryjob.Result.Status."""

    UNKNOWN = 1
    SUCCEEDED = 2
    FAILED_PERMANENTLY = 3
    FAILED_TRANSIENTLY = 4
    TIMEOUT = 5


class ExecutionStatus(models.IntegerChoices):
    """cv.internal.tryjob.ExecutionState.Status."""

    RUNNING = 1
    FAILED = 2
    SUCCEEDED = 3


class CommentLevel(models.IntegerChoices):
    """cv.config.CommentLevel."""

    UNSET = 0
    FULL = 1
    RESTRICTED = 2


class BuildStatus(models.IntegerChoices):
    """buildbucket.v2.Status (open: unknown numbers are stored as they come)."""

    STATUS_UNSPECIFIED = 0
    SCHEDULED = 1
    STARTED = 2
    ENDED_MASK = 4
    SUCCESS = 12
    FAILURE = 20
    INFRA_FAILURE = 36
    CANCELED = 68


class DefinitionColumns(models.Model):
    """A cv.internal.tryjob.Definition: a Buildbucket builder, maybe an equivalent one, flags."""

    buildbucket_host = models.CharField(max_length=255)
    builder_project = models.CharField(max_length=100)
    builder_bucket = models.CharField(max_length=100)
    builder_name = models.CharField(max_length=255)
    equivalent_host = models.CharField(max_length=255, blank=True)
    equivalent_project = models.CharField(max_length=100, blank=True)
    equivalent_bucket = models.CharField(max_length=100, blank=True)
    equivalent_name = models.CharField(
        max_length=255, blank=True, help_text="Empty when there is no equivalent builder."
    )
    disable_reuse = models.BooleanField(default=False)
    skip_stale_check = models.BooleanField(default=False)
    critical = models.BooleanField(default=False)
    optional = models.BooleanField(default=False)
    result_visibility = models.SmallIntegerField(
        choices=CommentLevel.choices, default=CommentLevel.UNSET
    )
    experiments = models.JSONField(default=list, blank=True)
    disable_reuse_footers = models.JSONField(
        default=list,
        blank=True,
        help_text="Footer keys whose values are part of the reuse key (cv_config.md §8.11).",
    )
    reuse_max_commit_distance = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="reuse_window.max_commit_distance; empty when there is no reuse_window.",
    )

    class Meta:
        abstract = True

    @classmethod
    def definition_constraints(cls, prefix: str) -> list[models.BaseConstraint]:
        main_set = (~Q(buildbucket_host="") & ~Q(builder_project="") & ~Q(builder_bucket="")) & ~Q(
            builder_name=""
        )
        equivalent_all = (
            ~Q(equivalent_host="") & ~Q(equivalent_project="") & ~Q(equivalent_bucket="")
        ) & ~Q(equivalent_name="")
        equivalent_none = (
            Q(equivalent_host="") & Q(equivalent_project="") & Q(equivalent_bucket="")
        ) & Q(equivalent_name="")
        return [
            models.CheckConstraint(
                condition=main_set,
                name=f"{prefix}_definition_builder_set",
                violation_error_message="a definition needs a Buildbucket host and builder",
            ),
            models.CheckConstraint(
                condition=equivalent_all | equivalent_none,
                name=f"{prefix}_definition_equivalent_whole",
                violation_error_message="an equivalent builder needs host, project, bucket, name",
            ),
            models.CheckConstraint(
                condition=Q(result_visibility__in=CommentLevel.values),
                name=f"{prefix}_definition_visibility_valid",
            ),
        ]

    @property
    def builder(self) -> str:
        return f"{self.builder_project}/{self.builder_bucket}/{self.builder_name}"

    @property
    def equivalent_builder(self) -> str:
        if not self.equivalent_name:
            return ""
        return f"{self.equivalent_project}/{self.equivalent_bucket}/{self.equivalent_name}"


class ResultColumns(models.Model):
    """A cv.internal.tryjob.Result; `result_status` is NULL when there is no result at all."""

    result_status = models.SmallIntegerField(choices=ResultStatus.choices, null=True, blank=True)
    result_create_time = models.DateTimeField(
        null=True, blank=True, help_text="When the backend created the tryjob (reuse freshness)."
    )
    result_update_time = models.DateTimeField(null=True, blank=True)
    result_output = models.BinaryField(
        null=True, blank=True, help_text="cq.recipe.Output, binary encoding, verbatim."
    )
    build_id = models.BigIntegerField(
        null=True, blank=True, help_text="NULL when the result has no Buildbucket part."
    )
    build_status = models.IntegerField(choices=BuildStatus.choices, default=0)
    build_builder_project = models.CharField(max_length=100, null=True, blank=True)
    build_builder_bucket = models.CharField(max_length=100, null=True, blank=True)
    build_builder_name = models.CharField(
        max_length=255, null=True, blank=True, help_text="The builder that actually ran."
    )
    build_summary_markdown = models.TextField(blank=True)
    build_infra = models.BinaryField(
        null=True, blank=True, help_text="buildbucket.v2.BuildInfra, binary encoding, verbatim."
    )

    class Meta:
        abstract = True

    @classmethod
    def result_constraints(cls, prefix: str) -> list[models.BaseConstraint]:
        no_result_parts = (
            Q(result_create_time__isnull=True)
            & Q(result_update_time__isnull=True)
            & Q(result_output__isnull=True)
            & Q(build_id__isnull=True)
        )
        no_build_parts = (
            Q(build_status=0)
            & Q(build_builder_project__isnull=True)
            & Q(build_summary_markdown="")
            & Q(build_infra__isnull=True)
        )
        builder_whole = (
            Q(build_builder_project__isnull=True)
            & Q(build_builder_bucket__isnull=True)
            & Q(build_builder_name__isnull=True)
        ) | (
            Q(build_builder_project__isnull=False)
            & Q(build_builder_bucket__isnull=False)
            & Q(build_builder_name__isnull=False)
        )
        return [
            models.CheckConstraint(
                condition=Q(result_status__isnull=True) | Q(result_status__in=ResultStatus.values),
                name=f"{prefix}_result_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(result_status__isnull=False) | no_result_parts,
                name=f"{prefix}_result_parts_need_result",
            ),
            models.CheckConstraint(
                condition=Q(build_id__isnull=False) | no_build_parts,
                name=f"{prefix}_build_parts_need_build",
            ),
            models.CheckConstraint(condition=builder_whole, name=f"{prefix}_build_builder_whole"),
        ]


def tryjob_status_constraints(prefix: str) -> list[models.BaseConstraint]:
    """The seed's Status invariants, for tryjobs and for attempts (snapshots of tryjobs)."""
    has_external_id = Q(external_id__isnull=False)
    needs_external_id = [TryjobStatus.TRIGGERED, TryjobStatus.ENDED, TryjobStatus.CANCELLED]
    never_external_id = [TryjobStatus.PENDING, TryjobStatus.UNTRIGGERED]
    never_result = [TryjobStatus.PENDING, TryjobStatus.CANCELLED, TryjobStatus.UNTRIGGERED]
    return [
        models.CheckConstraint(
            condition=Q(status__in=TryjobStatus.values), name=f"{prefix}_status_valid"
        ),
        models.CheckConstraint(
            condition=~Q(external_id=""),
            name=f"{prefix}_external_id_not_empty",
            violation_error_message="an absent external ID is NULL, never empty",
        ),
        models.CheckConstraint(
            condition=~Q(status__in=needs_external_id) | has_external_id,
            name=f"{prefix}_triggered_has_external_id",
            violation_error_message="a TRIGGERED, ENDED or CANCELLED tryjob needs an external ID",
        ),
        models.CheckConstraint(
            condition=~Q(status__in=never_external_id) | ~has_external_id,
            name=f"{prefix}_untriggered_has_no_external_id",
            violation_error_message="a PENDING or UNTRIGGERED tryjob has no external ID",
        ),
        models.CheckConstraint(
            condition=~Q(status=TryjobStatus.ENDED)
            | (Q(result_status__isnull=False) & ~Q(result_status=ResultStatus.UNKNOWN)),
            name=f"{prefix}_ended_has_final_result",
            violation_error_message="an ENDED tryjob needs a result whose status is not UNKNOWN",
        ),
        models.CheckConstraint(
            condition=~Q(status__in=never_result) | Q(result_status__isnull=True),
            name=f"{prefix}_unlaunched_has_no_result",
            violation_error_message="a PENDING, CANCELLED or UNTRIGGERED tryjob has no result",
        ),
    ]


class TryjobQuerySet(models.QuerySet):
    """The lookups tryjobs are found by (tryjob_semantics.md §1.6)."""

    def with_external_ids(self, external_ids: Iterable[str]) -> "TryjobQuerySet":
        return self.filter(external_id__in=sorted(set(external_ids)))

    def with_reuse_key(self, reuse_key: str) -> "TryjobQuerySet":
        return self.filter(reuse_key=reuse_key)

    def launched_by_run(self, run_id: str) -> "TryjobQuerySet":
        return self.filter(launched_by_id=run_id)

    def not_ended(self) -> "TryjobQuerySet":
        return self.filter(status__in=[TryjobStatus.PENDING, TryjobStatus.TRIGGERED])

    def of_patchsets(self, cl_id: int, first: int, end: int) -> "TryjobQuerySet":
        """Tryjobs of the CL's patchsets in [first, end) (stale cancellation, §5)."""
        return self.filter(
            cl_patchsets__cl_id=cl_id,
            cl_patchsets__patchset__gte=first,
            cl_patchsets__patchset__lt=end,
        ).distinct()


class Tryjob(DefinitionColumns, ResultColumns):
    """A tryjob (today: a Buildbucket build) that verifies the CLs of one or more runs."""

    id = models.BigAutoField(primary_key=True)
    external_id = models.CharField(
        max_length=300,
        null=True,
        blank=True,
        unique=True,
        help_text="buildbucket/<host>/<build id>; NULL until launched.",
    )
    status = models.SmallIntegerField(choices=TryjobStatus.choices, default=TryjobStatus.PENDING)
    reuse_key = models.CharField(
        max_length=64, blank=True, help_text="Identifies the CL set and equivalent patchsets."
    )
    launched_by = models.ForeignKey(
        Run,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="launched_tryjobs",
        help_text="Empty if cvsite did not launch it (e.g. `git cl try`).",
    )
    reused_by = models.ManyToManyField(Run, blank=True, related_name="reused_tryjobs")
    untriggered_reason = models.TextField(blank=True)
    eversion = models.PositiveIntegerField(default=1, help_text="Bumped on every change.")
    create_time = models.DateTimeField(help_text="When cvsite created this row.")
    update_time = models.DateTimeField(help_text="When cvsite last changed this row.")

    objects = TryjobQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["reuse_key", "-create_time"], name="tryjob_reuse_key"),
            models.Index(
                fields=["builder_project", "builder_bucket", "builder_name", "-id"],
                name="tryjob_builder",
            ),
            models.Index(fields=["update_time"], name="tryjob_update_time"),
            # The admin's filters, in its list order (newest first).
            models.Index(fields=["status", "-id"], name="tryjob_status"),
            models.Index(fields=["result_status", "-id"], name="tryjob_result_status"),
        ]
        constraints = [
            *tryjob_status_constraints("tryjob"),
            *DefinitionColumns.definition_constraints("tryjob"),
            *ResultColumns.result_constraints("tryjob"),
            models.CheckConstraint(
                condition=Q(status=TryjobStatus.UNTRIGGERED) | Q(untriggered_reason=""),
                name="tryjob_untriggered_reason_only_when_untriggered",
            ),
        ]

    def __str__(self) -> str:
        return f"tryjob {self.id} ({self.external_id or self.builder})"

    @property
    def is_ended(self) -> bool:
        return self.status in (
            TryjobStatus.ENDED,
            TryjobStatus.CANCELLED,
            TryjobStatus.UNTRIGGERED,
        )


class TryjobCLPatchset(models.Model):
    """A (CL, patchset) the tryjob verifies; looked up by CL and patchset range."""

    tryjob = models.ForeignKey(Tryjob, on_delete=models.CASCADE, related_name="cl_patchsets")
    cl = models.ForeignKey(CL, on_delete=models.PROTECT, related_name="+", verbose_name="CL")
    patchset = models.PositiveIntegerField()

    class Meta:
        verbose_name = "tryjob CL patchset"
        constraints = [
            models.UniqueConstraint(fields=["tryjob", "cl"], name="tryjobclpatchset_unique"),
        ]
        indexes = [models.Index(fields=["cl", "patchset"], name="tryjobclpatchset_by_cl")]

    def __str__(self) -> str:
        return f"tryjob {self.tryjob_id}: CL {self.cl_id} patchset {self.patchset}"


RETRY_CONFIG_FIELDS = (
    "retry_single_quota",
    "retry_global_quota",
    "retry_failure_weight",
    "retry_transient_failure_weight",
    "retry_timeout_weight",
)


class ExecutionState(models.Model):
    """The state of executing a run's tryjob requirement (cv.internal.tryjob.ExecutionState)."""

    run = models.OneToOneField(
        Run, primary_key=True, on_delete=models.CASCADE, related_name="execution_state"
    )
    has_requirement = models.BooleanField(
        default=False, help_text="False until a requirement was computed; one may be empty."
    )
    requirement_version = models.IntegerField(default=0)
    retry_single_quota = models.IntegerField(null=True, blank=True)
    retry_global_quota = models.IntegerField(null=True, blank=True)
    retry_failure_weight = models.IntegerField(null=True, blank=True)
    retry_transient_failure_weight = models.IntegerField(null=True, blank=True)
    retry_timeout_weight = models.IntegerField(null=True, blank=True)
    status = models.SmallIntegerField(
        choices=ExecutionStatus.choices, default=ExecutionStatus.RUNNING
    )
    has_failures = models.BooleanField(default=False)
    end_time = models.DateTimeField(null=True, blank=True)
    eversion = models.PositiveIntegerField(default=1, help_text="Bumped on every save.")
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status"], name="executionstate_status"),
            models.Index(fields=["status", "run"], name="executionstate_status_run"),
            # Rebuilding the dashboards' rollups reads the states that ended since a day.
            models.Index(fields=["end_time"], name="executionstate_end_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExecutionStatus.values), name="executionstate_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(**{f"{f}__isnull": True for f in RETRY_CONFIG_FIELDS})
                | Q(**{f"{f}__isnull": False for f in RETRY_CONFIG_FIELDS}),
                name="executionstate_retry_config_whole",
            ),
            models.CheckConstraint(
                condition=Q(has_requirement=True) | Q(retry_single_quota__isnull=True),
                name="executionstate_retry_config_needs_requirement",
            ),
            models.CheckConstraint(
                condition=(Q(status=ExecutionStatus.RUNNING) & Q(end_time__isnull=True))
                | (~Q(status=ExecutionStatus.RUNNING) & Q(end_time__isnull=False)),
                name="executionstate_end_time_iff_terminal",
                violation_error_message="a terminal state has an end time, a running one none",
            ),
            models.CheckConstraint(
                condition=~Q(status=ExecutionStatus.FAILED) | Q(has_failures=True),
                name="executionstate_failed_has_failures",
                violation_error_message="a FAILED execution state must say why (failures)",
            ),
        ]

    def __str__(self) -> str:
        return f"execution state of {self.run_id}"

    @property
    def has_retry_config(self) -> bool:
        return self.retry_single_quota is not None


class Execution(DefinitionColumns):
    """The execution of one requirement definition: its attempts and the retry quota used."""

    state = models.ForeignKey(ExecutionState, on_delete=models.CASCADE, related_name="executions")
    position = models.PositiveSmallIntegerField(help_text="Index in requirement.definitions.")
    used_quota = models.IntegerField(default=0)

    class Meta:
        ordering = ["state", "position"]
        constraints = [
            models.UniqueConstraint(fields=["state", "position"], name="execution_position"),
            *DefinitionColumns.definition_constraints("execution"),
        ]

    def __str__(self) -> str:
        return f"{self.state_id} #{self.position} {self.builder}"


class ExecutionAttempt(ResultColumns):
    """One attempt (the first try, a retry, or a reused tryjob) of an execution."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="attempts")
    position = models.PositiveSmallIntegerField()
    # No database FK: an attempt is a snapshot and may name a tryjob since wiped out.
    tryjob = models.ForeignKey(
        Tryjob,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="execution_attempts",
    )
    external_id = models.CharField(max_length=300, null=True, blank=True)
    status = models.SmallIntegerField(choices=TryjobStatus.choices)
    reused = models.BooleanField(default=False)

    class Meta:
        ordering = ["execution", "position"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "position"], name="attempt_position"),
            *tryjob_status_constraints("attempt"),
            *ResultColumns.result_constraints("attempt"),
        ]
        indexes = [models.Index(fields=["tryjob"], name="attempt_by_tryjob")]

    def __str__(self) -> str:
        reused = ", reused" if self.reused else ""
        return f"attempt {self.position} of {self.execution}: {self.get_status_display()}{reused}"


class LaunchFailure(DefinitionColumns):
    """ExecutionState.Failures.LaunchFailure."""

    state = models.ForeignKey(
        ExecutionState, on_delete=models.CASCADE, related_name="launch_failures"
    )
    position = models.PositiveSmallIntegerField()
    reason = models.TextField()

    class Meta:
        ordering = ["state", "position"]
        constraints = [
            models.UniqueConstraint(fields=["state", "position"], name="launchfailure_position"),
            *DefinitionColumns.definition_constraints("launchfailure"),
        ]

    def __str__(self) -> str:
        return f"{self.state_id}: {self.builder} failed to launch"


class UnsuccessfulResult(models.Model):
    """ExecutionState.Failures.UnsuccessfulResult: a tryjob that ended without success."""

    state = models.ForeignKey(
        ExecutionState, on_delete=models.CASCADE, related_name="unsuccessful_results"
    )
    position = models.PositiveSmallIntegerField()
    tryjob = models.ForeignKey(
        Tryjob, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        ordering = ["state", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["state", "position"], name="unsuccessfulresult_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.state_id}: tryjob {self.tryjob_id} did not succeed"


class LogKind(models.TextChoices):
    """The members of ExecutionLogEntry's `kind` oneof."""

    REQUIREMENT_CHANGED = "requirement_changed"
    TRYJOBS_LAUNCHED = "tryjobs_launched"
    TRYJOBS_LAUNCH_FAILED = "tryjobs_launch_failed"
    TRYJOBS_REUSED = "tryjobs_reused"
    TRYJOBS_ENDED = "tryjobs_ended"
    TRYJOB_DISCARDED = "tryjob_discarded"
    RETRY_DENIED = "retry_denied"


class ExecutionLogEntry(models.Model):
    """What happened during one executor pass over a run, oldest first by `id`."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="execution_log")
    state_version = models.PositiveIntegerField(
        help_text="The execution state version the pass that wrote it produced."
    )
    time = models.DateTimeField()
    kind = models.CharField(max_length=32, choices=LogKind.choices)
    detail = models.BinaryField(help_text="The kind's message, binary encoding.")

    class Meta:
        verbose_name = "execution log entry"
        verbose_name_plural = "execution log entries"
        ordering = ["run", "id"]
        indexes = [
            models.Index(fields=["run", "id"], name="executionlog_by_run"),
            models.Index(fields=["kind", "-id"], name="executionlog_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=LogKind.values), name="executionlog_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.time:%Y-%m-%d %H:%M:%S} {self.kind}"


class TryjobEvent(models.Model):
    """Inbox of the executor: a tryjob that a run watches has changed.

    Written in the transaction that changed the tryjob (tryjobs.changes); the task that wakes
    the run is enqueued in that transaction too, or, when another run's pass made the change,
    once that pass ends (tryjobs.tasks.wake_runs). An executor pass reads the run's events,
    and deletes exactly the ones it read (by ID) in its own transaction: an event written while
    a pass runs waits for the next pass.
    """

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tryjob_events")
    tryjob = models.ForeignKey(Tryjob, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "tryjob event"
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "id"], name="tryjobevent_by_run")]

    def __str__(self) -> str:
        return f"{self.run_id}: tryjob {self.tryjob_id} changed"


class PeriodicTaskChain(models.Model):
    """The one live chain of a periodic task (e.g. the build poll), which re-enqueues itself.

    `task_result_id` names the chain's current task run. Starting the chain again while that
    run is waiting or running does nothing; a run that finds another run named here (a second
    chain, started before this row existed) ends without a successor.
    """

    name = models.CharField(primary_key=True, max_length=100)
    task_result_id = models.CharField(max_length=64)
    every_seconds = models.FloatField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "periodic task chain"

    def __str__(self) -> str:
        return f"{self.name}: every {self.every_seconds:g}s, task {self.task_result_id}"


class TryjobMetric(models.TextChoices):
    """What a TryjobRollup row counts (tryjobs.rollups says when each is counted)."""

    BUILDER_ENDED = "builder_ended", "ended tryjobs of the builder"
    BUILDER_FAILED = "builder_failed", "failed tryjobs of the builder"
    BUILDER_RUNS = "builder_runs", "runs with an ended tryjob of the builder"
    BUILDER_FLAKY_RUNS = "builder_flaky_runs", "runs where the builder failed, then succeeded"
    EXECUTIONS_ENDED = "executions_ended", "runs whose tryjob execution ended"
    ATTEMPTS = "attempts", "attempts of those executions"
    REUSED_ATTEMPTS = "reused_attempts", "attempts that reused a tryjob"
    QUOTA_SPENT = "quota_spent", "retry quota those executions used"
    RETRIED_RUNS = "retried_runs", "executions that used retry quota"
    QUOTA_EXHAUSTED = "quota_exhausted", "executions that used their whole global quota"
    LAUNCH_LATENCY = "launch_latency", "runs by time from trigger to first launch (bucket)"
    LAUNCH_FAILURES = "launch_failures", "tryjobs that failed to launch (by reason)"


class TryjobRollup(models.Model):
    """A count per period (hour and day), project, metric and label, for the dashboards.

    `label` is the builder (`project/bucket/builder`) of builder metrics, the duration bucket of
    LAUNCH_LATENCY, the reason of LAUNCH_FAILURES, empty otherwise. Kept current by the actions
    that change tryjobs and save execution states (tryjobs.rollups); rebuilt by
    `manage.py rebuild_rollups`.
    """

    period = models.CharField(max_length=4, choices=RollupPeriod.choices)
    start = models.DateTimeField(help_text="Start of the hour or day (UTC).")
    project = models.CharField(max_length=100)
    metric = models.CharField(max_length=32, choices=TryjobMetric.choices)
    label = models.CharField(max_length=255, blank=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "tryjob rollup"
        constraints = [
            models.UniqueConstraint(
                fields=["period", "metric", "start", "project", "label"], name="tryjobrollup_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["period", "metric", "project", "start"], name="tryjobrollup_by_project"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.period} {self.start:%Y-%m-%d %H:%M} {self.metric}"
