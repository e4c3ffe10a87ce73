from django.contrib import admin
from django.urls import include, path

from cvsite.pubsub import buildbucket_push
from migration_api.service import MIGRATION
from monitoring.views import metrics
from prpc.urls import prpc_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
    path("pubsub/buildbucket", buildbucket_push, name="buildbucket-push"),
    path("", include("restapi.urls")),
    *prpc_urlpatterns([MIGRATION]),
]
