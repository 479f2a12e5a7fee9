"""Break-glass sign-in throttled with django-axes: a few wrong passwords, then a wait.

Only the break-glass password form is throttled. SSO sign-ins carry no password: the backend
lets them pass and their failures are not counted, so a locked break-glass address never keeps
agents behind the same office address from signing in through the provider.
"""

import logging
import math

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_client_username, get_cool_off
from django.utils import timezone

from .views import _page, audit_event


class BreakGlassThrottle(AxesStandaloneBackend):
    """First in AUTHENTICATION_BACKENDS: refuses a locked-out username or address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        # No request: not a sign-in from the web (manage.py, a test client's login()).
        if request is None or password is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def not_a_password_sign_in(request, credentials) -> bool:
    """AXES_WHITELIST_CALLABLE: axes neither checks nor counts what is not a password sign-in."""
    return "password" not in (credentials or {})


def locked_out(request, original_response, credentials):
    """AXES_LOCKOUT_CALLABLE: the page of a refused break-glass try, HTTP 429 with Retry-After.

    Each refused try starts the wait again (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), so
    the moment to come back is now plus the cool-off.
    """
    wait = get_cool_off(request)
    retry_at = timezone.localtime(timezone.now() + wait)
    username = str(get_client_username(request, credentials) or "")[:150]
    audit_event(
        logging.WARNING,
        "break-glass-locked-out",
        request,
        user=username,
        retry_at=retry_at.isoformat(timespec="seconds"),
    )
    response = _page(
        request,
        "sso/break_glass_locked_out.html",
        429,
        title="Too many failed sign-in attempts",
        retry_at=retry_at,
        minutes=math.ceil(wait.total_seconds() / 60),
    )
    response["Retry-After"] = str(math.ceil(wait.total_seconds()))
    return response
