"""Sign-in through the provider, the way back, sign-out, the refusal page and break-glass.

With SSO the admin's own login page only sends the browser on to the provider; the admin's
password form lives on at the break-glass URL, for a local superuser, when BREAK_GLASS_LOGIN
is on.
"""

import logging
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, auth
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.views.generic import View
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    OIDCLogoutView,
)

from .backends import Refusal, refuse
from .discovery import ProviderUnavailable, lazy_setting, oidc_setting

log = logging.getLogger("careportal.sso")

# Answers of a silent re-check (prompt=none) meaning "the provider wants the user again".
_SESSION_GONE = {"login_required", "interaction_required", "consent_required"}
_ID_TOKEN = "oidc_id_token"


def audit_event(level: int, event: str, request, *, user: str = "", subject: str = "", **fields):
    """One log line per sign-in, refusal or sign-out: who, from where, when. Never tokens."""
    values = {
        "user": user or "-",
        "sub": subject or "-",
        "ip": request.META.get("REMOTE_ADDR") or "-",
        "at": timezone.now().isoformat(timespec="seconds"),
        **{key: value for key, value in fields.items() if value not in (None, "")},
    }
    text = " ".join(f"{key}={_logfmt(value)}" for key, value in values.items())
    log.log(level, "sso %s %s", event, text, extra={"sso_event": event, "sso": values})


def _logfmt(value) -> str:
    value = str(value).replace("\n", " ").replace("\r", " ")
    if " " in value or "=" in value or '"' in value:
        return '"' + value.replace('"', '\\"') + '"'
    return value


def _subject(user) -> str:
    identity = getattr(user, "sso_identity", None)
    return getattr(identity, "subject", "") or ""


def _page(request, template: str, status: int, **context):
    # subtitle: set, so that no template lookup fails (Django logs those with the request).
    context = {**admin.site.each_context(request), "subtitle": None, **context}
    return render(request, template, context, status=status)


def _safe_next(request, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def refused_page(request, refusal):
    return _page(
        request,
        "sso/refused.html",
        403,
        title="No access to the Care Portal",
        reason=refusal.reason,
        who=refusal.username or refusal.subject,
        agent_role=settings.OIDC_AGENT_ROLE,
        supervisor_role=settings.OIDC_SUPERVISOR_ROLE,
    )


def failure_page(request, *, status: int, title: str, message: str, reference: str):
    return _page(
        request,
        "sso/failed.html",
        status,
        title=title,
        message=message,
        reference=reference,
    )


def admin_login(request):
    """The admin's login URL: on to the provider (or back, when already signed in)."""
    next_url = _safe_next(request, request.GET.get("next"))
    if request.user.is_authenticated:
        if admin.site.has_permission(request):
            return HttpResponseRedirect(next_url)
        # Signed in but not (or no longer) staff.
        return refused_page(request, Refusal("no_role", username=request.user.get_username()))
    query = urlencode({"next": next_url})
    return HttpResponseRedirect(f"{reverse('oidc_authentication_init')}?{query}")


class SsoAuthenticationRequestView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider: authorization code flow with PKCE (S256) and nonce."""

    OIDC_OP_AUTH_ENDPOINT = lazy_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_RP_CLIENT_ID = lazy_setting("OIDC_RP_CLIENT_ID")
    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # the endpoints are read when used

    def get(self, request):
        try:
            return super().get(request)
        except ProviderUnavailable as exc:
            reference = uuid.uuid4().hex[:12]
            audit_event(logging.ERROR, "unavailable", request, reference=reference, detail=str(exc))
            return failure_page(
                request,
                status=503,
                title="The sign-in service cannot be reached",
                message="The portal cannot reach the identity provider right now. "
                "Try again in a minute; if it persists, contact IT support.",
                reference=reference,
            )


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """The provider sends the browser back here, after a sign-in or a silent re-check."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        self.user_before = request.user if request.user.is_authenticated else None
        self.next_before = request.session.get("oidc_login_next")
        state = request.GET.get("state")
        if "code" in request.GET and state not in request.session.get("oidc_states", {}):
            # Not a sign-in this browser started, or one already finished (a replay).
            if self.user_before is not None:
                # Signed in already (the Back button): nothing to do, and nothing ends.
                return HttpResponseRedirect(reverse("admin:index"))
            refuse(request, "invalid_state", "unknown or already used state")
            return self.login_failure()
        try:
            return super().get(request)
        except SuspiciousOperation as exc:
            # An unknown or replayed state: not a sign-in this browser started.
            refuse(request, "invalid_state", str(exc))
            return self.login_failure()

    def login_success(self):
        request, user = self.request, self.user
        id_token = request.session.get(_ID_TOKEN)
        refreshed = self.user_before is not None and self.user_before.pk == user.pk
        response = super().login_success()
        if id_token and _ID_TOKEN not in request.session:
            request.session[_ID_TOKEN] = id_token  # auth.login flushed it (another user)
        audit_event(
            logging.INFO,
            "refresh" if refreshed else "sign-in",
            request,
            user=user.get_username(),
            subject=_subject(user),
            groups=",".join(sorted(user.groups.values_list("name", flat=True))),
        )
        return response

    def login_failure(self):
        request = self.request
        refusal = getattr(request, "sso_refusal", None)
        before = self.user_before
        if request.user.is_authenticated:
            # A failed re-check: the session ends here, whatever the reason.
            id_token = request.session.get(_ID_TOKEN)
            auth.logout(request)
            if id_token:
                request.session[_ID_TOKEN] = id_token  # for "sign out of the provider"
        who = {"user": before.get_username(), "subject": _subject(before)} if before else {}

        error = request.GET.get("error")
        if error:
            return self._provider_said_no(error, who)
        if refusal is not None and refusal.reason in ("no_role", "account_disabled"):
            audit_event(
                logging.WARNING,
                "refused",
                request,
                user=refusal.username,
                subject=refusal.subject,
                reason=refusal.reason,
                detail=refusal.detail,
                refresh="yes" if before else "",
            )
            return refused_page(request, refusal)
        return self._unusable_answer(refusal, who)

    def _provider_said_no(self, error: str, who: dict):
        """The provider answered with `?error=`: its session ended, or it refused to sign in."""
        request = self.request
        if error in _SESSION_GONE and self.user_before is not None:
            # The provider session ended: sign in again, then back to where they were.
            audit_event(logging.INFO, "session-ended", request, reason=error, **who)
            query = urlencode({"next": _safe_next(request, self.next_before)})
            return HttpResponseRedirect(f"{reverse('admin:login')}?{query}")
        reference = uuid.uuid4().hex[:12]
        audit_event(
            logging.WARNING,
            "refused",
            request,
            reason=f"provider:{error}",
            reference=reference,
            **who,
        )
        return failure_page(
            request,
            status=403 if error == "access_denied" else 400,
            title="Sign-in was not completed",
            message="The identity provider did not sign you in.",
            reference=reference,
        )

    def _unusable_answer(self, refusal, who: dict):
        """The provider could not be reached, or its answer could not be verified."""
        request = self.request
        reference = uuid.uuid4().hex[:12]
        audit_event(
            logging.WARNING,
            "refused",
            request,
            user=(refusal.username if refusal else "") or who.get("user", ""),
            subject=(refusal.subject if refusal else "") or who.get("subject", ""),
            reason=refusal.reason if refusal else "failed",
            detail=refusal.detail if refusal else "",
            reference=reference,
        )
        provider_down = refusal is not None and refusal.reason == "provider_error"
        return failure_page(
            request,
            status=502 if provider_down else 400,
            title="Sign-in failed",
            message=(
                "The identity provider could not be reached or gave an unusable answer."
                if provider_down
                else "The answer from the identity provider could not be verified."
            )
            + " Try again; if it keeps failing, contact IT support with the reference.",
            reference=reference,
        )


class SsoLogoutView(OIDCLogoutView):
    """The admin's "Log out": ends the portal session, then the provider's (id_token_hint)."""

    get_settings = staticmethod(oidc_setting)

    def post(self, request):
        user = request.user
        url = self.redirect_url
        if request.session.get(_ID_TOKEN):
            url = import_string(self.get_settings("OIDC_OP_LOGOUT_URL_METHOD"))(request)
        if user.is_authenticated:
            audit_event(
                logging.INFO, "sign-out", request, user=user.get_username(), subject=_subject(user)
            )
        auth.logout(request)
        return HttpResponseRedirect(url)


def signed_out(request):
    return _page(request, "sso/signed_out.html", 200, title="Signed out")


class BreakGlassLoginView(LoginView):
    """The admin's password form, for a local superuser when SSO cannot be used."""

    template_name = "sso/break_glass_login.html"
    authentication_form = AdminAuthenticationForm

    def dispatch(self, request, *args, **kwargs):
        if not settings.BREAK_GLASS_LOGIN:
            raise Http404("Break-glass sign-in is off.")
        request.current_app = admin.site.name
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(admin.site.each_context(self.request))
        context.update(
            title="Break-glass sign-in",
            subtitle=None,
            app_path=self.request.get_full_path(),
            sso_login_url=reverse("admin:login"),
        )
        return context

    def get_default_redirect_url(self):
        return reverse("admin:index")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_event(
            logging.WARNING, "break-glass-sign-in", self.request, user=form.get_user().username
        )
        return response

    def form_invalid(self, form):
        # A locked-out try is logged, and answered, by careportal.sso.throttle.locked_out.
        if not getattr(self.request, "axes_locked_out", False):
            attempted = str(form.data.get("username", ""))[:150]
            audit_event(logging.WARNING, "break-glass-refused", self.request, user=attempted)
        return super().form_invalid(form)
