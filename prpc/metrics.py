"""Prometheus metrics of a pRPC server: calls by method and code, their latency, and the calls
the database could not serve. Exposed by whatever serves the process's registry (cvsite:
/metrics); under several server processes, prometheus-client's multiprocess mode adds them up.
"""

from prometheus_client import Counter, Histogram

from prpc.codes import Code, code_name
from prpc.service import CallContext

CALLS = Counter(
    "prpc_calls",
    "pRPC calls answered, by method and gRPC code",
    ["service", "method", "code"],
)
LATENCY = Histogram(
    "prpc_call_duration_seconds",
    "From the start of request processing to the response being ready",
    ["service", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DATABASE_UNAVAILABLE = Counter(
    "prpc_database_unavailable",
    "Calls answered UNAVAILABLE because the database could not be reached",
    ["service", "method"],
)


class CallMetrics:
    """An observer (prpc.service.CallObserver) counting every call and timing it."""

    def on_call_finished(self, context: CallContext, code: Code | int, duration: float) -> None:
        CALLS.labels(context.service, context.method, code_name(code)).inc()
        LATENCY.labels(context.service, context.method).observe(duration)
