from django.apps import AppConfig

from gerrit.credentials import use_stored_tokens


class RunsConfig(AppConfig):
    name = "runs"

    def ready(self) -> None:
        from runs.models import NetrcToken  # models load only once the app registry is ready

        use_stored_tokens(NetrcToken.stored_for)
