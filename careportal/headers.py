"""Content-Security-Policy (django-csp) and Permissions-Policy on every response.

The policy itself is settings.CONTENT_SECURITY_POLICY; this module only adds what is known at
run time, and the Permissions-Policy header that Django 5.2 has no setting for.
"""

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class ContentSecurityPolicy(CSPMiddleware):
    """django-csp's middleware; forms may also lead to the identity provider.

    "Log out" and "Sign in as someone else" are forms whose answer redirects to the provider's
    end-session endpoint, and browsers apply form-action to that redirect too. The provider is
    read from the settings on each response (the tests point the portal at their own provider).
    """

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        provider = {
            _origin(settings.OIDC_ISSUER),
            _origin(getattr(settings, "OIDC_OP_LOGOUT_ENDPOINT", "") or ""),
        } - {""}
        if provider and not report_only:
            update = dict(parts.update or {})
            update["form-action"] = [*update.get("form-action", []), *sorted(provider)]
            parts.update = update
        return parts


class PermissionsPolicy:
    """Permissions-Policy from settings.PERMISSIONS_POLICY: the features no page may use."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(f"{feature}=()" for feature in settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.header)
        return response
