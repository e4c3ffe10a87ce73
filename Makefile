# cvsite developer entry points. Every target sets up what it needs (virtualenv, installs,
# migrations), so a fresh clone needs nothing but `make run` or `make test`.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Where the serving processes' Prometheus metrics meet (prometheus-client's multiprocess mode).
METRICS_DIR ?= $(CURDIR)/.metrics

.PHONY: run serve test fuzz protos bench lint migrate clean api-schema

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

migrate: $(STAMP)
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --no-input

# Serves cvsite on SQLite with the demo data and an admin login, and runs a durable-task worker
# beside it (Gerrit posts and submissions), stopped when the server stops. With
# FAKE_BUILDBUCKET=1, a fake Buildbucket on $(HOST):$(FAKE_BUILDBUCKET_PORT) runs beside them
# and cvsite launches tryjobs there (TRYJOB_BACKEND is Buildbucket), polling builds every minute.
FAKE_BUILDBUCKET ?=
FAKE_BUILDBUCKET_PORT ?= 8001
RUN_ENV := DJANGO_DEBUG=1
ifneq ($(FAKE_BUILDBUCKET),)
RUN_ENV += TRYJOB_BACKEND=tryjobs.buildbucket.backend.BuildbucketBackend \
	BUILDBUCKET_URL_OVERRIDES=cr-buildbucket.appspot.com=http://$(HOST):$(FAKE_BUILDBUCKET_PORT) \
	BUILDBUCKET_PUSH_TOKEN=$${BUILDBUCKET_PUSH_TOKEN:-make-run-demo-push-token} \
	BUILDBUCKET_POLL_AFTER_SECONDS=60
endif
run: migrate
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	$(RUN_ENV) $(BIN)/python manage.py ensure_demo_admin
	@echo "cvsite: http://$(HOST):$(PORT)/admin/ (task worker: manage.py db_worker)"
	@$(RUN_ENV) $(BIN)/python manage.py db_worker --queue-name '*' & worker=$$!; \
	fake=; if [ -n "$(FAKE_BUILDBUCKET)" ]; then \
		$(RUN_ENV) $(BIN)/python manage.py poll_builds --schedule --every 60; \
		$(RUN_ENV) $(BIN)/python manage.py fake_buildbucket --port $(FAKE_BUILDBUCKET_PORT) \
			--push-url http://$(HOST):$(PORT)/pubsub/buildbucket & fake=$$!; fi; \
	trap 'kill $$worker $$fake 2>/dev/null; wait $$worker $$fake 2>/dev/null' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(RUN_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production serving: gunicorn with gunicorn.conf.py, production settings from the environment
# (DJANGO_SECRET_KEY, NETRC_TOKEN_KEYS, DATABASE_URL, DJANGO_ALLOWED_HOSTS, ...: see README).
serve: $(STAMP)
	$(BIN)/python manage.py check --deploy
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	HOST=$(HOST) PORT=$(PORT) PROMETHEUS_MULTIPROC_DIR=$(METRICS_DIR) \
		$(BIN)/gunicorn --config gunicorn.conf.py

# The browser tests drive Debian's chromium (never a downloaded one); CI machines run as root.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update && apt-get install -y chromium

# The whole suite; DATABASE_URL selects the database (SQLite by default).
test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest

# The Migration API's fuzz and boundary tests at depth: about 100,000 requests (make test sends
# a few thousand). Prints the request count and how many were answered HTTP 500.
fuzz: $(STAMP)
	CVSITE_FUZZ_EXAMPLES=2100 $(BIN)/python -m pytest -p no:cacheprovider -q \
		migration_api/tests/test_fuzz.py migration_api/tests/test_boundaries.py

protos: $(STAMP)
	$(BIN)/python -m cvproto.build

bench: $(STAMP)
	DJANGO_SETTINGS_MODULE=cvsite.test_settings $(BIN)/python -m bench

# Style, and the import contracts of pyproject.toml: dependencies point one way, no cycles.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm

# The REST API's OpenAPI schema, committed so that a change to it shows in review (a test fails
# when it is stale).
api-schema: $(STAMP)
	DJANGO_DEBUG=1 $(BIN)/python manage.py spectacular --urlconf restapi.urls --validate \
		--file restapi/openapi.yml
