"""The silent re-check at the provider (SessionRefresh): roles follow the provider."""

import time

import pytest
from django.contrib.auth import get_user_model

from entitlements.roles import CARE_AGENT, CARE_SUPERVISOR

from .fixtures import keycloak_claims

pytestmark = pytest.mark.django_db
User = get_user_model()


def _user(client):
    return User.objects.get(pk=client.session["_auth_user_id"])


def test_no_recheck_while_the_id_token_is_fresh(sso_browser, op_user):
    sub = op_user("fresh", ["care-agent"])
    sso_browser.sign_in(sub)
    expiry = sso_browser.client.session["oidc_id_token_expiration"]
    assert 14 * 60 < expiry - time.time() <= 15 * 60  # OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS

    response = sso_browser.client.get("/admin/")

    assert response.status_code == 200


def test_the_recheck_goes_through_the_provider_silently(sso_browser, op_user, sso_log):
    sub = op_user("quiet", ["care-agent"])
    sso_browser.sign_in(sub)
    session_key = sso_browser.client.session.session_key
    sso_browser.expire_id_token()
    sso_browser.history.clear()

    page = sso_browser.go("/admin/")

    assert (page.path, page.status) == ("/admin/", 200)
    to_provider = sso_browser.urls()[1]
    assert to_provider.startswith(sso_browser.provider.url + "/oauth2/authorize?")
    assert "prompt=none" in to_provider and "code_challenge_method=S256" in to_provider
    assert sso_browser.client.session.session_key == session_key  # same session, no re-login
    assert sso_browser.client.session["oidc_id_token_expiration"] > time.time()
    assert any("sso refresh user=quiet" in r.getMessage() for r in sso_log)


def test_a_role_change_takes_effect_at_the_next_recheck(sso_browser, op_user):
    sub = op_user("promoted", ["care-agent"])
    sso_browser.sign_in(sub)
    sso_browser.provider.set_user(sub, keycloak_claims("promoted", ["care-supervisor"]))

    # Nothing changes before the re-check ...
    assert sso_browser.client.get("/admin/").status_code == 200
    assert list(_user(sso_browser.client).groups.values_list("name", flat=True)) == [CARE_AGENT]

    # ... and at it, the groups are what the provider says now.
    sso_browser.expire_id_token()
    page = sso_browser.go("/admin/")

    assert page.status == 200
    user = _user(sso_browser.client)
    assert list(user.groups.values_list("name", flat=True)) == [CARE_SUPERVISOR]


def test_role_removal_takes_effect_at_the_next_recheck(sso_browser, op_user, sso_log):
    sub = op_user("removed", ["care-agent"])
    sso_browser.sign_in(sub)
    user = _user(sso_browser.client)
    sso_browser.provider.set_user(sub, keycloak_claims("removed", ["offline_access"]))
    sso_browser.expire_id_token()

    page = sso_browser.go("/admin/")

    assert (page.path, page.status) == ("/oidc/callback/", 403)
    assert "No access to the Care Portal" in page.text
    user.refresh_from_db()
    assert not user.is_staff and not user.groups.exists()
    assert "_auth_user_id" not in sso_browser.client.session
    # The admin is closed: the next visit goes to sign in again, and is refused again.
    assert sso_browser.client.get("/admin/").status_code == 302
    assert sso_browser.go("/admin/").status == 403
    refused = [r.getMessage() for r in sso_log if "sso refused" in r.getMessage()]
    assert "user=removed" in refused[0] and "reason=no_role" in refused[0]
    assert "refresh=yes" in refused[0]


def test_an_ended_provider_session_signs_out_and_asks_again(sso_browser, op_user, sso_log):
    sub = op_user("ended", ["care-agent"])
    sso_browser.sign_in(sub)
    sso_browser.op.cookies.clear()  # the provider session is gone (expired, ended elsewhere)
    sso_browser.expire_id_token()

    page = sso_browser.go("/admin/?from=bookmark")

    # prompt=none answered login_required: signed out here, and on to the provider's login.
    assert sso_browser.at_provider_login(page)
    assert "_auth_user_id" not in sso_browser.client.session
    assert any("sso session-ended user=ended" in r.getMessage() for r in sso_log)
    page = sso_browser.choose(page, sub)
    assert (page.url, page.status) == ("http://testserver/admin/?from=bookmark", 200)


def test_form_posts_pass_while_the_id_token_is_expired(sso_browser, op_user):
    """SessionRefresh only re-checks on GET: a POST is never bounced to the provider (its body
    would be lost), and a re-check on the way does not invalidate the form's CSRF token."""
    from django.test import Client

    sso_browser.client = Client(enforce_csrf_checks=True)
    sub = op_user("poster", ["care-agent"])
    sso_browser.sign_in(sub)
    csrf_before = sso_browser.client.cookies["csrftoken"].value
    sso_browser.expire_id_token()

    response = sso_browser.client.post("/admin/", {"csrfmiddlewaretoken": csrf_before})
    assert response.status_code == 200  # served, not redirected to the provider

    sso_browser.go("/admin/")  # the re-check happens on this GET
    assert sso_browser.client.session["oidc_id_token_expiration"] > time.time()
    response = sso_browser.client.post("/admin/", {"csrfmiddlewaretoken": csrf_before})
    assert response.status_code == 200  # the form opened before the re-check still posts


def test_break_glass_sessions_are_never_rechecked(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="root-password-123")
    response = client.post(
        "/break-glass/login/", {"username": "root", "password": "root-password-123"}
    )
    assert response.status_code == 302
    assert "oidc_id_token_expiration" not in client.session
    assert client.get("/admin/").status_code == 200
    assert client.session["_auth_user_id"] == str(admin.pk)
