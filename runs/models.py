"""Runs, CLs and what CQDaemon reported about them.

Rows are the truth: every field an operator filters or sorts by is a column. Messages that must
survive verbatim (a Gerrit ChangeInfo snapshot, a CQDaemon bigquery.Attempt) are kept as their
binary encoding next to the columns extracted from them. Only runs/serializers.py converts
between rows and messages.
"""

from collections.abc import Collection

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Length
from django.db.models.lookups import GreaterThan

from gerrit.credentials import UnreadableToken
from runs.ids import RunID

RUN_ENDED_MASK = 64


class RunStatus(models.IntegerChoices):
    """cv.run.Status; a status is final iff it has the ENDED_MASK bit (64)."""

    PENDING = 1
    RUNNING = 2
    WAITING_FOR_SUBMISSION = 4
    SUBMITTING = 5
    SUCCEEDED = 65
    FAILED = 66
    CANCELLED = 67

    @classmethod
    def ended(cls) -> list["RunStatus"]:
        return [s for s in cls if s & RUN_ENDED_MASK]

    @classmethod
    def active(cls) -> list["RunStatus"]:
        return [s for s in cls if not s & RUN_ENDED_MASK]


class RunMode(models.TextChoices):
    """Well-known run modes; projects may define more, so the column is free text."""

    DRY_RUN = "DRY_RUN"
    FULL_RUN = "FULL_RUN"
    QUICK_DRY_RUN = "QUICK_DRY_RUN"
    NEW_PATCHSET_RUN = "NEW_PATCHSET_RUN"


class GerritChangeStatus(models.IntegerChoices):
    """gerrit.ChangeStatus."""

    INVALID = 0
    NEW = 1
    MERGED = 2
    ABANDONED = 3


class ChangeSnapshot(models.Model):
    """What cvsite knows of a Gerrit change at one moment (cv.changelist.Snapshot)."""

    patchset = models.PositiveIntegerField(help_text="Current patchset number.")
    min_equivalent_patchset = models.PositiveIntegerField(
        help_text="Earliest patchset code-equivalent to the current one."
    )
    external_update_time = models.DateTimeField(
        null=True, blank=True, help_text="Gerrit's `updated` time of the change."
    )
    gerrit_project = models.CharField(max_length=255, blank=True)
    gerrit_ref = models.CharField(max_length=255, blank=True)
    owner_email = models.CharField(max_length=255, blank=True)
    current_revision = models.CharField(max_length=64, blank=True)
    change_status = models.SmallIntegerField(
        choices=GerritChangeStatus.choices, default=GerritChangeStatus.NEW
    )
    info = models.BinaryField(help_text="gerrit.ChangeInfo, binary encoding, verbatim.")
    files = models.JSONField(default=list, blank=True, help_text="Files of the current revision.")

    class Meta:
        abstract = True

    @classmethod
    def snapshot_constraints(cls, prefix: str) -> list[models.BaseConstraint]:
        return [
            models.CheckConstraint(
                condition=Q(min_equivalent_patchset__lte=models.F("patchset"))
                & Q(min_equivalent_patchset__gte=1),
                name=f"{prefix}_min_equivalent_patchset_in_range",
                violation_error_message="min_equivalent_patchset must be in 1..patchset",
            ),
        ]


class CL(ChangeSnapshot):
    """A Gerrit change as cvsite last saw it; its ID is CV's CLID."""

    id = models.BigAutoField(primary_key=True, verbose_name="CLID")
    host = models.CharField(max_length=255, help_text="Gerrit host, e.g. x-review.googlesource.com")
    change = models.BigIntegerField(help_text="Gerrit change number.")
    luci_project = models.CharField(max_length=100, blank=True)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "CL"
        constraints = [
            models.UniqueConstraint(fields=["host", "change"], name="cl_unique_host_change"),
            models.CheckConstraint(condition=Q(change__gt=0), name="cl_change_positive"),
            models.CheckConstraint(
                condition=~Q(host="") & ~Q(host__contains="/"), name="cl_host_valid"
            ),
            *ChangeSnapshot.snapshot_constraints("cl"),
        ]
        # A bare change number pasted into the admin's search names no host.
        indexes = [models.Index(fields=["change"], name="cl_by_change")]

    def __str__(self) -> str:
        return f"{self.host}/{self.change}"

    @property
    def external_id(self) -> str:
        return f"gerrit/{self.host}/{self.change}"

    @property
    def url(self) -> str:
        return f"https://{self.host}/{self.change}"


def holds_nul(text: str) -> bool:
    """Whether `text` holds a NUL: no stored name (run ID, attempt key, host, project) does, and
    PostgreSQL refuses to even compare text with one, so a lookup by it finds nothing."""
    return "\x00" in text


class RunQuerySet(models.QuerySet):
    def active(self) -> "RunQuerySet":
        return self.filter(status__in=RunStatus.active())

    def ended(self) -> "RunQuerySet":
        return self.filter(status__in=RunStatus.ended())

    def in_projects(self, projects: Collection[str] | None) -> "RunQuerySet":
        """The runs of `projects`; every run when None (a scope without limits)."""
        return self if projects is None else self.filter(project__in=projects)

    def named(self, run_id: str, attempt_key: str) -> "RunQuerySet":
        """The run with ID `run_id`, else the runs of CQDaemon attempt `attempt_key`, newest
        first (run IDs sort newest first)."""
        if holds_nul(run_id or attempt_key):
            return self.none()
        if run_id:
            return self.filter(id=run_id)
        return self.filter(cqd_attempt_key=attempt_key).order_by("id")


class Project(models.Model):
    """A LUCI project that has runs: the admin's project filter reads this small table instead
    of a SELECT DISTINCT over every run. Whatever writes runs notes their projects
    (`Project.note`); migration runs 0011 filled it from the runs stored before."""

    name = models.CharField(max_length=100, primary_key=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def note(names: Collection[str]) -> None:
        Project.objects.bulk_create(
            [Project(name=name) for name in sorted(set(names))], ignore_conflicts=True
        )


class Run(models.Model):
    """A CV Run: verification (and maybe submission) of a set of CLs triggered together."""

    id = models.CharField(
        max_length=255,
        primary_key=True,
        verbose_name="run ID",
        help_text="<project>/<inverted ms>-1-<attempt key>; sorts newest first.",
    )
    project = models.CharField(max_length=100, help_text="LUCI project.")
    status = models.SmallIntegerField(choices=RunStatus.choices, default=RunStatus.PENDING)
    mode = models.CharField(max_length=40, default=RunMode.DRY_RUN)
    cqd_attempt_key = models.CharField(
        max_length=16, verbose_name="CQDaemon attempt key", help_text="The run ID's suffix."
    )
    owner = models.CharField(max_length=255, blank=True, help_text="Owner email of the CLs.")
    config_group = models.CharField(max_length=255, blank=True)
    config_version = models.ForeignKey(
        "projectconfig.ConfigVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The project config version cvsite computed the run's requirement from.",
    )
    create_time = models.DateTimeField()
    start_time = models.DateTimeField(null=True, blank=True)
    update_time = models.DateTimeField(auto_now=True)
    end_time = models.DateTimeField(null=True, blank=True)
    finalized_by_cqd = models.BooleanField(
        default=False, help_text="CQDaemon, not cvsite, decided the final status."
    )
    end_reason = models.TextField(blank=True, help_text="Why the run ended as it did.")
    delay_cancel_until = models.DateTimeField(
        null=True, blank=True, help_text="A pending cancellation waits for CQDaemon until then."
    )
    eversion = models.PositiveIntegerField(default=1, help_text="Bumped on every change.")

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["project", "status", "id"], name="run_project_status"),
            models.Index(fields=["cqd_attempt_key"], name="run_attempt_key"),
            models.Index(fields=["status", "id"], name="run_status"),
            # Newest first across projects (run IDs sort newest first within a project only),
            # as the admin and the REST API list runs; and within a project when filtered by it.
            models.Index(fields=["-create_time", "id"], name="run_newest"),
            models.Index(fields=["project", "-create_time", "id"], name="run_project_newest"),
            # The same, filtered by a status: else a status filter picks run_status or
            # run_project_status and sorts every run of the status (seconds at 1M runs).
            models.Index(fields=["status", "-create_time", "id"], name="run_status_newest"),
            models.Index(
                fields=["project", "status", "-create_time", "id"], name="run_project_status_newest"
            ),
            # The admin's filters, each in its list order (run IDs sort newest first within a
            # project; across projects, create time and ID do).
            models.Index(fields=["project", "id"], name="run_project_id"),
            models.Index(fields=["project", "mode", "id"], name="run_project_mode"),
            models.Index(fields=["mode", "-create_time", "id"], name="run_mode_newest"),
            # The search box's prefix search of run IDs (LIKE 'x%' in any collation).
            models.Index(fields=["id"], name="run_id_prefix", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="run_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status__in=RunStatus.ended()) & Q(end_time__isnull=False))
                | (Q(status__in=RunStatus.active()) & Q(end_time__isnull=True)),
                name="run_end_time_iff_ended",
                violation_error_message="an ended run needs an end time; an active one has none",
            ),
            models.CheckConstraint(
                condition=~Q(project="") & ~Q(mode=""), name="run_project_and_mode_set"
            ),
            models.CheckConstraint(
                condition=Q(id__startswith=Concat(F("project"), Value("/")))
                & Q(id__endswith=Concat(Value("-"), F("cqd_attempt_key"))),
                name="run_id_matches_project_and_attempt_key",
                violation_error_message="the run ID must be <project>/...-<attempt key>",
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def is_ended(self) -> bool:
        return bool(self.status & RUN_ENDED_MASK)

    def clean(self) -> None:
        try:
            run_id = RunID.parse(self.id)
        except ValueError as e:
            raise ValidationError({"id": str(e)}) from e
        if run_id.project != self.project:
            raise ValidationError(
                {"project": f"{self.project!r} differs from the run ID's {run_id.project!r}"}
            )
        if run_id.attempt_key != self.cqd_attempt_key:
            raise ValidationError(
                {"cqd_attempt_key": f"attempt key must be the run ID's suffix {run_id.attempt_key}"}
            )


class RunEventKind(models.TextChoices):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    CQD_VERIFIED = "cqd_verified"
    CQD_FINISHED = "cqd_finished"
    GERRIT_MESSAGE_POSTED = "gerrit_message_posted"
    CL_SUBMITTED = "cl_submitted"
    SIDE_EFFECT_FAILED = "side_effect_failed"


class RunEvent(models.Model):
    """Something that happened to a run: who did what, and when. Never changed afterwards."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    time = models.DateTimeField()
    actor = models.CharField(max_length=255, help_text="The API caller, task or operator.")
    kind = models.CharField(max_length=32, choices=RunEventKind.choices)
    from_status = models.SmallIntegerField(choices=RunStatus.choices, null=True, blank=True)
    to_status = models.SmallIntegerField(choices=RunStatus.choices, null=True, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "id"]
        indexes = [models.Index(fields=["run", "id"], name="runevent_by_run")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.time:%Y-%m-%d %H:%M:%S} {self.kind}"


class GerritPostPurpose(models.TextChoices):
    CQD_MESSAGE = "cqd_message", "message CQDaemon asked to post"
    VERIFICATION_RESULT = "verification_result", "result of the run's verification"


class GerritPost(models.Model):
    """A message cvsite posts (or posted) on a CL for a run: the outbox of a durable task.

    One row per (run, CL, message): a repeated request or a retried task finds the row and
    never posts the same message twice.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="gerrit_posts")
    # The run's, copied: a project's dashboard counts its waiting and failing posts without
    # joining the runs.
    project = models.CharField(max_length=100, blank=True)
    cl = models.ForeignKey(CL, on_delete=models.PROTECT, related_name="+", verbose_name="CL")
    purpose = models.CharField(max_length=32, choices=GerritPostPurpose.choices)
    message_digest = models.CharField(max_length=64, editable=False)
    message = models.TextField()
    revision = models.CharField(max_length=64)
    notify = models.CharField(max_length=20, default="NONE")
    notify_accounts = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    posted_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Set while one caller is sending it (runs.posts.deliver_once), so no other sends it too.
    in_flight_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "cl", "message_digest"], name="gerritpost_once_per_message"
            ),
        ]
        indexes = [
            models.Index(fields=["run", "posted_at"], name="gerritpost_pending"),
            # The dashboards' backlog and failures: small sets, read by creation time.
            models.Index(
                fields=["created_at"],
                condition=Q(posted_at__isnull=True),
                name="gerritpost_backlog",
            ),
            models.Index(
                fields=["created_at"], condition=~Q(last_error=""), name="gerritpost_failed"
            ),
            models.Index(
                fields=["project", "created_at"],
                condition=Q(posted_at__isnull=True),
                name="gerritpost_project_backlog",
            ),
            models.Index(
                fields=["project", "created_at"],
                condition=~Q(last_error=""),
                name="gerritpost_project_failed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} CL {self.cl_id}: {self.get_purpose_display()}"


class Verifier(models.TextChoices):
    CQDAEMON = "cqdaemon", "CQDaemon (FetchActiveRuns / ReportVerifiedRun)"
    CVSITE = "cvsite", "cvsite's tryjob executor"


class ProjectVerifier(models.Model):
    """Who verifies a LUCI project's runs. A project without a row is CQDaemon-verified."""

    project = models.CharField(max_length=100, primary_key=True)
    verifier = models.CharField(max_length=16, choices=Verifier.choices)
    changed_at = models.DateTimeField()
    changed_by = models.CharField(max_length=255)

    class Meta:
        verbose_name = "project verifier"
        constraints = [
            models.CheckConstraint(
                condition=Q(verifier__in=Verifier.values), name="projectverifier_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.get_verifier_display()}"

    @staticmethod
    def of(project: str) -> str:
        row = ProjectVerifier.objects.filter(project=project).only("verifier").first()
        return row.verifier if row else Verifier.CQDAEMON


class ProjectVerifierChange(models.Model):
    """An operator switched who verifies a project's runs."""

    project = models.CharField(max_length=100)
    time = models.DateTimeField()
    actor = models.CharField(max_length=255)
    from_verifier = models.CharField(max_length=16, choices=Verifier.choices)
    to_verifier = models.CharField(max_length=16, choices=Verifier.choices)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "-id"], name="verifierchange_by_project")]

    def __str__(self) -> str:
        return f"{self.project}: {self.from_verifier} -> {self.to_verifier} by {self.actor}"


class DepKind(models.IntegerChoices):
    HARD = 1, "hard (immediate git parent, submitted first)"
    SOFT = 2, "soft"


class RunCL(ChangeSnapshot):
    """A CL of a Run: its trigger and the CL snapshot the Run started with (immutable)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="run_cls")
    cl = models.ForeignKey(CL, on_delete=models.PROTECT, related_name="run_cls", verbose_name="CL")
    position = models.PositiveSmallIntegerField(help_text="Order of the CL in the Run.")
    trigger_time = models.DateTimeField()
    trigger_mode = models.CharField(max_length=40)
    trigger_account_id = models.BigIntegerField(help_text="Gerrit account ID of the voter.")
    trigger_email = models.CharField(max_length=255, blank=True)
    trigger_additional_label = models.CharField(max_length=100, blank=True)
    submit_time = models.DateTimeField(
        null=True, blank=True, help_text="When cvsite submitted this CL to Gerrit."
    )
    # FetchActiveRuns copies these bytes instead of rebuilding thousands of messages per call.
    served_message = models.BinaryField(
        editable=False,
        help_text="migration.RunCL as CQDaemon is served it, deps included, binary encoding: "
        "derived from this row and its deps when they are written (see runs.serializers).",
    )

    class Meta:
        verbose_name = "run CL"
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "cl"], name="runcl_unique_run_cl"),
            models.UniqueConstraint(fields=["run", "position"], name="runcl_unique_run_position"),
            *ChangeSnapshot.snapshot_constraints("runcl"),
            # Never empty: a served RunCL always has its CLID.
            models.CheckConstraint(
                condition=GreaterThan(Length("served_message"), 0),
                name="runcl_served_message_set",
            ),
        ]
        indexes = [models.Index(fields=["cl", "run"], name="runcl_by_cl")]

    def __str__(self) -> str:
        return f"{self.run_id} CL {self.cl_id}"


class RunCLDep(models.Model):
    """RunCL depends on another CL of the same Run."""

    run_cl = models.ForeignKey(RunCL, on_delete=models.CASCADE, related_name="deps")
    depends_on = models.ForeignKey(CL, on_delete=models.PROTECT, related_name="+")
    kind = models.SmallIntegerField(choices=DepKind.choices)
    position = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = "run CL dependency"
        ordering = ["run_cl", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["run_cl", "depends_on"], name="runcldep_unique_dependency"
            ),
            models.UniqueConstraint(fields=["run_cl", "position"], name="runcldep_unique_position"),
            models.CheckConstraint(
                condition=Q(kind__in=DepKind.values), name="runcldep_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_cl} depends on CL {self.depends_on_id} ({self.get_kind_display()})"


class AttemptStatus(models.IntegerChoices):
    """bigquery.AttemptStatus."""

    UNSPECIFIED = 0
    STARTED = 1
    SUCCESS = 2
    ABORTED = 3
    FAILURE = 4
    INFRA_FAILURE = 5


class CQDAttempt(models.Model):
    """A bigquery.Attempt as CQDaemon reported it, with its searchable parts as columns."""

    attempt_key = models.CharField(max_length=64)
    attempt_project = models.CharField(max_length=100, blank=True)
    attempt_status = models.SmallIntegerField(
        choices=AttemptStatus.choices, default=AttemptStatus.UNSPECIFIED
    )
    attempt_substatus = models.SmallIntegerField(default=0)
    attempt_start_time = models.DateTimeField(null=True, blank=True)
    attempt_end_time = models.DateTimeField(null=True, blank=True)
    attempt_config_group = models.CharField(max_length=255, blank=True)
    attempt = models.BinaryField(help_text="bigquery.Attempt, binary encoding, verbatim.")

    class Meta:
        abstract = True


class ReportedRunsSnapshot(models.Model):
    """The latest ReportRuns call of a project: what CQDaemon says it is working on."""

    project = models.CharField(max_length=100, unique=True)
    reported_at = models.DateTimeField()
    reported_by = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "CQDaemon reported-runs snapshot"

    def __str__(self) -> str:
        return f"{self.project} @ {self.reported_at:%Y-%m-%d %H:%M:%S}"


class ReportedRun(CQDAttempt):
    """One run in a ReportRuns snapshot."""

    snapshot = models.ForeignKey(
        ReportedRunsSnapshot, on_delete=models.CASCADE, related_name="runs"
    )
    position = models.PositiveIntegerField()
    reported_id = models.CharField(
        max_length=255, blank=True, help_text="CV run ID, if CQD knew it."
    )
    run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="cqd_reports"
    )

    class Meta:
        ordering = ["snapshot", "position"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "position"], name="reportedrun_position"),
        ]
        indexes = [models.Index(fields=["attempt_key"], name="reportedrun_attempt_key")]

    def __str__(self) -> str:
        return f"{self.reported_id or self.attempt_key} ({self.get_attempt_status_display()})"


class FinishedCQDRun(CQDAttempt):
    """ReportFinishedRun: CQDaemon finalized a run itself. One row per attempt key."""

    reported_id = models.CharField(max_length=255, blank=True)
    run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="cqd_finished"
    )
    update_time = models.DateTimeField()

    class Meta:
        verbose_name = "finished CQDaemon run"
        constraints = [
            models.UniqueConstraint(fields=["attempt_key"], name="finishedcqdrun_attempt_key"),
            models.CheckConstraint(condition=~Q(attempt_key=""), name="finishedcqdrun_key_set"),
        ]
        indexes = [
            # The admin's list (newest first) and its filters.
            models.Index(fields=["attempt_status", "-id"], name="finishedcqdrun_status"),
            models.Index(fields=["attempt_project", "-id"], name="finishedcqdrun_project"),
        ]

    def __str__(self) -> str:
        return self.attempt_key


class VerifyAction(models.IntegerChoices):
    """migration.ReportVerifiedRunRequest.Action."""

    SUBMIT = 1
    DRY_RUN_OK = 2
    FAIL = 3


class VerifiedCQDRun(CQDAttempt):
    """ReportVerifiedRun: CQDaemon's verdict on a run cvsite manages. First report wins."""

    run = models.OneToOneField(
        Run, primary_key=True, on_delete=models.CASCADE, related_name="cqd_verified"
    )
    action = models.SmallIntegerField(choices=VerifyAction.choices)
    # Far above any verdict CQDaemon writes; Gerrit truncates a posted message to 16 KiB.
    MAX_FINAL_MESSAGE_LENGTH = 64 * 1024

    final_message = models.TextField(blank=True)
    update_time = models.DateTimeField()

    class Meta:
        verbose_name = "verified CQDaemon run"
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=VerifyAction.values), name="verifiedcqdrun_action_valid"
            ),
            models.CheckConstraint(condition=~Q(attempt_key=""), name="verifiedcqdrun_key_set"),
            models.CheckConstraint(
                condition=~Q(action=VerifyAction.FAIL) | ~Q(final_message=""),
                name="verifiedcqdrun_fail_has_message",
                violation_error_message="ACTION_FAIL needs a final message",
            ),
        ]
        indexes = [
            models.Index(fields=["attempt_key"], name="verifiedcqdrun_attempt_key"),
            # The admin's list (newest first) and its filter.
            models.Index(fields=["-update_time", "run"], name="verifiedcqdrun_newest"),
            models.Index(fields=["action", "-update_time", "run"], name="verifiedcqdrun_action"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.get_action_display()}"


class NetrcToken(models.Model):
    """A legacy .netrc access token a CQDaemon used for a Gerrit host, encrypted at rest, for
    one LUCI project: that project's Gerrit calls use it, no other project's.

    `project` ALL_PROJECTS holds what a token for every project reported: the host's default,
    for projects without a token of their own. LEGACY_UNSCOPED holds what was reported before
    tokens were kept per project; it is never used (its CQDaemon reports again).
    """

    ALL_PROJECTS = "*"
    LEGACY_UNSCOPED = ""
    MAX_TOKEN_LENGTH = 4096

    project = models.CharField(max_length=100, default=LEGACY_UNSCOPED)
    gerrit_host = models.CharField(max_length=255)
    encrypted_access_token = models.BinaryField(editable=False)
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "legacy netrc token"
        constraints = [
            models.UniqueConstraint(
                fields=["project", "gerrit_host"], name="netrctoken_per_project"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project or '(unscoped)'} @ {self.gerrit_host}"

    @staticmethod
    def _fernet():
        try:
            return MultiFernet([Fernet(key) for key in settings.NETRC_TOKEN_KEYS])
        except ValueError as e:
            raise ImproperlyConfigured(f"NETRC_TOKEN_KEYS holds an invalid Fernet key: {e}") from e

    def set_access_token(self, token: str) -> None:
        self.encrypted_access_token = self._fernet().encrypt(token.encode())

    def access_token(self) -> str:
        return self._fernet().decrypt(bytes(self.encrypted_access_token)).decode()

    @classmethod
    def stored_for(cls, host: str, project: str | None) -> str | None:
        """The token stored for `host` and `project`, else the host's all-projects default;
        None if there is neither (gerrit.credentials' lookup)."""
        scopes = [cls.ALL_PROJECTS] if project is None else [project, cls.ALL_PROJECTS]
        rows = {r.project: r for r in cls.objects.filter(gerrit_host=host, project__in=scopes)}
        row = next((rows[scope] for scope in scopes if scope in rows), None)
        if row is None:
            return None
        try:
            return row.access_token()
        except InvalidToken:
            raise UnreadableToken(host) from None


class ImportedAttempt(CQDAttempt):
    """A CQDaemon attempt imported from history (`manage.py import_attempts`), verbatim.

    One row per attempt key: the latest record of the attempt the imports have seen (an ended
    record beats a STARTED one, a later end beats an earlier one). Its run was created from it,
    or existed already and was matched by attempt key.
    """

    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="imported_attempt")
    source = models.CharField(
        max_length=1024, blank=True, help_text="Input file and line of the record kept."
    )
    imported_at = models.DateTimeField()

    class Meta:
        verbose_name = "imported CQDaemon attempt"
        constraints = [
            models.UniqueConstraint(fields=["attempt_key"], name="importedattempt_attempt_key"),
            models.CheckConstraint(condition=~Q(attempt_key=""), name="importedattempt_key_set"),
        ]

    def __str__(self) -> str:
        return self.attempt_key


class BackfillCheckpoint(models.Model):
    """How far a backfill command got through its input: what `--resume` continues from.

    Saved in the transaction of every batch, so it never runs ahead of (or behind) the rows
    the batch wrote. The counters add up over every invocation since the import started.
    """

    name = models.CharField(
        max_length=1024, unique=True, help_text="The command and its input, e.g. a file path."
    )
    command = models.CharField(max_length=100)
    fingerprint = models.CharField(
        max_length=128, blank=True, help_text="Identifies the input's content, when it can."
    )
    position = models.BigIntegerField(
        default=0, help_text="The last record committed: a line number, or a CL ID."
    )
    byte_offset = models.BigIntegerField(
        null=True, blank=True, help_text="Where the record after `position` starts, if seekable."
    )
    read = models.BigIntegerField(default=0)
    created = models.BigIntegerField(default=0)
    updated = models.BigIntegerField(default=0)
    unchanged = models.BigIntegerField(default=0)
    rejected = models.BigIntegerField(default=0)
    skipped = models.BigIntegerField(default=0)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the whole input was processed."
    )

    class Meta:
        verbose_name = "backfill checkpoint"

    def __str__(self) -> str:
        state = "finished" if self.finished_at else f"at {self.position}"
        return f"{self.name} ({state})"


class RollupPeriod(models.TextChoices):
    """The grain of a rollup row: hours serve the 24-hour window, days the longer ones."""

    HOUR = "hour"
    DAY = "day"


class RunRollup(models.Model):
    """Ended runs counted per period (by end time), project, mode and final status, with their
    durations as a histogram: the dashboards read these instead of the runs. Their number is
    bounded by periods × projects × modes × statuses, however many runs there are.

    Kept current by the action that ends a run (runs.lifecycle.set_status); rebuilt from the
    runs by `manage.py rebuild_rollups`.
    """

    period = models.CharField(max_length=4, choices=RollupPeriod.choices)
    start = models.DateTimeField(help_text="Start of the hour or day (UTC).")
    project = models.CharField(max_length=100)
    mode = models.CharField(max_length=40)
    status = models.SmallIntegerField(choices=RunStatus.choices)
    runs = models.BigIntegerField(default=0)
    durations = models.JSONField(
        default=dict,
        help_text="Runs by duration bucket (runs.rollups.duration_bucket), keyed by its number.",
    )

    class Meta:
        verbose_name = "run rollup"
        constraints = [
            models.UniqueConstraint(
                fields=["period", "start", "project", "mode", "status"], name="runrollup_key"
            ),
        ]
        indexes = [
            models.Index(fields=["period", "project", "start"], name="runrollup_by_project"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.period} {self.start:%Y-%m-%d %H:%M} {self.mode}: {self.runs}"


class PostFailureRollup(models.Model):
    """Gerrit posts whose last try failed, counted per period of their creation (hour and day),
    project and error: the dashboards' post failures read these instead of the posts, which
    pile up with history. Kept current where a post's last error changes (runs.posts); rebuilt
    from the posts by `manage.py rebuild_rollups`.
    """

    period = models.CharField(max_length=4, choices=RollupPeriod.choices)
    start = models.DateTimeField(help_text="Start of the hour or day (UTC).")
    project = models.CharField(max_length=100)
    # An error is up to 2,000 characters: too long for a unique index, its digest is not.
    error_digest = models.CharField(max_length=64, editable=False)
    error = models.TextField()
    posts = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "Gerrit post failure rollup"
        constraints = [
            models.UniqueConstraint(
                fields=["period", "start", "project", "error_digest"],
                name="postfailurerollup_key",
            ),
        ]
        indexes = [
            models.Index(fields=["period", "project", "start"], name="postfailurerollup_project"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.period} {self.start:%Y-%m-%d %H:%M}: {self.posts}"


class CQDDisagreement(models.Model):
    """An ended run whose final status is not what CQDaemon said of it (runs.rollups)."""

    run = models.OneToOneField(
        Run, primary_key=True, on_delete=models.CASCADE, related_name="cqd_disagreement"
    )
    project = models.CharField(max_length=100)
    end_time = models.DateTimeField()
    status = models.SmallIntegerField(choices=RunStatus.choices, help_text="cvsite's status.")
    expected_status = models.SmallIntegerField(
        choices=RunStatus.choices, help_text="The status CQDaemon's word implies."
    )
    cqdaemon_said = models.CharField(max_length=100, help_text="The RPC and what it reported.")

    class Meta:
        verbose_name = "CQDaemon disagreement"
        indexes = [
            models.Index(fields=["end_time"], name="cqddisagreement_time"),
            models.Index(fields=["project", "end_time"], name="cqddisagreement_project"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.cqdaemon_said}, cvsite {self.get_status_display()}"
