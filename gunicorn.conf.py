"""gunicorn settings for serving cvsite in production (`make serve`; gunicorn reads this file).

Threads (gthread) rather than processes alone: a CQDaemon call spends most of its time waiting
on the database, and each worker process holds its own copy of Django. The limits below are
gunicorn's own defence; cvsite itself refuses a caller without a token before reading its
body, bounds how long a body may take to arrive (PRPC_BODY_READ_SECONDS) and how large it may
be (MIGRATION_MAX_REQUEST_BYTES). Put a buffering reverse proxy in front all the same (README:
"Serving"): gunicorn reads request headers in a worker thread, so only a proxy shields the
threads from clients that send their headers slowly.

From the environment: HOST, PORT (default 127.0.0.1:8000), GUNICORN_WORKERS (default 2 per
core, plus one), GUNICORN_THREADS (default 4), PROMETHEUS_MULTIPROC_DIR (where the workers'
metrics meet; `make serve` sets it).
"""

import multiprocessing
import os

from prometheus_client import multiprocess


def _positive(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) == 0:
        raise SystemExit(f"{name}={value!r} is not a whole number > 0")
    return int(value)


wsgi_app = "cvsite.wsgi:application"
bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{_positive('PORT', 8000)}"
worker_class = "gthread"
workers = _positive("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1)
threads = _positive("GUNICORN_THREADS", 4)

# A worker silent this long is killed and replaced; a graceful restart (SIGHUP, or the
# max_requests recycling below) lets calls in flight finish for graceful_timeout.
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 10_000
max_requests_jitter = 1_000

# Request line and headers: a pRPC call needs a handful of short headers.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

accesslog = "-"
errorlog = "-"


def child_exit(server, worker):
    # prometheus-client's multiprocess mode keeps a dead worker's files unless told.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
