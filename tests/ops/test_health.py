"""GET /healthz and /readyz: real database, real caches, a real (or stopped) token endpoint."""

import pytest
from django.db import connection

from tests.ops.conftest import closed_port


def test_healthz_answers_without_database_session_or_sign_in(client, django_assert_num_queries):
    # No `db` fixture: pytest-django would turn any database access into an error (a 500).
    response = client.get("/healthz", secure=False)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert "Cookie" not in response.headers.get("Vary", "")


def test_health_endpoints_are_not_redirected_to_https(client, settings, sandbox, db):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/admin/").status_code == 301  # the rule is on...
    assert client.get("/healthz").status_code == 200  # ...and these are exempt
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_ok_when_database_cache_and_token_endpoint_answer(client, sandbox):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "opf_token_endpoint": "ok",
    }
    # Reachability only: no token is fetched for a health check.
    assert sandbox.requests("token") == []


@pytest.mark.django_db
def test_readyz_ok_on_redis(client, sandbox, redis_cache):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_readyz_503_when_the_token_endpoint_is_down(client, settings):
    from entitlements.opf_sandbox.server import Sandbox

    stopped = Sandbox(port=0).start()
    token_url = stopped.token_url
    stopped.stop()
    settings.OPF_TOKEN_URL = token_url.replace("http://", "http://careportal:hunter2@")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["opf_token_endpoint"]
    assert body["checks"]["database"] == "ok" and body["checks"]["cache"] == "ok"
    assert b"hunter2" not in response.content and b"127.0.0.1" not in response.content


@pytest.mark.django_db
def test_readyz_503_when_the_cache_is_down(client, sandbox, settings, caplog):
    port = closed_port()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://:cache-password-x@127.0.0.1:{port}/6",
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]
    assert b"cache-password-x" not in response.content
    assert "cache-password-x" not in caplog.text
    assert "readyz check cache failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_readyz_503_when_the_database_is_down(client, sandbox, caplog):
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-dir/careportal.sqlite3"
    else:
        connection.settings_dict["PORT"] = closed_port()
        connection.settings_dict["PASSWORD"] = "db-password-x"
    try:
        response = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database"]
    assert body["checks"]["cache"] == "ok" and body["checks"]["opf_token_endpoint"] == "ok"
    assert b"db-password-x" not in response.content and "db-password-x" not in caplog.text
    assert b"nonexistent" not in response.content
    # and it recovers once the database is back
    assert client.get("/readyz").status_code == 200


def test_healthz_answers_whatever_the_host_header(client):
    # A load balancer calling the backend by IP address: not in ALLOWED_HOSTS, still alive.
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert client.post("/healthz").status_code != 200  # only GET/HEAD are the health check
