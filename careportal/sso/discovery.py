"""Where the provider's endpoints are: explicit settings first, else its discovery document.

The document ({OIDC_ISSUER}/.well-known/openid-configuration) is fetched on first use, never
at import or start-up, and kept for the life of the process: the portal starts (and
`manage.py check --deploy` runs) while the provider is down.
"""

import logging
import threading

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from mozilla_django_oidc.utils import import_from_settings

log = logging.getLogger("careportal.sso")

# Setting name -> discovery document field.
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
}

_lock = threading.Lock()
_document: dict | None = None


class ProviderUnavailable(Exception):
    """The discovery document could not be fetched or is not the configured issuer's."""


def issuer() -> str:
    return settings.OIDC_ISSUER.rstrip("/")


def discovery_url() -> str:
    return f"{issuer()}/.well-known/openid-configuration"


def provider_metadata() -> dict:
    global _document
    document = _document
    if document is not None:
        return document
    with _lock:
        if _document is None:
            _document = _fetch()
        return _document


def _fetch() -> dict:
    url = discovery_url()
    try:
        response = requests.get(
            url,
            timeout=settings.OIDC_TIMEOUT,
            verify=getattr(settings, "OIDC_VERIFY_SSL", True),
            headers={"Accept": "application/json"},
        )
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"cannot read {url}: {exc.__class__.__name__}") from exc
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url} is not a discovery document")
    # OpenID Connect Discovery 1.0, section 4.3: the issuer must be the one we asked.
    if str(document.get("issuer", "")).rstrip("/") != issuer():
        raise ProviderUnavailable(
            f"{url} names issuer {document.get('issuer')!r}, not OIDC_ISSUER {issuer()!r}"
        )
    log.info("sso discovery issuer=%s", issuer())
    return document


def oidc_setting(attr: str, *default):
    """mozilla-django-oidc's `get_settings`, with endpoints resolved through discovery."""
    if attr in ENDPOINTS:
        explicit = getattr(settings, attr, "")
        if explicit:
            return explicit
        value = provider_metadata().get(ENDPOINTS[attr])
        if value:
            return value
        if default:
            return default[0]
        raise ImproperlyConfigured(
            f"{attr} is not set and {discovery_url()} has no {ENDPOINTS[attr]}"
        )
    return import_from_settings(attr, *default)


def lazy_setting(attr: str, *default) -> property:
    """A class attribute read from the settings (and discovery) each time it is used."""
    return property(lambda self: oidc_setting(attr, *default))


def reset() -> None:
    global _document
    with _lock:
        _document = None


@receiver(setting_changed)
def _reset_on_setting_change(*, setting: str, **kwargs) -> None:
    if setting.startswith("OIDC_"):
        reset()
