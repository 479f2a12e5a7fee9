"""The portal never imports the OPF sandbox at run time (house style: a separate stand-in)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import os, sys
os.environ["DEBUG"] = "true"
os.environ["DJANGO_SETTINGS_MODULE"] = "careportal.settings"
import django
django.setup()
from django.test import Client
from django.urls import get_resolver
get_resolver().url_patterns  # every view module the URLs name
import entitlements.admin, entitlements.services, entitlements.views  # noqa: E401
Client().get("/admin/")
print(sorted(m for m in sys.modules if "sandbox" in m))
"""


def test_serving_the_portal_does_not_import_the_sandbox():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
