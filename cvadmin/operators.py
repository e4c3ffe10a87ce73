"""The read-only `operators` group: view permissions on cvsite's records, nothing else.

Created by a data migration (cvadmin/migrations/0001), so it exists after `migrate`; tests whose
database was flushed call `ensure_operators_group` with the live app registry.
"""

from django.contrib.auth.management import create_permissions

OPERATORS = "operators"
VIEWED_APPS = ["runs", "tryjobs", "projectconfig", "migration_api", "django_tasks_database"]


def ensure_operators_group(apps):
    """The group, with the view permission of every model of VIEWED_APPS (`apps`: a
    migration's historical registry, or django.apps.apps)."""
    # Permissions are normally created after all migrations ran; the group needs them now.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=OPERATORS)
    group.permissions.set(
        apps.get_model("auth", "Permission").objects.filter(
            content_type__app_label__in=VIEWED_APPS, codename__startswith="view_"
        )
    )
    return group
