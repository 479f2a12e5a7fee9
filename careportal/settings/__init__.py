"""Care Portal settings (DJANGO_SETTINGS_MODULE=careportal.settings), composed by concern.

Everything comes from the environment (see .env.example); the helpers that read it are in
env.py. base: core Django, database, cache, static files, security, logging; sso: sign-in
through Keycloak; opf: the OPF client and OPF's notifications; care: the rules of a change;
bulk: bulk tier changes (background tasks, the shared OPF request budget).
test.py is the test suite's (pyproject.toml).
"""

from careportal.settings.base import *  # noqa: F403
from careportal.settings.bulk import *  # noqa: F403
from careportal.settings.care import *  # noqa: F403
from careportal.settings.opf import *  # noqa: F403
from careportal.settings.sso import *  # noqa: F403
