"""The HTTP face of Buildbucket's Pub/Sub push subscription (tryjobs.buildbucket.push)."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tryjobs.buildbucket import push


def _bearer(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return token.strip()
    return request.GET.get("token", "")


@csrf_exempt
@require_POST
def buildbucket_push(request: HttpRequest) -> HttpResponse:
    outcome = push.authenticate(_bearer(request)) or push.receive_push(request.body)
    return HttpResponse(
        outcome.detail + "\n", status=outcome.http_status, content_type="text/plain"
    )
