"""Fixtures for the operations endpoints: free ports, a Redis for the cache."""

import os
import socket

import pytest

# The Redis database the suite may use (REDIS_URL), e.g. redis://127.0.0.1:6379/6.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/6")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_cache(settings):
    """The portal's cache on a real Redis (CACHE_URL=redis://...)."""
    if not redis_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL} (.ci/run starts it)")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    return REDIS_URL
