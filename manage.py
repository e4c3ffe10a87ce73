#!/usr/bin/env python
"""Django's command-line utility for cvsite."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvsite.settings")
    if "DJANGO_SECRET_KEY" not in os.environ:
        # No secrets configured: a development checkout, where debug defaults are what a
        # developer wants. Servers (wsgi/asgi) get no such default and refuse to start.
        os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
