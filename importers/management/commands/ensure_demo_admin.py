"""`python manage.py ensure_demo_admin`: a known superuser login for a development demo."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "cvsite-demo"


class Command(BaseCommand):
    help = (
        "Creates the demo superuser, or resets its password and rights if it exists. "
        "Development only: refuses unless DEBUG is on, since a published password must never "
        "exist in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=DEFAULT_USERNAME, help="default: %(default)s")
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="default: %(default)s")

    def handle(self, *args, username: str, password: str, **options):
        if not settings.DEBUG:
            raise CommandError(
                "refusing to create a demo superuser: DEBUG is off. A demo password must never "
                "exist in production; use this only on a development database with "
                "DJANGO_DEBUG=1 (use `createsuperuser` for real accounts)."
            )
        if not username.strip():
            raise CommandError("--username: must not be empty")
        if not password:
            raise CommandError("--password: must not be empty")
        User = get_user_model()
        with transaction.atomic():
            user = (
                User._default_manager.select_for_update()
                .filter(**{User.USERNAME_FIELD: username})
                .first()
            )
            created = user is None
            if created:
                user = User(**{User.USERNAME_FIELD: username})
            user.is_active = True
            user.is_staff = True
            user.is_superuser = True
            user.set_password(password)
            user.save()
        verb = "Created" if created else "Reset the password and rights of"
        self.stdout.write(self.style.SUCCESS(f"{verb} superuser {username!r}."))
        self.stdout.write(f"Admin login: {username} / {password}")
