from django.apps import AppConfig


class MigrationApiConfig(AppConfig):
    name = "migration_api"
