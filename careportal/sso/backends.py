"""Authentication backends: SSO (how staff sign in) and break-glass (a local superuser).

`SsoBackend` is mozilla-django-oidc's backend made strict: the ID token's RS256 signature is
checked against the provider's JWKS, and its issuer, audience, authorized party, expiry and
nonce are checked too (mozilla-django-oidc checks none of issuer, audience or expiry). Users
are matched on the subject through `SsoIdentity`, never on email; their groups and staff status
follow their roles at the provider on every sign-in and every silent re-check.

When it refuses, the backend leaves a `Refusal` on the request for the callback view, which
logs it and shows the page.
"""

import re
from dataclasses import dataclass

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.utils.encoding import smart_str
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from . import discovery
from .discovery import lazy_setting, oidc_setting
from .models import SsoIdentity
from .roles import apply_groups, groups_for_claims, roles_from_claims

# Seconds of clock difference tolerated between the provider and the portal.
CLOCK_SKEW = 60
_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in was refused; `detail` is for the log, never shown, never a token."""

    reason: str  # no_role | account_disabled | invalid_token | provider_error
    detail: str = ""
    subject: str = ""
    username: str = ""


def refuse(request, reason: str, detail: str = "", *, subject: str = "", username: str = ""):
    if request is not None:
        request.sso_refusal = Refusal(reason, detail, smart_str(subject), smart_str(username))


class SsoBackend(OIDCAuthenticationBackend):
    # Read when used, not when built: Django builds a backend for every request that loads the
    # session's user, and the provider may be down at that moment.
    OIDC_OP_TOKEN_ENDPOINT = lazy_setting("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = lazy_setting("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = lazy_setting("OIDC_OP_JWKS_ENDPOINT")
    OIDC_RP_CLIENT_ID = lazy_setting("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = lazy_setting("OIDC_RP_CLIENT_SECRET")
    OIDC_RP_SIGN_ALGO = lazy_setting("OIDC_RP_SIGN_ALGO", "RS256")
    OIDC_RP_IDP_SIGN_KEY = lazy_setting("OIDC_RP_IDP_SIGN_KEY", None)

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        self.UserModel = get_user_model()

    # --- the code flow ------------------------------------------------------------------------

    def authenticate(self, request, **kwargs):
        # Only the OIDC callback passes a nonce; usernames and passwords are not ours.
        if request is None or "nonce" not in kwargs:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except SuspiciousOperation as exc:
            refuse(request, "invalid_token", str(exc))
        except discovery.ProviderUnavailable as exc:
            refuse(request, "provider_error", str(exc))
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            url = exc.response.url.split("?", 1)[0] if exc.response is not None else "?"
            refuse(request, "provider_error", f"{url} answered HTTP {status}")
        except requests.RequestException as exc:
            refuse(request, "provider_error", f"provider unreachable: {exc.__class__.__name__}")
        return None

    def verify_token(self, token, **kwargs):
        """Check the signature, issuer, audience, authorized party, expiry and nonce."""
        if not token:
            raise SuspiciousOperation("the provider sent no ID token")
        algorithm = self.OIDC_RP_SIGN_ALGO
        client_id = self.OIDC_RP_CLIENT_ID
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation("the token is not a JWS") from exc
        if header.get("alg") != algorithm:
            raise SuspiciousOperation(
                f"token signed with {header.get('alg')!r}, expected {algorithm!r}"
            )
        key = self.OIDC_RP_IDP_SIGN_KEY or self.retrieve_matching_jwk(token)
        id_token = "nonce" in kwargs  # else a signed userinfo answer
        expected_issuer = discovery.issuer()
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=client_id,
                issuer=[expected_issuer, expected_issuer + "/"],
                leeway=CLOCK_SKEW,
                options={
                    "require": ["iss", "aud", "sub", "exp", "iat"] if id_token else ["sub"],
                    "verify_iss": True,
                    "verify_aud": True,
                },
            )
        except jwt.InvalidTokenError as exc:
            raise SuspiciousOperation(f"token refused: {_why(exc)} ({exc})") from exc

        audiences = [payload["aud"]] if isinstance(payload.get("aud"), str) else payload["aud"]
        azp = payload.get("azp")
        if azp is not None and azp != client_id:
            raise SuspiciousOperation(f"token refused: authorized party {azp!r}")
        if len(audiences) > 1 and azp is None:
            raise SuspiciousOperation("token refused: several audiences and no azp")
        if (
            id_token
            and self.get_settings("OIDC_USE_NONCE", True)
            and kwargs.get("nonce") != payload.get("nonce")
        ):
            raise SuspiciousOperation("token refused: nonce mismatch")
        return payload

    def retrieve_matching_jwk(self, token):
        """The provider's signing key for this token (by kid; the only key when there is none)."""
        response = requests.get(
            self.OIDC_OP_JWKS_ENDPOINT,
            verify=self.get_settings("OIDC_VERIFY_SSL", True),
            timeout=self.get_settings("OIDC_TIMEOUT", None),
        )
        response.raise_for_status()
        try:
            keys = response.json().get("keys", [])
        except (ValueError, AttributeError) as exc:
            raise SuspiciousOperation("the provider's JWKS is not JSON") from exc
        header = jwt.get_unverified_header(token)
        algorithm, kid = header.get("alg"), header.get("kid")
        key_type = {"RS": "RSA", "PS": "RSA", "ES": "EC"}.get(str(algorithm)[:2])
        candidates = [
            key
            for key in keys
            if isinstance(key, dict)
            and key.get("use", "sig") == "sig"
            and key.get("alg", algorithm) == algorithm
            and key.get("kty") == key_type
        ]
        if kid is not None:
            candidates = [key for key in candidates if key.get("kid") == kid]
        elif len(candidates) > 1:
            raise SuspiciousOperation("the token has no kid and the JWKS has several keys")
        if not candidates:
            raise SuspiciousOperation("no key in the provider's JWKS matches the token")
        try:
            return jwt.PyJWK(candidates[0], algorithm=algorithm)
        except jwt.PyJWKError as exc:
            raise SuspiciousOperation("the provider's signing key is unusable") from exc

    def verify_claims(self, claims):
        return isinstance(claims.get("sub"), str) and bool(claims["sub"])

    def get_or_create_user(self, access_token, id_token, payload):
        request = self.request
        try:
            userinfo = self.get_userinfo(access_token, id_token, payload)
            if not isinstance(userinfo, dict) or userinfo.get("sub") != payload.get("sub"):
                # OpenID Connect Core 5.3.2: the answer must be about the same subject.
                raise SuspiciousOperation("userinfo is not about the ID token's subject")
            claims = {**payload, **userinfo}
            if not self.verify_claims(claims):
                raise SuspiciousOperation("no subject in the claims")
        except SuspiciousOperation as exc:
            refuse(request, "invalid_token", str(exc), subject=payload.get("sub", ""))
            return None

        subject = claims["sub"]
        username = smart_str(claims.get("preferred_username", ""))
        groups = groups_for_claims(claims)
        identity = SsoIdentity.objects.select_related("user").filter(subject=subject).first()
        if not groups:
            if identity is not None:
                self.revoke(identity.user)
            roles = ",".join(sorted(roles_from_claims(claims))) or "-"
            refuse(
                request,
                "no_role",
                f"roles at {settings.OIDC_ROLES_CLAIM}: {roles}",
                subject=subject,
                username=identity.user.get_username() if identity else username,
            )
            return None

        user = self.update_user(identity.user, claims) if identity else self.create_user(claims)
        if not user.is_active:
            refuse(request, "account_disabled", "", subject=subject, username=user.get_username())
            return None
        apply_groups(user, groups)
        return user

    # --- accounts -----------------------------------------------------------------------------

    def get_user(self, user_id):
        # Django's check (an inactive account is signed out), not mozilla-django-oidc's. The SSO
        # identity comes with the user: a change record copies its subject (a query fewer).
        try:
            user = self.UserModel._default_manager.select_related("sso_identity").get(pk=user_id)
        except self.UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def create_user(self, claims):
        subject = claims["sub"]
        for attempt in range(3):
            try:
                with transaction.atomic():
                    user = self.UserModel(username=self.unique_username(claims))
                    self._copy_profile(user, claims)
                    user.set_unusable_password()
                    user.save()
                    SsoIdentity.objects.create(
                        user=user, subject=subject, issuer=discovery.issuer()
                    )
                return user
            except IntegrityError:
                # The same person signing in twice at once: the other request made the account.
                identity = SsoIdentity.objects.select_related("user").filter(subject=subject)
                if identity.exists():
                    return self.update_user(identity.get().user, claims)
                if attempt == 2:
                    raise
                # Someone else took the username meanwhile: pick another one.
        raise AssertionError("unreachable")

    def update_user(self, user, claims):
        self._copy_profile(user, claims)
        if user.has_usable_password():
            user.set_unusable_password()
        user.save()
        return user

    def revoke(self, user) -> None:
        """The provider no longer gives a role: no groups, no staff access."""
        user.groups.clear()
        user.is_staff = False
        user.is_superuser = False
        user.save(update_fields=["is_staff", "is_superuser"])

    def unique_username(self, claims) -> str:
        """`preferred_username`, made safe and unique (`name-2`, ...); it never matches."""
        wanted = smart_str(claims.get("preferred_username") or f"sso-{claims['sub']}")
        base = _USERNAME_UNSAFE.sub("_", wanted).strip("_")[:140] or "sso-user"
        candidate, n = base, 1
        while self.UserModel.objects.filter(username__iexact=candidate).exists():
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    @staticmethod
    def _copy_profile(user, claims) -> None:
        user.first_name = smart_str(claims.get("given_name") or "")[:150]
        user.last_name = smart_str(claims.get("family_name") or "")[:150]
        user.email = smart_str(claims.get("email") or "")[:254]  # kept, never used to match


def _why(exc: jwt.InvalidTokenError) -> str:
    for kind, why in (
        (jwt.InvalidSignatureError, "bad signature"),
        (jwt.InvalidIssuerError, "wrong issuer"),
        (jwt.InvalidAudienceError, "wrong audience"),
        (jwt.ExpiredSignatureError, "expired"),
        (jwt.ImmatureSignatureError, "not yet valid"),
        (jwt.MissingRequiredClaimError, "missing claim"),
    ):
        if isinstance(exc, kind):
            return why
    return "invalid"


class BreakGlassBackend(ModelBackend):
    """The password form at the break-glass URL: a local superuser, only when it is enabled."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.BREAK_GLASS_LOGIN or username is None or password is None:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or not user.is_superuser:
            return None
        if SsoIdentity.objects.filter(user=user).exists():
            return None
        return user
