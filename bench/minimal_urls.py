"""cvsite's URLs plus the baseline of `bench.report_verified_run`: the least a Django view can
do for a ReportVerifiedRun call (decode the request, insert one row, encode an Empty answer)."""

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from google.protobuf import empty_pb2

from cvproto.migration import migration_pb2 as migration_pb
from cvsite.urls import urlpatterns as cvsite_urlpatterns
from migration_api.models import ApiCall

MINIMAL_PATH = "bench/minimal/ReportVerifiedRun"


@csrf_exempt
def minimal_report_verified_run(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    message = migration_pb.ReportVerifiedRunRequest.FromString(request.body)
    ApiCall.objects.create(
        time=timezone.now(),
        caller=message.run.attempt.key,
        method="ReportVerifiedRun",
        code="OK",
        duration_ms=0,
    )
    response = HttpResponse(
        empty_pb2.Empty().SerializeToString(), content_type="application/prpc; encoding=binary"
    )
    response["X-Prpc-Grpc-Code"] = "0"
    return response


urlpatterns = [
    *cvsite_urlpatterns,
    path(MINIMAL_PATH, minimal_report_verified_run),
]
