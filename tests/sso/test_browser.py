"""The acceptance journeys in a real browser (system Chromium through Playwright), against the
live portal and the real demo provider: staff sign in the way they will in production."""

import pytest

from .fixtures import sign_in_with_sso

pytestmark = [
    pytest.mark.browser,
    # The live server needs committed data (the roles come back after each flush).
    pytest.mark.django_db(transaction=True),
]

ENTITLEMENTS = "/admin/entitlements/entitlement/"
AUDIT_LOG = "/admin/entitlements/changeattempt/"


def at_provider_login(page, provider) -> bool:
    return page.url.startswith(provider.url + "/oauth2/authorize")


def sign_in(page, live_server, provider, sub: str):
    sign_in_with_sso(page, live_server.url, sub)


def test_an_anonymous_visit_lands_on_the_providers_login(page, live_server, oidc_provider):
    page.goto(live_server.url + "/admin/")

    assert at_provider_login(page, oidc_provider)
    assert page.get_by_role("heading", name="Authorize Client").is_visible()
    assert page.locator('button[name="sub"][value="agent"]').is_visible()
    page.snap("provider-login")


def test_an_agent_reaches_the_entitlements_and_not_the_audit_log(page, live_server, oidc_provider):
    sign_in(page, live_server, oidc_provider, "agent")
    assert page.url == live_server.url + "/admin/"
    page.snap("agent-signed-in")

    response = page.goto(live_server.url + ENTITLEMENTS)
    assert response.status == 200
    page.snap("agent-entitlements")

    response = page.goto(live_server.url + AUDIT_LOG)
    assert response.status == 403
    page.snap("agent-audit-log-forbidden")


def test_a_supervisor_reaches_the_audit_log(page, live_server, oidc_provider):
    sign_in(page, live_server, oidc_provider, "supervisor")

    response = page.goto(live_server.url + AUDIT_LOG)

    assert response.status == 200
    page.snap("supervisor-audit-log")


def test_a_user_without_roles_sees_the_refusal_page(page, live_server, oidc_provider):
    sign_in(page, live_server, oidc_provider, "nobody")

    assert page.get_by_role("heading", name="No access to the Care Portal").is_visible()
    assert page.get_by_text("care-agent").first.is_visible()
    page.snap("refused")

    # Nothing behind it: the admin still sends them to sign in.
    page.goto(live_server.url + ENTITLEMENTS)
    assert page.get_by_role("heading", name="No access to the Care Portal").is_visible()


def test_log_out_ends_both_sessions(page, live_server, oidc_provider):
    sign_in(page, live_server, oidc_provider, "agent")
    # While the provider session lives, a new portal visit signs in without asking ...
    page.context.clear_cookies(domain="localhost")
    page.goto(live_server.url + "/admin/")
    assert page.url == live_server.url + "/admin/"

    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    assert page.url.startswith(oidc_provider.url + "/oauth2/end_session")
    page.snap("provider-end-session")
    page.get_by_role("button", name="End session").click()
    page.wait_for_load_state()
    assert page.url == live_server.url + "/sso/signed-out/"
    assert page.get_by_text("You are signed out of the Care Portal.").is_visible()
    page.snap("signed-out")

    # ... and after Log out the next visit asks the provider again.
    page.goto(live_server.url + "/admin/")
    assert at_provider_login(page, oidc_provider)
    page.snap("asked-again")
