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


# Every page reports Content-Security-Policy violations to the test (see `page`).
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.documentURI}`);
});
"""
_POLICY_WORDS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy")


@pytest.fixture
def page(chromium, request):
    """A fresh browser context per test; `page.snap(name)` saves a screenshot artifact.

    Any CSP violation (a `securitypolicyviolation` event or the console's report of one) or
    Permissions-Policy error on any page of the test fails the test at teardown.
    """
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    violations: list[str] = []
    context.expose_binding("__cspViolation", lambda source, text: violations.append(text))
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    context.on(
        "console",
        lambda message: violations.append(f"console: {message.text}")
        if any(word in message.text for word in _POLICY_WORDS)
        else None,
    )
    pg = context.new_page()
    folder = ARTIFACTS / request.node.name.replace("/", "_")
    counter = iter(range(1, 1000))

    def snap(name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{next(counter):02d}-{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    pg.snap = snap
    pg.policy_violations = violations
    yield pg
    context.close()
    assert violations == [], "the browser reported policy violations:\n" + "\n".join(violations)


# --- OPF: the sandbox over real HTTP, and a small world loaded into it and into the portal ------

CATALOGUE = [
    {"productId": "Netflix_EU_B_BUNDLE_BASIC", "name": "Netflix Basic",
     "providerId": "Netflix_EU_B", "providerResourceId": "BUNDLE_BASIC", "tier": 1},
    {"productId": "Netflix_EU_B_BUNDLE_STANDARD", "name": "Netflix Standard",
     "providerId": "Netflix_EU_B", "providerResourceId": "BUNDLE_STANDARD", "tier": 2},
    {"productId": "Netflix_EU_B_BUNDLE_PREMIUM", "name": "Netflix Premium",
     "providerId": "Netflix_EU_B", "providerResourceId": "BUNDLE_PREMIUM", "tier": 3},
    {"productId": "Netflix_EU_B_BUNDLE_LEGACY", "name": "Netflix Legacy",
     "providerId": "Netflix_EU_B", "providerResourceId": "BUNDLE_LEGACY", "tier": 0,
     "active": False},
    {"productId": "DisneyPlus_EU_BASIC", "name": "Disney+ Basic",
     "providerId": "DisneyPlus_EU", "providerResourceId": "BASIC", "tier": 1},
    {"productId": "DisneyPlus_EU_STANDARD", "name": "Disney+ Standard",
     "providerId": "DisneyPlus_EU", "providerResourceId": "STANDARD", "tier": 2},
    {"productId": "DisneyPlus_EU_PREMIUM", "name": "Disney+ Premium",
     "providerId": "DisneyPlus_EU", "providerResourceId": "PREMIUM", "tier": 3},
]
ENTITLEMENTS = [
    {"entitlementId": "ENT-NFX-1", "accountId": "ACC-1001",
     "productId": "Netflix_EU_B_BUNDLE_STANDARD", "status": "ACTIVE"},
    {"entitlementId": "ENT-NFX-2", "accountId": "ACC-1002",
     "productId": "Netflix_EU_B_BUNDLE_PREMIUM", "status": "ACTIVE"},
    {"entitlementId": "ENT-DSN-1", "accountId": "ACC-1001",
     "productId": "DisneyPlus_EU_STANDARD", "status": "ACTIVE"},
    {"entitlementId": "ENT-CANCELLED", "accountId": "ACC-1003",
     "productId": "Netflix_EU_B_BUNDLE_BASIC", "status": "CANCELLED"},
    {"entitlementId": "ENT-REVOKED", "accountId": "ACC-1003",
     "productId": "Netflix_EU_B_BUNDLE_BASIC", "status": "REVOKED"},
]
# The provider whose changes the sandbox answers with 202 (confirmed later).
CONFIRM_LATER = "DisneyPlus_EU"


def load_world_into_portal(catalogue=CATALOGUE, entitlements=ENTITLEMENTS) -> None:
    from entitlements.models import Entitlement, Product

    products = {}
    for row in catalogue:
        products[row["productId"]] = Product.objects.create(
            opf_id=row["productId"],
            name=row["name"],
            provider_id=row["providerId"],
            provider_resource_id=row["providerResourceId"],
            tier=row["tier"],
            active=row.get("active", True),
        )
    for row in entitlements:
        product = products[row["productId"]]
        Entitlement.objects.create(
            opf_id=row["entitlementId"],
            account_id=row["accountId"],
            provider_id=product.provider_id,
            product=product,
            status=row["status"],
        )


@pytest.fixture(scope="session")
def opf_sandbox_server():
    from entitlements.opf_sandbox.server import Sandbox

    sandbox = Sandbox(
        port=0, products=CATALOGUE, entitlements=ENTITLEMENTS, confirm_later=[CONFIRM_LATER]
    ).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(opf_sandbox_server, settings):
    """The OPF sandbox, pristine for each test, with the portal's OPF settings pointing at it."""
    from django.core.cache import cache

    opf_sandbox_server.reset()
    settings.OPF_BASE_URL = opf_sandbox_server.url
    settings.OPF_TOKEN_URL = opf_sandbox_server.token_url
    settings.OPF_TOKEN_GRANT = "password"
    settings.OPF_READ_TIMEOUT = 2.0
    settings.OPF_CONNECT_TIMEOUT = 1.0
    cache.clear()  # no OPF token from an earlier test
    yield opf_sandbox_server
    opf_sandbox_server.reset()


@pytest.fixture
def world(db):
    """The sandbox's catalogue and entitlements, mirrored in the portal's database."""
    load_world_into_portal()


# --- A view that fails on purpose (a database that is not there: tests/outages.py) ----------


@pytest.fixture
def failing_view():
    """The URL of a view that raises RuntimeError, mounted for the test."""
    from django.urls import path

    from careportal import urls

    def broken(request):
        raise RuntimeError("simulated outage with a secret-looking detail")

    urls.urlpatterns.append(path("__broken__/", broken))
    yield "/__broken__/"
    urls.urlpatterns.pop()
