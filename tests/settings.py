"""Settings for the test suite: the demo defaults (DEBUG on) unless the environment says otherwise.

DATABASE_URL still switches the suite to PostgreSQL, as .ci/run does.
"""

import os

os.environ.setdefault("DEBUG", "true")

from careportal.settings import *  # noqa: E402,F403

# Fast password hashing: tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Keep the suite's OPF tokens apart from a demo running on the same checkout.
if "CACHE_URL" not in os.environ:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "test-cache"),  # noqa: F405
        }
    }
