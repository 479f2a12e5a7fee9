"""The demo's local administrator, printed so a newcomer can sign in (DEBUG only)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"
PASSWORD = "care-portal-demo"  # demo only: the command refuses to run with DEBUG off


class Command(BaseCommand):
    help = "Create or reset the demo superuser (DEBUG only) and print how to sign in."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("The demo administrator exists only with DEBUG on.")
        user, _ = get_user_model().objects.get_or_create(username=USERNAME)
        user.is_staff = user.is_superuser = True
        user.set_password(PASSWORD)
        user.save()
        self.stdout.write(f"  Demo administrator: {USERNAME} / {PASSWORD}")
