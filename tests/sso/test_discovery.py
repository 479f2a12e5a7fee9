"""Endpoints come from the issuer's discovery document, fetched lazily; settings override."""

import socket

import pytest

from careportal.sso import discovery

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_endpoints_come_from_discovery_once(oidc_provider):
    assert discovery.oidc_setting("OIDC_OP_TOKEN_ENDPOINT") == f"{oidc_provider.url}/oauth2/token"
    assert discovery.oidc_setting("OIDC_OP_JWKS_ENDPOINT") == f"{oidc_provider.url}/jwks"
    assert (
        discovery.oidc_setting("OIDC_OP_LOGOUT_ENDPOINT")
        == f"{oidc_provider.url}/oauth2/end_session"
    )
    assert discovery.provider_metadata() is discovery.provider_metadata()  # cached


def test_explicit_settings_win(settings, client):
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "http://127.0.0.1:1/custom/authorize"

    response = client.get("/oidc/authenticate/?next=/admin/")

    assert response["Location"].startswith("http://127.0.0.1:1/custom/authorize?")


def test_a_setting_change_forgets_the_document(settings, oidc_provider):
    discovery.provider_metadata()
    settings.OIDC_ISSUER = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(discovery.ProviderUnavailable):
        discovery.provider_metadata()


def test_a_document_for_another_issuer_is_refused(settings, relay):
    # The relay forwards to the provider, whose document names the provider as issuer.
    settings.OIDC_ISSUER = relay(host=None).url
    with pytest.raises(discovery.ProviderUnavailable, match="names issuer"):
        discovery.provider_metadata()


def test_the_portal_works_while_the_provider_is_down(settings, client, agent, sso_log):
    settings.OIDC_ISSUER = f"http://127.0.0.1:{_closed_port()}"

    assert client.get("/sso/signed-out/").status_code == 200
    assert client.get("/break-glass/login/").status_code == 200
    response = client.get("/oidc/authenticate/?next=/admin/")
    assert response.status_code == 503
    assert "cannot be reached" in response.content.decode()
    assert any("sso unavailable" in r.getMessage() for r in sso_log)
    # Sessions already open go on (no start-up or per-request fetch).
    client.force_login(agent)
    assert client.get("/admin/").status_code == 200
