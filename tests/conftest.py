"""The suite's shared fixtures, loaded as plugins so every folder sees them without imports.

Feature-specific fixtures live in the conftest.py of their own test folder.
"""

import os

# Playwright's sync API runs an event loop in the test thread; Django then refuses ORM calls
# from that thread unless told the code is not really async.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.fixtures.users",
    "tests.fixtures.browser",
    "tests.fixtures.sandbox",
    "tests.fixtures.outages",
    "tests.sso.fixtures",
]
