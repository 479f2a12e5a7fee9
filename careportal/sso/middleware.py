"""The silent re-check at the provider, with endpoints from discovery read when needed."""

import logging

from django.utils.deprecation import MiddlewareMixin
from mozilla_django_oidc.middleware import SessionRefresh

from .discovery import ProviderUnavailable, lazy_setting, oidc_setting

log = logging.getLogger("careportal.sso")


class SsoSessionRefresh(SessionRefresh):
    """mozilla-django-oidc's SessionRefresh: once the ID token is older than
    OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS, the next GET of an SSO user goes through the provider
    again with prompt=none, and the backend re-reads the roles. POSTs (forms) pass untouched;
    sessions of break-glass users are never refreshed.
    """

    OIDC_EXEMPT_URLS = lazy_setting("OIDC_EXEMPT_URLS", [])
    OIDC_OP_AUTHORIZATION_ENDPOINT = lazy_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_RP_CLIENT_ID = lazy_setting("OIDC_RP_CLIENT_ID")
    OIDC_STATE_SIZE = lazy_setting("OIDC_STATE_SIZE", 32)
    OIDC_AUTHENTICATION_CALLBACK_URL = lazy_setting(
        "OIDC_AUTHENTICATION_CALLBACK_URL", "oidc_authentication_callback"
    )
    OIDC_RP_SCOPES = lazy_setting("OIDC_RP_SCOPES", "openid email")
    OIDC_USE_NONCE = lazy_setting("OIDC_USE_NONCE", True)
    OIDC_NONCE_SIZE = lazy_setting("OIDC_NONCE_SIZE", 32)

    get_settings = staticmethod(oidc_setting)

    def __init__(self, get_response):
        # Built once at start-up: nothing is read from the provider here.
        MiddlewareMixin.__init__(self, get_response)

    def process_request(self, request):
        try:
            return super().process_request(request)
        except ProviderUnavailable as exc:
            # Keep serving the session already signed in; the re-check happens next time.
            log.warning("sso refresh postponed: %s", exc)
            return None
