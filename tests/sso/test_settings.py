"""Production settings: SSO is required, break-glass off, and nothing is fetched at start."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "careportal.example",
    "OPF_BASE_URL": "https://opf.example",
    "OPF_TOKEN_URL": "https://opf.example/keycloak/auth/realms/opf/protocol/openid-connect/token",
    "OPF_CLIENT_ID": "care-portal",
    "OPF_USERNAME": "care-portal",
    "OPF_PASSWORD": "not-a-secret",
    "OPF_NOTIFICATION_SECRETS": "whsec_Y2ktbm90LWEtc2VjcmV0LWNpLW5vdC1hLXNlY3JldA==",
    # A closed loopback port: the test would fail, not hang, if anything were fetched.
    "OIDC_ISSUER": "https://127.0.0.1:9/realms/careportal",
    "OIDC_RP_CLIENT_ID": "care-portal",
    "OIDC_RP_CLIENT_SECRET": "not-a-secret",
}


def _run(code: str, **env_changes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "BREAK_GLASS"))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the test suite for Playwright
    env.update(PRODUCTION)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


SHOW = "import careportal.settings as s; print(s.BREAK_GLASS_LOGIN, s.OIDC_ISSUER)"


def test_production_defaults():
    result = _run(SHOW)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "https://127.0.0.1:9/realms/careportal"]


def test_break_glass_can_be_switched_on_in_production():
    assert _run(SHOW, BREAK_GLASS_LOGIN="true").stdout.split()[0] == "True"


def test_debug_defaults_to_the_demo_provider_with_break_glass_on():
    result = _run(SHOW, DEBUG="true", OIDC_ISSUER=None)
    assert result.stdout.split() == ["True", "http://127.0.0.1:9400"]


@pytest.mark.parametrize("name", ["OIDC_ISSUER", "OIDC_RP_CLIENT_ID", "OIDC_RP_CLIENT_SECRET"])
def test_required_without_debug(name):
    result = _run(SHOW, **{name: None})
    assert result.returncode != 0
    assert f"{name} must be set when DEBUG is off" in result.stderr


def test_the_issuer_must_be_https_without_debug():
    result = _run(SHOW, OIDC_ISSUER="http://sso.example/realms/careportal")
    assert "OIDC_ISSUER must be an https:// URL" in result.stderr


def test_check_deploy_needs_no_provider():
    code = (
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )
    result = _run(code, DJANGO_SETTINGS_MODULE="careportal.settings")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
