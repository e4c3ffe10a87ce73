from django.apps import AppConfig


class CvadminConfig(AppConfig):
    name = "cvadmin"
    verbose_name = "cvsite admin"
