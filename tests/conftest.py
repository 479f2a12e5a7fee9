"""Fixtures shared by the whole suite: staff users and a real browser.

Feature-specific fixtures live in the conftest.py of their own test folder.
"""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django then refuses ORM calls
# from that thread unless told the code is not really async.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def _user_with_role(django_user_model, username: str, role: str | None):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        username=username, password=f"{username}-password-123", is_staff=True
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def agent(db, django_user_model):
    from entitlements.roles import CARE_AGENT

    return _user_with_role(django_user_model, "agent", CARE_AGENT)


@pytest.fixture
def supervisor(db, django_user_model):
    from entitlements.roles import CARE_SUPERVISOR

    return _user_with_role(django_user_model, "supervisor", CARE_SUPERVISOR)


@pytest.fixture(scope="session")
def chromium():
    """The system Chromium driven by Playwright. Missing browser = failure, never a skip."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), (
        f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does)"
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # No background traffic: the machine reaches nothing but loopback.
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request):
    """A fresh browser context per test; `page.snap(name)` saves a screenshot artifact."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    folder = ARTIFACTS / request.node.name.replace("/", "_")
    counter = iter(range(1, 1000))

    def snap(name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{next(counter):02d}-{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    pg.snap = snap
    yield pg
    context.close()
