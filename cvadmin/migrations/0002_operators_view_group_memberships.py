"""Operators see the LUCI group memberships too: the group's view permissions, again, on a
database whose operators group predates projectconfig.GroupMembership."""

from django.db import migrations

from cvadmin.operators import ensure_operators_group


def refresh_operators(apps, schema_editor):
    ensure_operators_group(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("cvadmin", "0001_operators_group"),
        ("projectconfig", "0002_group_memberships"),
    ]

    operations = [migrations.RunPython(refresh_operators, migrations.RunPython.noop)]
