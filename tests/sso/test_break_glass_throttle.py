"""Break-glass is throttled (django-axes): per username and per address, with a time to retry."""

import time
from datetime import timedelta

import pytest

pytestmark = pytest.mark.django_db
PASSWORD = "root-password-123"
URL = "/break-glass/login/"


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password=PASSWORD)


def _try(client, username, password, ip="127.0.0.1"):
    return client.post(URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_then_the_right_one_is_refused_with_a_time(
    client, root, sso_log, settings
):
    assert settings.AXES_FAILURE_LIMIT == 5  # the default
    answers = [_try(client, "root", f"guess-{n}").status_code for n in range(30)]

    response = _try(client, "root", PASSWORD)

    assert answers[:4] == [200] * 4  # the form again, with its error
    assert set(answers[4:]) == {429}  # locked from the fifth failure on
    assert response.status_code == 429
    assert not _signed_in(client)
    text = response.content.decode()
    assert "Too many failed sign-in attempts" in text
    assert "Try again after" in text and "in 15 minutes" in text
    assert response["Retry-After"] == "900"
    lines = [r.getMessage() for r in sso_log]
    refused = [line for line in lines if "break-glass-refused" in line]
    locked = [line for line in lines if "break-glass-locked-out" in line]
    assert (len(refused), len(locked)) == (4, 27)  # each try logged once
    assert all("user=root" in line and "ip=127.0.0.1" in line for line in refused + locked)
    assert all("retry_at=" in line for line in locked)
    assert not any(PASSWORD in line or "guess-" in line for line in lines)


def test_the_lock_holds_per_address_whatever_the_username(client, root):
    for n in range(5):
        _try(client, f"someone-{n}", "wrong", ip="10.0.0.7")

    assert _try(client, "root", PASSWORD, ip="10.0.0.7").status_code == 429
    assert not _signed_in(client)
    # The same account from another address signs in: only that address is locked.
    response = _try(client, "root", PASSWORD, ip="10.0.0.8")
    assert response.status_code == 302 and _signed_in(client)


def test_the_lock_holds_per_username_whatever_the_address(client, root):
    for n in range(5):
        _try(client, "root", "wrong", ip=f"10.0.1.{n}")

    assert _try(client, "root", PASSWORD, ip="10.0.2.1").status_code == 429
    assert not _signed_in(client)


def test_after_the_cool_off_the_right_password_signs_in(client, root, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    for _ in range(5):
        _try(client, "root", "wrong")
    assert _try(client, "root", PASSWORD).status_code == 429

    time.sleep(1.2)

    response = _try(client, "root", PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert _signed_in(client)


def test_a_locked_address_still_signs_in_through_sso(client, root, sso_browser, op_user):
    for _ in range(6):
        _try(client, "root", "wrong")
    assert _try(client, "root", PASSWORD).status_code == 429

    sub = op_user("agent-behind-the-same-address", ["care-agent"])
    sso_browser.sign_in(sub)

    assert sso_browser.client.get("/admin/").status_code == 200


def test_sso_failures_do_not_count_towards_a_lock(client, root, sso_browser, op_user):
    from axes.models import AccessAttempt

    sub = op_user("no-role-user", [])  # refused by the portal: no Care role
    pages = [sso_browser.sign_in(sub)]
    pages += [sso_browser.go("/admin/") for _ in range(5)]  # the provider remembers the choice

    assert [page.status for page in pages] == [403] * 6
    assert all("No access to the Care Portal" in page.text for page in pages)
    assert AccessAttempt.objects.count() == 0
    assert _try(client, "root", PASSWORD).status_code == 302
