"""Who may call the Migration API, and a record of every call."""

import hashlib
import secrets

from django.db import models

TOKEN_PREFIX = "cvsite_"


def hash_token(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough and keeps lookups to one index probe.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A bearer token of a named caller (e.g. one CQDaemon), scoped to LUCI projects."""

    name = models.CharField(max_length=100, help_text="Who calls with it, e.g. cqdaemon-chromium.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(
        max_length=16, editable=False, help_text="The token's first characters, to tell it apart."
    )
    all_projects = models.BooleanField(default=False)
    projects = models.JSONField(default=list, blank=True, help_text="LUCI projects it may touch.")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=255, blank=True, help_text="Who revoked it.")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, name: str, projects: list[str], all_projects: bool = False):
        """Creates a token; returns (row, token). The token itself is never stored."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls.objects.create(
            name=name,
            token_hash=hash_token(token),
            hint=token[: len(TOKEN_PREFIX) + 4],
            all_projects=all_projects,
            projects=sorted(set(projects)),
        )
        return row, token

    def allows(self, project: str) -> bool:
        return self.all_projects or project in self.projects

    @property
    def visible_projects(self) -> list[str] | None:
        """The projects whose runs lookups may find with this token; None: all of them."""
        return None if self.all_projects else list(self.projects)

    @property
    def sole_project(self) -> str | None:
        """The one project the token covers, if it covers exactly one."""
        return self.projects[0] if not self.all_projects and len(self.projects) == 1 else None

    @property
    def scope(self) -> str:
        return "all projects" if self.all_projects else ", ".join(self.projects)


class ApiCall(models.Model):
    """One call of the Migration API, successful or not."""

    time = models.DateTimeField()
    token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    caller = models.CharField(max_length=100, help_text="The token's name, or 'anonymous'.")
    method = models.CharField(max_length=64)
    code = models.CharField(max_length=32, help_text="gRPC code of the answer.")
    duration_ms = models.FloatField()

    class Meta:
        verbose_name = "API call"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["-time"], name="apicall_time"),
            models.Index(fields=["caller", "-time"], name="apicall_caller"),
            # The admin's filters, and a token's last use.
            models.Index(fields=["method", "-time"], name="apicall_method"),
            models.Index(fields=["code", "-time"], name="apicall_code"),
            models.Index(fields=["token", "-time"], name="apicall_token"),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.caller} {self.method} {self.code}"


class RefusedCalls(models.Model):
    """Calls refused before a token was known (no token, an unknown one, a malformed request),
    counted per minute, method and answer instead of a row each: anyone can send them, and
    one row a call would let them fill the database."""

    minute = models.DateTimeField()
    method = models.CharField(max_length=64)
    code = models.CharField(max_length=32, help_text="gRPC code of the answer.")
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "refused calls (per minute)"
        verbose_name_plural = "refused calls (per minute)"
        ordering = ["-minute"]
        indexes = [
            # The admin's filters, in its list order.
            models.Index(fields=["method", "-minute"], name="refusedcalls_method"),
            models.Index(fields=["code", "-minute"], name="refusedcalls_code"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "method", "code"], name="refusedcalls_one_row_per_minute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.method} {self.code}: {self.count}"
