"""cvsite settings, read from the environment (12-factor).

Environment:
  DJANGO_DEBUG           "1"/"true" for development; default off.
  DJANGO_SECRET_KEY      required unless DJANGO_DEBUG is on.
  DJANGO_ALLOWED_HOSTS   comma-separated; default "localhost,127.0.0.1" in debug.
  DATABASE_URL           e.g. postgres://user@127.0.0.1:5432/cvsite; default SQLite (WAL).
  NETRC_TOKEN_KEYS       comma-separated Fernet keys; the first encrypts, all decrypt, so keys
                         can be rotated by prepending a new one. Required unless debug.
  DJANGO_SECURE_SSL_REDIRECT, DJANGO_SECURE_PROXY_SSL_HEADER  for deployments behind a proxy.
"""

import base64
import hashlib
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false)")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if not 0 <= seconds < float("inf"):
        raise ImproperlyConfigured(f"{name}={value!r} is not a number of seconds >= 0")
    return seconds


def env_positive(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) == 0:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number > 0")
    return int(value)


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")

NETRC_TOKEN_KEYS = env_list("NETRC_TOKEN_KEYS")
if not NETRC_TOKEN_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("NETRC_TOKEN_KEYS must be set when DJANGO_DEBUG is off")
    # A development key derived from the (development) secret key, so `make run` needs no setup.
    NETRC_TOKEN_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
    ]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "projectconfig",
    "runs",
    "tryjobs",
    "migration_api",
    "importers",
    "monitoring",
    "cvadmin",
    "restapi",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The admin's static files, served by the application itself under gunicorn.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cvsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "cvsite.wsgi.application"

SQLITE_PATH = BASE_DIR / "db.sqlite3"
DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{SQLITE_PATH}", conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers proceed while one writer commits; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue on the busy timeout instead of failing mid-transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic also writes gzip and brotli copies, which WhiteNoise serves when asked.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Side effects (Gerrit posts, submissions) are tasks stored in the database, written in the
# same transaction as the state change that needs them (runs.side_effects). `manage.py
# db_worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

REST_FRAMEWORK = {
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The REST read API (restapi/): requests per token (or staff user) and period (s, m, h, d).
# Counted in Django's cache, which is per process unless CACHES names a shared one.
REST_API_THROTTLE_RATE = os.environ.get("REST_API_THROTTLE_RATE", "600/minute")

SPECTACULAR_SETTINGS = {
    "TITLE": "cvsite REST API",
    "DESCRIPTION": "Read-only access to runs, CLs and tryjobs. Authenticate with "
    "`Authorization: Bearer <token>` (an API token: it sees its projects only) or as staff "
    "logged in to the admin. Lists are keyset pages: follow `next`; there is no count.",
    "VERSION": "1",
    # Only the REST API, not the pRPC service that is served by DRF views too.
    "SERVE_URLCONF": "restapi.urls",
    "SERVE_INCLUDE_SCHEMA": False,
    # `check --deploy` would generate a schema of every URL, the pRPC views' too; the REST
    # API's own is generated and validated by restapi's tests (restapi/openapi.yml).
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # The docs page's scripts and styles are served by cvsite (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "restapi.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "restapi.enums.RUN_STATUS",
        "TryjobStatusEnum": "restapi.enums.TRYJOB_STATUS",
        "ResultStatusEnum": "restapi.enums.RESULT_STATUS",
        "ChangeStatusEnum": "restapi.enums.CHANGE_STATUS",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"no_4xx_tracebacks": {"()": "cvsite.log_filters.ClientErrorsWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_4xx_tracebacks"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # Django's own console handler would print every django.* line a second time (via root).
    "loggers": {"django": {"handlers": [], "propagate": True}},
}

# Every admin time in UTC with seconds and the zone (cvadmin/formats).
FORMAT_MODULE_PATH = ["cvadmin.formats"]

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Gerrit (gerrit/) ------------------------------------------------------------------------
# How cvsite talks to Gerrit hosts (gerrit.client.client_for_host). From the environment:
#   GERRIT_AUTH             JSON object mapping a Gerrit host to "login:password" (a Gerrit HTTP
#                           password), e.g. {"chromium-review.googlesource.com": "cq:secret"}.
#                           First choice for that host. Default: none. The name contains AUTH
#                           so Django's error reports redact it.
#   GERRIT_NETRC_FILE       path to a netrc-format file ("machine <host> login <l> password
#                           <p>"), read on each client creation, for hosts not in GERRIT_AUTH.
#                           Default: none.
#   GERRIT_TIMEOUT_SECONDS  connect and read timeout of each request (each separately);
#                           default 30.
#   GERRIT_URL_OVERRIDES    JSON object mapping a host to the base URL to use instead of
#                           https://<host> (proxies, staging, local fakes), e.g.
#                           {"chromium-review.googlesource.com": "http://127.0.0.1:8081"}.
#                           Credentials for the host are sent there. Default: none.
# A host in neither GERRIT_AUTH nor GERRIT_NETRC_FILE uses the netrc token CQDaemon reported for
# it (ReportUsedNetrc, runs.models.NetrcToken); with none of these, requests are anonymous.
from gerrit import conf as _gerrit_conf  # noqa: E402

GERRIT_AUTH = _gerrit_conf.parse_auth(os.environ.get("GERRIT_AUTH", ""))
GERRIT_NETRC_FILE = os.environ.get("GERRIT_NETRC_FILE", "") or None
GERRIT_TIMEOUT_SECONDS = _gerrit_conf.parse_timeout(os.environ.get("GERRIT_TIMEOUT_SECONDS", ""))
GERRIT_URL_OVERRIDES = _gerrit_conf.parse_url_overrides(os.environ.get("GERRIT_URL_OVERRIDES", ""))
# --- end Gerrit ------------------------------------------------------------------------------

# --- Migration API (migration_api/) ----------------------------------------------------------
# API_TOKEN_CACHE_SECONDS  how long each server process trusts an API token it looked up, so a
#                          busy CQDaemon is not looked up on every call. A token revoked in the
#                          admin stops working at once in that process and within this many
#                          seconds in every other one. Default 10; 0 looks up every call.
API_TOKEN_CACHE_SECONDS = env_seconds("API_TOKEN_CACHE_SECONDS", 10)
# MIGRATION_MAX_REQUEST_BYTES      the largest request body a Migration method accepts (on the
#                                  wire and after gunzip), refused before it is read when
#                                  Content-Length announces it. Default 1 MiB.
# MIGRATION_MAX_REPORT_RUNS_BYTES  the same for ReportRuns, which lists every active run of a
#                                  project: 2,000 runs of 2 CLs and 40 builds each encode to
#                                  4 MB binary, 10.5 MB JSON. Default 32 MiB.
MIGRATION_MAX_REQUEST_BYTES = env_positive("MIGRATION_MAX_REQUEST_BYTES", 1024 * 1024)
MIGRATION_MAX_REPORT_RUNS_BYTES = env_positive("MIGRATION_MAX_REPORT_RUNS_BYTES", 32 * 1024 * 1024)
# MIGRATION_GERRIT_WAIT_SECONDS     how long a PostGerritMessage call waits on Gerrit (each
#                                   request) before the post continues as a durable task and
#                                   the call answers OK. Default 1.
# MIGRATION_GERRIT_CALLS_PER_HOST   how many PostGerritMessage calls of one server process may
#                                   wait on one Gerrit host at a time; more continue as tasks,
#                                   so a hung Gerrit cannot take every thread. Default 4.
MIGRATION_GERRIT_WAIT_SECONDS = env_seconds("MIGRATION_GERRIT_WAIT_SECONDS", 1.0)
MIGRATION_GERRIT_CALLS_PER_HOST = env_positive("MIGRATION_GERRIT_CALLS_PER_HOST", 4)
# --- end Migration API -----------------------------------------------------------------------

# --- pRPC (prpc/) ----------------------------------------------------------------------------
# PRPC_BODY_READ_SECONDS  how long a request body may take to arrive (shortened to the client's
#                         own timeout); a client trickling its body holds a server thread no
#                         longer than this. Default 10.
PRPC_BODY_READ_SECONDS = env_seconds("PRPC_BODY_READ_SECONDS", 10)
# --- end pRPC --------------------------------------------------------------------------------

# --- Monitoring (monitoring/) ----------------------------------------------------------------
# METRICS_BEARER_TOKEN  the token a Prometheus scraper sends (`Authorization: Bearer ...`) to
#                       GET /metrics. Default: none, and /metrics does not exist. The name
#                       contains TOKEN so Django's error reports redact it.
METRICS_BEARER_TOKEN = os.environ.get("METRICS_BEARER_TOKEN", "")
# --- end Monitoring --------------------------------------------------------------------------

# --- Tryjobs (tryjobs/) ----------------------------------------------------------------------
# TRYJOB_BACKEND  dotted path of the tryjobs.backend.TryjobBackend class that launches and
#                 cancels tryjobs, e.g. tryjobs.fake_backend.FakeBackend (in memory, for demos).
#                 Default: none, and every launch then fails (UNTRIGGERED, saying so).
TRYJOB_BACKEND = os.environ.get("TRYJOB_BACKEND", "").strip()
# TRYJOB_GOOGLER_DOMAINS  email domains whose run owners builds are told are Googlers
#                 ($recipe_engine/cq ownerIsGoogler). Default: google.com.
TRYJOB_GOOGLER_DOMAINS = env_list("TRYJOB_GOOGLER_DOMAINS", "google.com")
# With TRYJOB_BACKEND=tryjobs.buildbucket.backend.BuildbucketBackend:
# BUILDBUCKET_URL_OVERRIDES  host=url,... : where to reach a Buildbucket host named by the
#                 projects' tryjob definitions (e.g. the fake server); default https://<host>.
# BUILDBUCKET_TOKEN_FILES  project=path,... : per LUCI project, a file holding the bearer token
#                 cvsite calls Buildbucket with for that project's runs (as upstream calls it
#                 as the project); read at every call, so a refreshed token is used at once.
# BUILDBUCKET_TOKEN_FILE  the token file of every project BUILDBUCKET_TOKEN_FILES does not
#                 name. Default: none (calls carry no token).
# BUILDBUCKET_TIMEOUT_SECONDS  one HTTP attempt's timeout (default 10).
# BUILDBUCKET_PUSH_TOKEN  the shared secret Pub/Sub pushes present (`Authorization: Bearer`
#                 or `?token=`) at POST /pubsub/buildbucket. Default: none. The name contains
#                 TOKEN so Django's error reports redact it.
# BUILDBUCKET_PUSH_AUDIENCE, BUILDBUCKET_PUSH_SERVICE_ACCOUNT  with both set, a push may
#                 instead present the OIDC ID token of a push subscription with authentication
#                 (`Authorization: Bearer <JWT>`): signed by Google, for this audience, of
#                 this service account (its verified email). Default: none. With neither
#                 way configured, every push is refused.
# BUILDBUCKET_PUSH_CERTS_URL  the JWKS document of the keys that sign those tokens (fetched
#                 once an hour, or for a key it does not hold yet). Default: Google's.
# BUILDBUCKET_POLL_AFTER_SECONDS  poll_builds fetches running builds not updated for this
#                 long (default 600).


def _buildbucket_url_overrides() -> dict[str, str]:
    overrides = {}
    for item in env_list("BUILDBUCKET_URL_OVERRIDES"):
        host, _, url = item.partition("=")
        if not host.strip() or not url.strip().startswith(("http://", "https://")):
            raise ImproperlyConfigured(
                f"BUILDBUCKET_URL_OVERRIDES: {item!r} is not host=http(s)://..."
            )
        overrides[host.strip()] = url.strip()
    return overrides


def _buildbucket_token_files() -> dict[str, str]:
    files = {}
    for item in env_list("BUILDBUCKET_TOKEN_FILES"):
        project, _, path = item.partition("=")
        if not project.strip() or not path.strip():
            raise ImproperlyConfigured(f"BUILDBUCKET_TOKEN_FILES: {item!r} is not project=path")
        files[project.strip()] = path.strip()
    return files


BUILDBUCKET_URL_OVERRIDES = _buildbucket_url_overrides()
BUILDBUCKET_TOKEN_FILES = _buildbucket_token_files()
BUILDBUCKET_TOKEN_FILE = os.environ.get("BUILDBUCKET_TOKEN_FILE", "") or None
BUILDBUCKET_TIMEOUT_SECONDS = env_seconds("BUILDBUCKET_TIMEOUT_SECONDS", 10.0)
BUILDBUCKET_PUSH_TOKEN = os.environ.get("BUILDBUCKET_PUSH_TOKEN", "")
BUILDBUCKET_PUSH_AUDIENCE = os.environ.get("BUILDBUCKET_PUSH_AUDIENCE", "").strip()
BUILDBUCKET_PUSH_SERVICE_ACCOUNT = os.environ.get("BUILDBUCKET_PUSH_SERVICE_ACCOUNT", "").strip()
BUILDBUCKET_PUSH_CERTS_URL = (
    os.environ.get("BUILDBUCKET_PUSH_CERTS_URL", "").strip()
    or "https://www.googleapis.com/oauth2/v3/certs"
)
BUILDBUCKET_POLL_AFTER_SECONDS = env_seconds("BUILDBUCKET_POLL_AFTER_SECONDS", 600.0)
# --- end Tryjobs -----------------------------------------------------------------------------
