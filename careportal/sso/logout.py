"""Signing out of the portal also ends the session at the provider (RP-initiated logout)."""

import logging
from urllib.parse import urlencode

from django.urls import reverse

from .discovery import ProviderUnavailable, oidc_setting

log = logging.getLogger("careportal.sso")


def provider_logout_url(request) -> str:
    """The provider's end_session_endpoint with id_token_hint, client_id and the way back.

    Used as OIDC_OP_LOGOUT_URL_METHOD. Falls back to the portal's signed-out page when the
    provider has no end_session_endpoint or cannot be reached.
    """
    signed_out = reverse("sso_signed_out")
    try:
        endpoint = oidc_setting("OIDC_OP_LOGOUT_ENDPOINT", None)
    except ProviderUnavailable:
        log.warning("sso provider logout skipped: provider unreachable")
        return signed_out
    if not endpoint:
        return signed_out
    params = {
        "client_id": oidc_setting("OIDC_RP_CLIENT_ID"),
        "post_logout_redirect_uri": request.build_absolute_uri(signed_out),
    }
    id_token = request.session.get("oidc_id_token")
    if id_token:
        params["id_token_hint"] = id_token
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(params)}"
