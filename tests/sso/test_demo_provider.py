"""The demo provider and the documented Keycloak realm match what the portal expects."""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import CommandError, call_command
from django.urls import reverse

from careportal.sso import demo_provider
from careportal.sso.management.commands import oidc_provider as command

ROOT = Path(__file__).resolve().parents[2]
AUTHORIZE = {
    "response_type": "code",
    "client_id": "care-portal",
    "redirect_uri": "http://127.0.0.1:9/callback",
    "scope": "openid",
    "state": "s",
    "nonce": "n",
}


def _location(response) -> dict:
    return parse_qs(urlsplit(response.headers["Location"]).query)


def test_the_demo_users_carry_keycloak_shaped_roles(oidc_provider):
    roles = {sub: c["realm_access"]["roles"] for sub, c in demo_provider.DEMO_USERS.items()}
    assert roles == {
        "agent": ["care-agent"],
        "supervisor": ["care-supervisor"],
        "nobody": ["offline_access"],
    }
    page = requests.get(f"{oidc_provider.url}/oauth2/authorize", params=AUTHORIZE, timeout=5)
    for sub in ("agent", "supervisor", "nobody"):
        assert f'name="sub" value="{sub}"' in page.text


def test_the_provider_session(oidc_provider):
    browser = requests.Session()
    url = f"{oidc_provider.url}/oauth2/authorize"
    silent = {**AUTHORIZE, "prompt": "none"}

    # No session: a silent request is answered login_required.
    answer = browser.get(url, params=silent, allow_redirects=False, timeout=5)
    assert _location(answer)["error"] == ["login_required"]
    # Denying creates none either.
    browser.post(url, params=AUTHORIZE, data={"action": "deny"}, allow_redirects=False)
    assert "demo_op_session" not in browser.cookies

    # Signed in: silent and plain requests are approved for the same user ...
    answer = browser.post(url, params=AUTHORIZE, data={"sub": "agent"}, allow_redirects=False)
    assert "code" in _location(answer)
    for params in (silent, AUTHORIZE):
        answer = browser.get(url, params=params, allow_redirects=False, timeout=5)
        assert "code" in _location(answer), params
    # ... except when the client asks for a fresh login.
    answer = browser.get(url, params={**AUTHORIZE, "prompt": "login"}, timeout=5)
    assert answer.status_code == 200 and "Authorize Client" in answer.text

    # Ending the session forgets it.
    browser.post(f"{oidc_provider.url}/oauth2/end_session/confirm", data={}, timeout=5)
    answer = browser.get(url, params=silent, allow_redirects=False, timeout=5)
    assert _location(answer)["error"] == ["login_required"]


def test_the_command_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        call_command("oidc_provider")


def test_the_command_serves_on_the_issuer_port(settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9555"
    assert command._issuer_port() == 9555
    settings.OIDC_ISSUER = "https://sso.example/realms/careportal"
    assert command._issuer_port() is None


def test_the_demo_provider_listens_on_loopback_only():
    with pytest.raises(SystemExit):
        demo_provider.serve(host="0.0.0.0", port=0)


def test_the_keycloak_realm_export_matches_the_portal(settings):
    realm = json.loads((ROOT / "docs" / "keycloak-realm.json").read_text())
    assert realm["realm"] == "careportal"
    assert {r["name"] for r in realm["roles"]["realm"]} == {"care-agent", "care-supervisor"}
    [client] = realm["clients"]
    assert client["clientId"] == "care-portal"
    assert client["publicClient"] is False
    assert client["standardFlowEnabled"] is True
    assert not client["implicitFlowEnabled"] and not client["directAccessGrantsEnabled"]
    assert not client["serviceAccountsEnabled"]
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    host = "https://careportal.example"
    assert client["redirectUris"] == [host + reverse("oidc_authentication_callback")]
    assert client["attributes"]["post.logout.redirect.uris"] == host + reverse("sso_signed_out")
    [mapper] = client["protocolMappers"]
    assert mapper["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
    assert mapper["config"]["claim.name"] == "realm_access.roles" == settings.OIDC_ROLES_CLAIM
    assert mapper["config"]["id.token.claim"] == mapper["config"]["userinfo.token.claim"] == "true"
    assert realm["scopeMappings"] == [
        {"client": "care-portal", "roles": ["care-agent", "care-supervisor"]}
    ]
