"""Settings for the test suite: the demo defaults (DEBUG on) unless the environment says otherwise.

DATABASE_URL still switches the suite to PostgreSQL, as .ci/run does.
"""

import os

os.environ.setdefault("DEBUG", "true")

from careportal.settings import *  # noqa: E402,F403

# Fast password hashing: tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
