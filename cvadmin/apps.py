from django.apps import AppConfig
from django.contrib import admin


class CvadminConfig(AppConfig):
    name = "cvadmin"
    verbose_name = "cvsite admin"

    def ready(self) -> None:
        admin.site.site_header = "cvsite"
        admin.site.site_title = "cvsite"
        admin.site.index_title = "Runs, CLs and tryjobs"
        # There is no public site: "View site" goes to the operators' home.
        admin.site.site_url = "/admin/"
