from django.apps import AppConfig


class RestApiConfig(AppConfig):
    name = "restapi"
    verbose_name = "REST API"

    def ready(self) -> None:
        # drf-spectacular finds extensions by their registration when they are imported.
        from restapi import schema  # noqa: F401
