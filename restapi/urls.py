"""/api/v1/: the REST read API, its OpenAPI schema and its docs page."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from restapi.views import BuilderStatsView, CLViewSet, RunViewSet, TryjobViewSet

router = SimpleRouter()
router.register("runs", RunViewSet, basename="run")
router.register("tryjobs", TryjobViewSet, basename="tryjob")

cl_list = CLViewSet.as_view({"get": "list"})
cl_detail = CLViewSet.as_view({"get": "retrieve"})

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/v1/cls/", cl_list, name="cl-list"),
    # Anything in the path reaches the view, so that a malformed one is a 404 in JSON.
    path("api/v1/cls/<str:host>/<str:change>/", cl_detail, name="cl-detail"),
    path(
        "api/v1/builders/<str:project>/<str:bucket>/<str:builder>/stats/",
        BuilderStatsView.as_view(),
        name="builder-stats",
    ),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
