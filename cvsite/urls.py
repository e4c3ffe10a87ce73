from django.contrib import admin
from django.urls import path

from migration_api.service import MIGRATION
from prpc.urls import prpc_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    *prpc_urlpatterns([MIGRATION]),
]
