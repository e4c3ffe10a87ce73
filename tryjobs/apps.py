from django.apps import AppConfig

from projectconfig.signals import config_imported


class TryjobsConfig(AppConfig):
    name = "tryjobs"

    def ready(self) -> None:
        from tryjobs import tasks  # tasks import models, which load once the registry is ready

        config_imported.connect(tasks.enqueue_on_config_imported, dispatch_uid="tryjobs.follow")
