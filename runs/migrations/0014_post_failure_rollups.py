import hashlib
from collections import Counter
from datetime import UTC

from django.db import migrations, models


def count_failing_posts(apps, schema_editor):
    """The posts failing already are counted, as runs.rollups.rebuild_post_failures would
    (a small set: read through the partial index of failed posts)."""
    GerritPost = apps.get_model("runs", "GerritPost")
    PostFailureRollup = apps.get_model("runs", "PostFailureRollup")
    counts = Counter()
    failing = GerritPost.objects.exclude(last_error="").values_list(
        "created_at", "project", "last_error"
    )
    for created_at, project, error in failing.iterator(chunk_size=5000):
        hour = created_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        digest = hashlib.sha256(error.encode()).hexdigest()
        for period, start in (("hour", hour), ("day", hour.replace(hour=0))):
            counts[(period, start, project, digest, error)] += 1
    PostFailureRollup.objects.bulk_create(
        [
            PostFailureRollup(
                period=period,
                start=start,
                project=project,
                error_digest=digest,
                error=error,
                posts=n,
            )
            for (period, start, project, digest, error), n in counts.items()
        ],
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0013_dashboard_rollups"),
    ]

    operations = [
        migrations.CreateModel(
            name="PostFailureRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "period",
                    models.CharField(choices=[("hour", "Hour"), ("day", "Day")], max_length=4),
                ),
                ("start", models.DateTimeField(help_text="Start of the hour or day (UTC).")),
                ("project", models.CharField(max_length=100)),
                ("error_digest", models.CharField(editable=False, max_length=64)),
                ("error", models.TextField()),
                ("posts", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "Gerrit post failure rollup",
                "indexes": [
                    models.Index(
                        fields=["period", "project", "start"], name="postfailurerollup_project"
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("period", "start", "project", "error_digest"),
                        name="postfailurerollup_key",
                    )
                ],
            },
        ),
        migrations.RunPython(count_failing_posts, migrations.RunPython.noop),
    ]
