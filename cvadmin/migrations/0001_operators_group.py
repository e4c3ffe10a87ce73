"""The read-only `operators` group (cvadmin.operators)."""

from django.db import migrations

from cvadmin.operators import OPERATORS, ensure_operators_group


def create_operators(apps, schema_editor):
    ensure_operators_group(apps)


def delete_operators(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=OPERATORS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("runs", "0010_search_indexes"),
        ("tryjobs", "0002_tryjob_events"),
        ("migration_api", "0003_api_token_revoked_by"),
        ("projectconfig", "0001_initial"),
        ("django_tasks_database", "__latest__"),
    ]

    operations = [migrations.RunPython(create_operators, delete_operators)]
