"""Log out in the admin ends the portal session and the provider's (end_session)."""

from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.django_db


def test_log_out_ends_both_sessions(sso_browser, op_user, sso_log):
    sub = op_user("leaver", ["care-agent"])
    sso_browser.sign_in(sub)
    id_token = sso_browser.client.session["oidc_id_token"]

    # The admin's "Log out" button posts to admin:logout.
    response = sso_browser.client.post("/admin/logout/")

    assert response.status_code == 302
    end_session = urlsplit(response["Location"])
    assert response["Location"].startswith(sso_browser.provider.url + "/oauth2/end_session?")
    params = parse_qs(end_session.query)
    assert params["id_token_hint"] == [id_token]
    assert params["post_logout_redirect_uri"] == ["http://testserver/sso/signed-out/"]
    assert params["client_id"] == ["care-portal"]
    assert "_auth_user_id" not in sso_browser.client.session
    assert "oidc_id_token" not in sso_browser.client.session

    # The provider asks to confirm, ends its session and sends the browser back.
    page = sso_browser.go(response["Location"])
    assert page.status == 200 and "End Session" in page.text
    page = sso_browser.go(
        f"{sso_browser.provider.url}/oauth2/end_session/confirm",
        method="post",
        data={"redirect_uri": params["post_logout_redirect_uri"][0]},
    )
    assert (page.path, page.status) == ("/sso/signed-out/", 200)
    assert "You are signed out" in page.text

    # The next visit asks the provider again.
    page = sso_browser.go("/admin/")
    assert sso_browser.at_provider_login(page)
    [line] = [r.getMessage() for r in sso_log if "sso sign-out" in r.getMessage()]
    assert "user=leaver" in line and f"sub={sub}" in line and "ip=127.0.0.1" in line


def test_without_ending_the_provider_session_the_next_visit_signs_in_silently(sso_browser, op_user):
    """The control for the test above: the provider session is real."""
    sub = op_user("stayer", ["care-agent"])
    sso_browser.sign_in(sub)
    sso_browser.client.logout()  # the portal session only

    page = sso_browser.go("/admin/")

    assert (page.path, page.status) == ("/admin/", 200)


def test_log_out_is_a_post(sso_browser, op_user):
    sub = op_user("getter", ["care-agent"])
    sso_browser.sign_in(sub)
    assert sso_browser.client.get("/admin/logout/").status_code == 405
    assert "_auth_user_id" in sso_browser.client.session


def test_the_admin_header_log_out_button_posts_to_the_sso_logout(sso_browser, op_user):
    sub = op_user("header", ["care-agent"])
    page = sso_browser.sign_in(sub)
    assert 'action="/admin/logout/"' in page.text and "Log out" in page.text


def test_refused_users_can_sign_out_of_the_provider(sso_browser, op_user):
    sub = op_user("refused", [])
    page = sso_browser.sign_in(sub)
    assert page.status == 403 and 'action="/oidc/logout/"' in page.text

    response = sso_browser.client.post("/oidc/logout/")

    assert response["Location"].startswith(sso_browser.provider.url + "/oauth2/end_session?")
    assert "id_token_hint=" in response["Location"]


def test_a_break_glass_user_logs_out_locally(client, django_user_model):
    django_user_model.objects.create_superuser("root", password="root-password-123")
    client.post("/break-glass/login/", {"username": "root", "password": "root-password-123"})

    response = client.post("/admin/logout/")

    assert response["Location"] == "/sso/signed-out/"
    assert "_auth_user_id" not in client.session
