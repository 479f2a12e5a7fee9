"""Settings for the test suite: the demo defaults (DEBUG on) unless the environment says otherwise.

DATABASE_URL still switches the suite to PostgreSQL, as .ci/run does. DEBUG is decided in env.py
(this module runs after the package has composed the settings); it is set here too so processes
the tests start inherit the same mode.
"""

import os

from careportal.settings import *  # noqa: F403
from careportal.settings.env import DEBUG, VAR_DIR

os.environ.setdefault("DEBUG", "true" if DEBUG else "false")

# Fast password hashing: tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Keep the suite's OPF tokens apart from a demo running on the same checkout.
if "CACHE_URL" not in os.environ:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "test-cache"),
        }
    }
