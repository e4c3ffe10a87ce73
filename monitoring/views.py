"""GET /metrics: Prometheus's text format, for a scraper holding METRICS_BEARER_TOKEN.

Without the setting the endpoint does not exist (404): metrics name projects and hosts. Under
gunicorn, `make serve` sets PROMETHEUS_MULTIPROC_DIR so that every worker process's counters
are added up here (prometheus-client's multiprocess mode).
"""

import hmac
import os

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from monitoring.collectors import DatabaseGauges


@require_GET
def metrics(request):
    expected = settings.METRICS_BEARER_TOKEN
    if not expected:
        raise Http404("metrics are off: set METRICS_BEARER_TOKEN")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        response = HttpResponse("a bearer token is needed\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = "Bearer"
        return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = REGISTRY  # this process's counters, and its platform collectors
    database = CollectorRegistry()
    database.register(DatabaseGauges())
    body = generate_latest(processes) + generate_latest(database)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
