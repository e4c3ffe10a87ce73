"""Settings come from the environment; production settings pass Django's deploy checks."""

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SECRET_KEY": "k3y-" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_" * 2,
    "DJANGO_ALLOWED_HOSTS": "cvsite.example.com",
    "NETRC_TOKEN_KEYS": Fernet.generate_key().decode(),
    "PATH": "/usr/bin:/bin",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "DEBUG")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off" in result.stderr


def test_production_refuses_to_start_without_netrc_keys():
    result = manage("check", NETRC_TOKEN_KEYS="")
    assert result.returncode != 0
    assert "NETRC_TOKEN_KEYS must be set when DJANGO_DEBUG is off" in result.stderr


def test_a_malformed_boolean_is_named():
    result = manage("check", DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


@pytest.mark.parametrize("value", ["ten", "-1", "nan", "inf"])
def test_a_malformed_token_cache_period_is_named(value):
    result = manage("check", API_TOKEN_CACHE_SECONDS=value)
    assert result.returncode != 0
    assert f"API_TOKEN_CACHE_SECONDS={value!r} is not a number of seconds >= 0" in result.stderr


def test_debug_needs_no_configuration_and_uses_sqlite_with_wal(tmp_path):
    code = (
        "import django; django.setup();"
        "from django.db import connection;"
        "cursor = connection.cursor(); cursor.execute('PRAGMA journal_mode');"
        "print(connection.vendor, cursor.fetchone()[0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "cvsite.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path}/wal-check.sqlite3",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["sqlite", "wal"]
