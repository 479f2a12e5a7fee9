"""Production settings: refuse to start without secrets, pass `check --deploy` with them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "p" * 20 + "-a-long-random-production-secret-key-for-tests-" + "q" * 20,
    "ALLOWED_HOSTS": "careportal.example",
    "DATABASE_URL": "postgres://careportal@127.0.0.1:5432/careportal",
    "OPF_BASE_URL": "https://opf.example",
    "OPF_TOKEN_URL": "https://opf.example/keycloak/auth/realms/opf/protocol/openid-connect/token",
    "OPF_CLIENT_ID": "care-portal",
    "OPF_USERNAME": "care-portal",
    "OPF_PASSWORD": "not-a-real-password",
    "OIDC_ISSUER": "https://sso.example/realms/careportal",
    "OIDC_RP_CLIENT_ID": "care-portal",
    "OIDC_RP_CLIENT_SECRET": "not-a-real-secret",
    "OPF_NOTIFICATION_SECRETS": "whsec_bm90LWEtcmVhbC1zZWNyZXQtbm90LWEtcmVhbC1zZWNyZXQ=",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # The test process runs with test-only variables (async-unsafe for Playwright); not these.
    dropped = {*PRODUCTION, "CACHE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean["DJANGO_SETTINGS_MODULE"] = "careportal.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "OPF_BASE_URL", "OPF_TOKEN_URL", "OPF_CLIENT_ID", "OPF_PASSWORD"]
)
def test_production_refuses_to_start_without_a_required_setting(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_the_demo_secret_key_is_refused_in_production():
    from careportal.settings.base import _DEMO_SECRET_KEY

    result = manage("check", **{**PRODUCTION, "SECRET_KEY": _DEMO_SECRET_KEY})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_secrets_never_reach_the_output_of_a_refused_start():
    env = {k: v for k, v in PRODUCTION.items() if k != "OPF_BASE_URL"}
    result = manage("check", **env)
    assert PRODUCTION["OPF_PASSWORD"] not in result.stdout + result.stderr
    assert PRODUCTION["SECRET_KEY"] not in result.stdout + result.stderr


def test_a_malformed_reason_list_is_refused_at_start():
    result = manage("check", **{**PRODUCTION, "CHANGE_REASONS": "upgrade:Upgrade,nolabel"})
    assert result.returncode != 0 and "CHANGE_REASONS" in result.stderr


@pytest.mark.parametrize("path", ["crm-gateway/entitlements", "/entitlements?limit=5"])
def test_a_malformed_entitlements_path_is_refused_at_start(path):
    result = manage("check", **{**PRODUCTION, "OPF_ENTITLEMENTS_PATH": path})
    assert result.returncode != 0 and "OPF_ENTITLEMENTS_PATH" in result.stderr


def test_the_test_settings_run_on_the_demo_defaults_unless_told_otherwise():
    show = "from django.conf import settings as s; print(s.DEBUG, s.OPF_BASE_URL)"
    env = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION, "CACHE_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "careportal.settings.test"
    demo = subprocess.run(
        [sys.executable, "-c", show], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert demo.stdout.split() == ["True", "http://127.0.0.1:8099"], demo.stderr
    production = subprocess.run(
        [sys.executable, "-c", show],
        cwd=ROOT,
        env={**env, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert production.stdout.split() == ["False", "https://opf.example"], production.stderr
