"""Keycloak's token endpoint: the three grants, Keycloak-shaped errors, lifetimes."""

from __future__ import annotations

import time

import pytest
import requests

from entitlements.opf_sandbox.keycloak import Credentials
from entitlements.opf_sandbox.server import Sandbox

from .helpers import PASSWORD_GRANT, change


def test_password_grant_answers_like_keycloak(sandbox, session):
    answer = session.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=5)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["refresh_expires_in"] == 1800
    assert body["access_token"] and body["refresh_token"]
    assert answer.headers["Cache-Control"] == "no-store"
    again = session.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=5).json()
    assert again["access_token"] != body["access_token"]  # random, not derived


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("password", "wrong", "invalid_grant"),
        ("username", "someone-else", "invalid_grant"),
        ("client_id", "other-client", "unauthorized_client"),
    ],
)
def test_password_grant_refuses_bad_credentials(sandbox, session, field, value, error):
    answer = session.post(sandbox.token_url, data={**PASSWORD_GRANT, field: value}, timeout=5)
    assert answer.status_code == 401
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]


def test_refresh_grant_issues_a_working_access_token(sandbox, session):
    first = session.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=5).json()
    refreshed = session.post(
        sandbox.token_url,
        data={
            "grant_type": "refresh_token",
            "client_id": "opf-operator",
            "refresh_token": first["refresh_token"],
        },
        timeout=5,
    )
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["access_token"] != first["access_token"] and new["refresh_token"]
    assert change(session, sandbox, new["access_token"]).status_code == 200


def test_refresh_grant_refuses_unknown_token_and_other_client(sandbox, session):
    first = session.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=5).json()
    form = {"grant_type": "refresh_token", "client_id": "opf-operator"}
    unknown = session.post(sandbox.token_url, data={**form, "refresh_token": "nope"}, timeout=5)
    # Keycloak answers 400, not 401, for a refresh token it does not accept.
    assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_grant")
    other = session.post(
        sandbox.token_url,
        data={**form, "client_id": "other", "refresh_token": first["refresh_token"]},
        timeout=5,
    )
    assert (other.status_code, other.json()["error"]) == (401, "unauthorized_client")


def test_refresh_token_expires():
    with Sandbox(port=0, refresh_token_lifetime=0.2) as sb, requests.Session() as s:
        first = s.post(sb.token_url, data=PASSWORD_GRANT, timeout=5).json()
        time.sleep(0.3)
        form = {
            "grant_type": "refresh_token",
            "client_id": "opf-operator",
            "refresh_token": first["refresh_token"],
        }
        assert s.post(sb.token_url, data=form, timeout=5).status_code == 400


def test_client_credentials_grant_gives_no_refresh_token(sandbox, session):
    form = {
        "grant_type": "client_credentials",
        "client_id": "opf-operator",
        "client_secret": "careportal-sandbox-secret",
    }
    answer = session.post(sandbox.token_url, data=form, timeout=5)
    assert answer.status_code == 200
    assert "refresh_token" not in answer.json()
    assert change(session, sandbox, answer.json()["access_token"]).status_code == 200

    wrong = session.post(sandbox.token_url, data={**form, "client_secret": "x"}, timeout=5)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "unauthorized_client")


def test_client_credentials_in_basic_auth(sandbox, session):
    answer = session.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials"},
        auth=("opf-operator", "careportal-sandbox-secret"),
        timeout=5,
    )
    assert answer.status_code == 200
    wrong = session.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials"},
        auth=("opf-operator", "wrong"),
        timeout=5,
    )
    assert wrong.status_code == 401


def test_token_endpoint_refuses_malformed_requests(sandbox, session):
    missing = session.post(sandbox.token_url, data={"client_id": "opf-operator"}, timeout=5)
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    odd = session.post(sandbox.token_url, data={**PASSWORD_GRANT, "grant_type": "x"}, timeout=5)
    assert (odd.status_code, odd.json()["error"]) == (400, "unsupported_grant_type")
    assert session.get(sandbox.token_url, timeout=5).status_code == 405
    other_realm = sandbox.token_url.replace("/realms/opf/", "/realms/master/")
    assert session.post(other_realm, data=PASSWORD_GRANT, timeout=5).status_code == 404


def test_custom_credentials_and_realm():

    creds = Credentials(realm="tenant", client_id="c", username="u", password="p")
    with Sandbox(port=0, credentials=creds) as sb:
        assert "/realms/tenant/" in sb.token_url
        form = {"grant_type": "password", "client_id": "c", "username": "u", "password": "p"}
        assert requests.post(sb.token_url, data=form, timeout=5).status_code == 200
