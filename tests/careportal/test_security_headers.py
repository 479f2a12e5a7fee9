"""Content-Security-Policy and Permissions-Policy are on every response."""

import pytest
from django.urls import reverse


def _policy(response) -> dict[str, list[str]]:
    directives = [d.strip().split() for d in response["Content-Security-Policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


@pytest.fixture
def pages(world, agent, client):
    client.force_login(agent)
    return client


@pytest.mark.parametrize(
    "url, status",
    [
        ("/admin/", 200),
        ("/admin/entitlements/entitlement/", 200),
        ("/admin/entitlements/changeattempt/", 403),
        ("/no-such-page/", 404),
        ("/break-glass/login/", 200),
        ("/sso/signed-out/", 200),
        ("/opf/notifications", 405),
    ],
)
def test_every_response_carries_both_policies(pages, url, status):
    response = pages.get(url)

    assert response.status_code == status
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions


def test_scripts_need_the_nonce_of_their_own_response(pages):
    first = _policy(pages.get(reverse("admin:index")))
    assert first["script-src"][0] == "'self'"
    assert all(not s.startswith("'nonce-") for s in first["script-src"])  # none used: none sent


def test_forms_may_lead_to_the_identity_provider_and_nowhere_else(pages, settings):
    settings.OIDC_ISSUER = "https://sso.example.com/realms/careportal"

    policy = _policy(pages.get("/admin/"))

    assert policy["form-action"] == ["'self'", "https://sso.example.com"]


@pytest.mark.django_db(transaction=True)
def test_the_error_page_is_styled_by_static_stylesheets_only(client, failing_view):
    # Issue 11: the 500 page extends the admin's base (static CSS), no inline style at all.
    client.raise_request_exception = False
    response = client.get(failing_view)

    assert response.status_code == 500
    page = response.content.decode()
    assert "/static/entitlements/care.css" in page and 'id="error-id"' in page
    assert "<style" not in page and "style=" not in page
