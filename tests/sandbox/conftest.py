"""Fixtures for the OPF sandbox tests. Nothing here touches Django: they run with
`-p no:django` and under pytest-django alike (no `db` fixture anywhere)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
import requests

from .helpers import ENTITLEMENTS, PASSWORD_GRANT, PRODUCTS, ROOT

# The project is not installed in the virtualenv. pytest-django puts manage.py's folder on
# sys.path, but with `-p no:django` nothing does, so make `entitlements` importable here.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from entitlements.opf_sandbox.server import Sandbox  # noqa: E402


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(port=0, products=PRODUCTS, entitlements=ENTITLEMENTS) as sb:
        yield sb


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture
def token(sandbox: Sandbox, session: requests.Session) -> str:
    """A valid access token from the password grant (that request stays in the record)."""
    answer = session.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=5)
    answer.raise_for_status()
    return answer.json()["access_token"]
