"""The ID token is checked by the portal itself: signature (RS256, the provider's JWKS),
issuer, audience, authorized party, expiry and nonce. Wrong tokens never sign anyone in."""

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation

from careportal.sso.backends import SsoBackend
from careportal.sso.models import SsoIdentity

pytestmark = pytest.mark.django_db
User = get_user_model()


def provider_id_token(provider, sub: str, *, client_id: str, nonce: str) -> str:
    """A genuine ID token from the provider, through its authorization code flow."""
    redirect_uri = "http://127.0.0.1:9/callback"
    answer = requests.post(
        f"{provider.url}/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": "s",
            "nonce": nonce,
        },
        data={"sub": sub},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        f"{provider.url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": "whatever",
        },
        timeout=10,
    ).json()
    return tokens["id_token"]


@pytest.fixture(scope="module")
def rogue_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _claims(provider, **changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": provider.url,
        "aud": "care-portal",
        "sub": "someone",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


# --- through the whole flow ----------------------------------------------------------------


def test_a_token_from_another_issuer_is_refused(settings, sso_browser, op_user, relay, sso_log):
    # The token endpoint answers with tokens whose iss is another host's.
    settings.OIDC_OP_TOKEN_ENDPOINT = relay(host="sso.other.example").url + "/oauth2/token"
    sub = op_user("iss", ["care-supervisor"])

    page = sso_browser.sign_in(sub)

    assert (page.path, page.status) == ("/oidc/callback/", 400)
    assert "Sign-in failed" in page.text
    assert "_auth_user_id" not in sso_browser.client.session
    assert not SsoIdentity.objects.filter(subject=sub).exists()
    [line] = [r.getMessage() for r in sso_log if "sso refused" in r.getMessage()]
    assert "reason=invalid_token" in line and "wrong issuer" in line


def test_a_token_not_signed_by_the_providers_key_is_refused(
    settings, sso_browser, op_user, other_provider, sso_log
):
    # The portal checks signatures against another provider's keys: no key matches.
    settings.OIDC_OP_JWKS_ENDPOINT = other_provider.url + "/jwks"
    sub = op_user("sig", ["care-supervisor"])

    page = sso_browser.sign_in(sub)

    assert page.status == 400
    assert "_auth_user_id" not in sso_browser.client.session
    assert not SsoIdentity.objects.filter(subject=sub).exists()
    [line] = [r.getMessage() for r in sso_log if "sso refused" in r.getMessage()]
    assert "reason=invalid_token" in line and "JWKS" in line


# --- the backend's verification, fed real and crafted tokens -------------------------------


def test_a_genuine_token_passes(oidc_provider, op_user):
    sub = op_user("genuine", ["care-agent"])
    token = provider_id_token(oidc_provider, sub, client_id="care-portal", nonce="n-1")

    payload = SsoBackend().verify_token(token, nonce="n-1")

    assert payload["sub"] == sub and payload["iss"] == oidc_provider.url


def test_a_genuine_token_for_another_client_is_refused(oidc_provider, op_user):
    sub = op_user("other-client", ["care-agent"])
    token = provider_id_token(oidc_provider, sub, client_id="another-app", nonce="n-1")

    with pytest.raises(SuspiciousOperation, match="wrong audience"):
        SsoBackend().verify_token(token, nonce="n-1")


def test_a_genuine_token_with_another_nonce_is_refused(oidc_provider, op_user):
    sub = op_user("replayed", ["care-agent"])
    token = provider_id_token(oidc_provider, sub, client_id="care-portal", nonce="n-1")

    with pytest.raises(SuspiciousOperation, match="nonce"):
        SsoBackend().verify_token(token, nonce="n-2")


def test_a_forged_signature_under_the_providers_kid_is_refused(oidc_provider, rogue_key):
    kid = requests.get(f"{oidc_provider.url}/jwks", timeout=5).json()["keys"][0]["kid"]
    forged = jwt.encode(_claims(oidc_provider), rogue_key, algorithm="RS256", headers={"kid": kid})

    with pytest.raises(SuspiciousOperation, match="bad signature"):
        SsoBackend().verify_token(forged, nonce="n-1")


def test_a_forged_token_without_kid_is_refused(oidc_provider, rogue_key):
    # No kid: the provider's only signing key is used (oidc-provider-mock 0.3 with Authlib 1.7+
    # signs without kid), and the signature does not match it.
    forged = jwt.encode(_claims(oidc_provider), rogue_key, algorithm="RS256")

    with pytest.raises(SuspiciousOperation, match="bad signature"):
        SsoBackend().verify_token(forged, nonce="n-1")


@pytest.mark.parametrize("algorithm", ["none", "HS256"])
def test_unsigned_and_shared_secret_tokens_are_refused(settings, oidc_provider, algorithm):
    # HS256 with the client secret as key: what mozilla-django-oidc would accept by default.
    settings.OIDC_RP_CLIENT_SECRET = "a-client-secret-long-enough-for-hmac-sha256"
    key = settings.OIDC_RP_CLIENT_SECRET if algorithm == "HS256" else None
    token = jwt.encode(_claims(oidc_provider), key, algorithm=algorithm)

    with pytest.raises(SuspiciousOperation, match="expected 'RS256'"):
        SsoBackend().verify_token(token, nonce="n-1")


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({}, None),
        ({"aud": ["care-portal"]}, None),
        ({"aud": ["care-portal", "account"], "azp": "care-portal"}, None),
        ({"iss": "https://sso.other.example/realms/careportal"}, "wrong issuer"),
        ({"iss": None}, "missing claim.*iss"),
        ({"aud": "another-app"}, "wrong audience"),
        ({"aud": None}, "missing claim.*aud"),
        ({"azp": "another-app"}, "authorized party"),
        ({"aud": ["care-portal", "another-app"]}, "several audiences and no azp"),
        ({"exp": int(time.time()) - 600}, "expired"),
        ({"exp": None}, "missing claim.*exp"),
        ({"iat": None}, "missing claim.*iat"),
        ({"nonce": "someone-elses"}, "nonce mismatch"),
    ],
)
def test_each_claim_is_checked(settings, oidc_provider, rogue_key, changes, error):
    # A configured signing key (OIDC_RP_IDP_SIGN_KEY) lets us sign tokens the portal trusts,
    # so each check is seen on its own.
    settings.OIDC_RP_IDP_SIGN_KEY = _pem(rogue_key)
    token = jwt.encode(_claims(oidc_provider, **changes), rogue_key, algorithm="RS256")

    if error is None:
        assert SsoBackend().verify_token(token, nonce="n-1")["sub"] == "someone"
    else:
        with pytest.raises(SuspiciousOperation, match=error):
            SsoBackend().verify_token(token, nonce="n-1")


def test_userinfo_about_another_subject_is_refused(settings, sso_browser, op_user, relay, sso_log):
    """The userinfo answer must be about the ID token's subject (OIDC Core 5.3.2)."""
    victim = op_user("victim", ["care-supervisor"])
    attacker = op_user("attacker", ["care-agent"])
    # Sign in as the attacker, but let userinfo answer with the victim's access token: the
    # relay swaps the bearer token for one of the victim's.
    victim_access = _access_token(sso_browser.provider, victim)
    swap = relay()
    settings.OIDC_OP_USER_ENDPOINT = swap.url + "/userinfo"
    swap.force_bearer = victim_access

    page = sso_browser.sign_in(attacker)

    assert page.status == 400
    assert "_auth_user_id" not in sso_browser.client.session
    assert not SsoIdentity.objects.filter(subject__in=[victim, attacker]).exists()
    [line] = [r.getMessage() for r in sso_log if "sso refused" in r.getMessage()]
    assert "userinfo is not about the ID token's subject" in line


def _access_token(provider, sub: str) -> str:
    redirect_uri = "http://127.0.0.1:9/callback"
    answer = requests.post(
        f"{provider.url}/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": "care-portal",
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": "s",
            "nonce": "x",
        },
        data={"sub": sub},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    return requests.post(
        f"{provider.url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": "care-portal",
            "client_secret": "x",
        },
        timeout=10,
    ).json()["access_token"]
