"""A generic pRPC transport for Django REST framework, knowing nothing of any service.

Declare a service and mount it:

    from prpc import Service, PrpcError, Code
    from prpc.urls import prpc_urlpatterns

    service = Service(
        migration_pb2.DESCRIPTOR.services_by_name["Migration"],
        {"FetchActiveRuns": fetch_active_runs, ...},   # handler(request, context) -> response
        authenticate=authenticate,                     # (context) -> principal, or raise
        observers=[metrics],                           # .on_call_finished(ctx, code, secs)
    )
    urlpatterns += prpc_urlpatterns([service])

Call one with `prpc.client.Client`.
"""

from prpc.codes import Code
from prpc.errors import PrpcError
from prpc.formats import Encoded, Format
from prpc.headers import Metadata
from prpc.service import CallContext, CallObserver, Service, unimplemented

__all__ = [
    "CallContext",
    "CallObserver",
    "Code",
    "Encoded",
    "Format",
    "Metadata",
    "PrpcError",
    "Service",
    "unimplemented",
]
