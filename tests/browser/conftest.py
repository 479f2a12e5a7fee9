"""Browser journeys: the portal on a live server, the OPF sandbox, the system Chromium."""

import pytest


def log_in(page, live_server, user) -> None:
    """The login step of every journey, in one place: SSO will replace it.

    Uses the admin's login form with the password the shared fixtures give staff users.
    """
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(f"{user.get_username()}-password-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()


@pytest.fixture
def portal(live_server, sandbox, world):
    """The live portal, talking to the sandbox, with the sandbox's world mirrored."""
    return live_server
