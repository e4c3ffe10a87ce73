"""Settings of the gunicorn servers `bench.report_verified_run` starts: cvsite's own settings
(from the environment, as in production) with a URLconf that adds the minimal baseline view."""

from cvsite.settings import *  # noqa: F403

ROOT_URLCONF = "bench.minimal_urls"
