"""The SSO tests: every one talks to the real demo provider (see fixtures.py)."""

import pytest


@pytest.fixture(autouse=True)
def _every_sso_test_uses_the_provider(request):
    return request.getfixturevalue("sso_configured")
