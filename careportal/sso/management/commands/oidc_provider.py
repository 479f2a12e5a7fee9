"""python manage.py oidc_provider: the demo OpenID provider on loopback (DEBUG only)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from careportal.sso import demo_provider


def _issuer_port() -> int | None:
    parts = urlsplit(settings.OIDC_ISSUER)
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost") and parts.port:
        return parts.port
    return None


class Command(BaseCommand):
    help = (
        "Run the demo OpenID provider (oidc-provider-mock) on 127.0.0.1 with the demo users "
        "agent (care-agent), supervisor (care-supervisor) and nobody (no role). "
        "Only with DEBUG on: anyone can sign in as anyone."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--port",
            type=int,
            default=None,
            help="default: the port of OIDC_ISSUER when it is on loopback, else "
            f"{demo_provider.DEFAULT_PORT}",
        )
        parser.add_argument("--token-max-age", type=int, default=3600, help="seconds")

    def handle(self, *args, port=None, token_max_age=3600, **options):
        if not settings.DEBUG:
            raise CommandError("The demo provider only runs with DEBUG on.")
        if port is None:
            port = _issuer_port() or demo_provider.DEFAULT_PORT
        for sub, claims in demo_provider.DEMO_USERS.items():
            roles = ", ".join(claims["realm_access"]["roles"])
            self.stdout.write(f"demo user {sub}: roles {roles}")
        demo_provider.serve("127.0.0.1", port, token_max_age)
