from django.apps import AppConfig


class ProjectconfigConfig(AppConfig):
    name = "projectconfig"
    verbose_name = "project configs"
