"""Project configs (commit-queue.cfg) as versioned rows.

A version is immutable: importing a changed config adds the next version, and the highest
version of a project is the one in force. The imported text is kept as given (what operators
read and diff) next to its binary encoding (what the service loads, fast) and the SHA-256 of
that encoding (what "the same content" means: a re-import of it, reformatted or not, adds no
version).
"""

from django.db import models


class ConfigVersion(models.Model):
    project = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    text = models.TextField(help_text="the file as imported (protobuf text format)")
    content = models.BinaryField(help_text="cv.config.Config, deterministically encoded")
    source = models.CharField(max_length=1000, blank=True, help_text="where it was imported from")
    group_names = models.JSONField(default=list, help_text="config groups, in config order")
    builder_count = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="config_version_unique"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="config_version_gte_1"),
        ]
        ordering = ["project", "-version"]

    def __str__(self) -> str:
        return f"{self.project} v{self.version}"


class GroupMembership(models.Model):
    """`email` belongs to the LUCI auth group `group`: what owner allowlists (of builders,
    equivalent builders and tryjob experiments) are checked against. cvsite has no LUCI auth
    service to ask; `manage.py import_groups FILE` loads a file of memberships, replacing the
    rows an earlier import of the same source wrote (projectconfig.groups)."""

    group = models.CharField(max_length=255)
    email = models.CharField(max_length=255)
    source = models.CharField(max_length=1000, help_text="the file it was imported from")
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "email", "source"], name="group_membership_unique"
            ),
        ]
        indexes = [models.Index(fields=["email"], name="group_membership_by_email")]
        ordering = ["group", "email"]

    def __str__(self) -> str:
        return f"{self.email} in {self.group}"
