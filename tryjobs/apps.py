from django.apps import AppConfig


class TryjobsConfig(AppConfig):
    name = "tryjobs"
