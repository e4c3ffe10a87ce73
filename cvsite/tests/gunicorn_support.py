"""cvsite served as `make serve` serves it: gunicorn with gunicorn.conf.py and production
settings, in a subprocess, on a free port, for tests of the whole service."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from cvsite.tests.own_postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
READY_SECONDS = 60


def production_env(database_url: str, **overrides: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cvsite.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "serving-test-" + "k" * 50,
        "NETRC_TOKEN_KEYS": "dGVzdC1vbmx5LW5ldHJjLWtleS0wMDAwMDAwMDAwMDA=",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        **overrides,
    }


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def issue_token(env: dict, project: str) -> str:
    printed = manage(env, "create_api_token", f"cqdaemon-{project}", "--project", project)
    return printed.strip().splitlines()[-1]


@dataclass
class Served:
    url: str
    address: tuple[str, int]
    log: Path


@contextmanager
def gunicorn(env: dict, log: Path, workers: int = 1, threads: int = 2) -> Iterator[Served]:
    """Runs gunicorn until the block ends; the database must be migrated already."""
    port = free_port()
    env = {
        **env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_THREADS": str(threads),
    }
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + READY_SECONDS
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"gunicorn exited: {log.read_text()}")
                try:
                    requests.get(url + "/", timeout=5)
                    break
                except requests.RequestException:  # not listening yet, or slow to answer
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"gunicorn did not start: {log.read_text()}") from None
                    time.sleep(0.2)
            yield Served(url, ("127.0.0.1", port), log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
