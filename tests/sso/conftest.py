"""The SSO tests: every one talks to the real demo provider (see fixtures.py)."""

import pytest

from .fixtures import (  # noqa: F401  (fixtures)
    oidc_provider,
    op_user,
    other_provider,
    relay,
    sso_browser,
    sso_configured,
    sso_log,
)


@pytest.fixture(autouse=True)
def _every_sso_test_uses_the_provider(request):
    return request.getfixturevalue("sso_configured")
