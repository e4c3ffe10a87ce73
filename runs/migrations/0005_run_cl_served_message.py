import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models
from django.db.models import Prefetch

BATCH = 2000


def encode_served_messages(apps, schema_editor):
    """Fills served_message of the RunCLs written before it existed, in batches."""
    from runs.serializers import RunCLView, served_run_cl

    RunCL = apps.get_model("runs", "RunCL")
    RunCLDep = apps.get_model("runs", "RunCLDep")
    in_order = Prefetch("deps", queryset=RunCLDep.objects.order_by("position"))
    last_id = 0
    while True:
        batch = list(
            RunCL.objects.filter(id__gt=last_id)
            .select_related("cl")
            .prefetch_related(in_order)
            .order_by("id")[:BATCH]
        )
        if not batch:
            return
        for row in batch:
            deps = [(d.depends_on_id, d.kind) for d in row.deps.all()]
            row.served_message = served_run_cl(RunCLView.of(row), deps)
        RunCL.objects.bulk_update(batch, ["served_message"])
        last_id = batch[-1].id


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0004_backfill"),
    ]

    operations = [
        migrations.AddField(
            model_name="runcl",
            name="served_message",
            field=models.BinaryField(
                default=b"",
                editable=False,
                help_text="migration.RunCL as CQDaemon is served it, deps included, binary "
                "encoding: derived from this row and its deps when they are written (see "
                "runs.serializers).",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(encode_served_messages, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="runcl",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.GreaterThan(
                    django.db.models.functions.text.Length("served_message"), 0
                ),
                name="runcl_served_message_set",
            ),
        ),
    ]
