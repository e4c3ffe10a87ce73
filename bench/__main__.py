"""`python -m bench [NAME ...]` runs the named benchmarks (all by default)."""

import importlib
import os
import sys
import tempfile

BENCHMARKS = [
    "serializers",
    "fetch_active_runs",
    "report_verified_run",
    "import_attempts",
    "executor",
    "import_config",
    "requirement",
    "rest_runs_list",
    "buildbucket",
    "admin",
    "dashboard",
]


def main(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # A throwaway SQLite file: benchmarks never touch a developer's data.
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvsite.test_settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        for name in names or BENCHMARKS:
            importlib.import_module(f"bench.{name}").run()


if __name__ == "__main__":
    main(sys.argv[1:])
