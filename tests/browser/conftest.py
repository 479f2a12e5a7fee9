"""Browser journeys: the portal on a live server, the OPF sandbox, the system Chromium."""

import pytest

from tests.sso.fixtures import link_to_provider, sign_in_with_sso, sign_out_with_sso


def log_in(page, live_server, user) -> None:
    """The login step of every journey, in one place: through SSO, as in production.

    `user` (the shared `agent` / `supervisor` fixtures) becomes the portal account of the demo
    provider's subject of the same name, which carries the matching role.
    """
    link_to_provider(user)
    sign_in_with_sso(page, live_server.url, user.get_username())
    page.wait_for_url(f"{live_server.url}/admin/")


def log_out(page) -> None:
    sign_out_with_sso(page)


@pytest.fixture
def portal(live_server, sandbox, world, request):
    """The live portal, talking to the sandbox and the demo SSO provider, with the sandbox's
    world mirrored."""
    request.getfixturevalue("sso_configured")
    return live_server
