"""Break-glass: the admin's password form for a local superuser, only when switched on."""

import pytest

pytestmark = pytest.mark.django_db
PASSWORD = "root-password-123"


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password=PASSWORD)


def test_absent_when_off(settings, client, root):
    settings.BREAK_GLASS_LOGIN = False

    assert client.get("/break-glass/login/").status_code == 404
    response = client.post("/break-glass/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 404
    assert not client.login(username="root", password=PASSWORD)  # nor any other password path
    assert "_auth_user_id" not in client.session


def test_a_local_superuser_signs_in_when_on(client, root, sso_log):
    page = client.get("/break-glass/login/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Break-glass sign-in" in text and 'name="password"' in text
    assert 'action="/break-glass/login/"' in text

    response = client.post("/break-glass/login/", {"username": "root", "password": PASSWORD})

    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200
    assert client.session["_auth_user_backend"] == "careportal.sso.backends.BreakGlassBackend"
    [line] = [r.getMessage() for r in sso_log if "break-glass-sign-in" in r.getMessage()]
    assert "user=root" in line and "ip=127.0.0.1" in line and PASSWORD not in line


def test_staff_who_are_not_superusers_cannot_use_it(client, agent, sso_log):
    response = client.post(
        "/break-glass/login/", {"username": "agent", "password": "agent-password-123"}
    )
    assert response.status_code == 200  # the form again, with an error
    assert "Please enter the correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session
    [line] = [r.getMessage() for r in sso_log if "break-glass-refused" in r.getMessage()]
    assert "user=agent" in line and "agent-password-123" not in line


def test_sso_users_have_no_usable_password(sso_browser, op_user, django_user_model):
    sub = op_user("sso-root", ["care-supervisor"])
    sso_browser.sign_in(sub)
    user = django_user_model.objects.get(sso_identity__subject=sub)
    assert not user.has_usable_password()
    # Even made superuser and given a password by hand, an SSO account cannot break glass.
    user.is_superuser = True
    user.set_password(PASSWORD)
    user.save()
    sso_browser.client.logout()

    response = sso_browser.client.post(
        "/break-glass/login/", {"username": user.username, "password": PASSWORD}
    )

    assert response.status_code == 200
    assert "_auth_user_id" not in sso_browser.client.session
