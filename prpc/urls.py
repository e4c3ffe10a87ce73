"""Mounting pRPC services in a URLconf."""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import URLPattern, path

from prpc.cors import AccessControlPolicy
from prpc.service import Service
from prpc.views import PrpcView, Registry


def prpc_urlpatterns(
    services: Iterable[Service], *, access_control: AccessControlPolicy | None = None
) -> list[URLPattern]:
    """URL patterns serving `services` at `prpc/<full.service.Name>/<Method>`.

    Pass every service in one call: the pattern also answers unknown services and methods
    (501 UNIMPLEMENTED). `access_control` enables CORS (see `prpc.cors.allow_origins`).
    """
    registry = Registry(list(services), access_control)
    view = PrpcView.as_view(registry=registry)
    return [path("prpc/<str:service>/<str:method>", view, name="prpc")]
