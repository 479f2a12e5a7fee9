"""The portal never imports the OPF sandbox at run time (house style: a separate stand-in)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import os, sys
os.environ["DEBUG"] = "true"
os.environ["DJANGO_SETTINGS_MODULE"] = "careportal.settings"
import django
django.setup()
from django.test import Client
from django.urls import get_resolver
get_resolver().url_patterns  # every view module the URLs name
import entitlements.admin, entitlements.services, entitlements.views  # noqa: E401
Client().get("/admin/")
print(sorted(m for m in sys.modules if "sandbox" in m))
"""


# Only in requirements-dev.lock: production does not have them (tests/test_locks.py).
DEV_ONLY_MODULES = {"pytest", "_pytest", "playwright", "oidc_provider_mock", "authlib", "flask",
                    "werkzeug", "uvicorn", "pytest_django", "ruff"}  # fmt: skip

PRODUCTION_PROBE = f"""
import sys
from django.test import Client
from careportal.wsgi import application  # noqa: F401  (django.setup with production settings)
from django.urls import get_resolver
get_resolver().url_patterns
import entitlements.admin, entitlements.services, entitlements.views  # noqa: E401
Client().get("/healthz")
Client().get("/admin/login/", secure=True)
print(sorted(m for m in sys.modules if m.split(".")[0] in {DEV_ONLY_MODULES!r}))
"""


def test_production_serving_imports_nothing_only_in_the_development_lock():
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "false",
        "SECRET_KEY": "runtime-imports-" + "k3Yq" * 12,
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "sqlite:///:memory:",
        "OPF_BASE_URL": "https://opf.example",
        "OPF_TOKEN_URL": "https://opf.example/keycloak/auth/realms/opf/protocol/openid-connect/token",
        "OPF_CLIENT_ID": "care-portal",
        "OPF_USERNAME": "care-portal",
        "OPF_PASSWORD": "not-a-secret",
        "OIDC_ISSUER": "https://sso.example/realms/careportal",
        "OIDC_RP_CLIENT_ID": "care-portal",
        "OIDC_RP_CLIENT_SECRET": "not-a-secret",
        "OPF_NOTIFICATION_SECRETS": "whsec_Y2ktbm90LWEtc2VjcmV0LWNpLW5vdC1hLXNlY3JldA==",
        "DJANGO_SETTINGS_MODULE": "careportal.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_serving_the_portal_does_not_import_the_sandbox():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
