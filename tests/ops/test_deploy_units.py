"""The systemd units in deploy/ run commands that exist, with the settings docs/deploy.md names."""

import configparser
import re
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent.parent
UNITS = ROOT / "deploy" / "systemd"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string((UNITS / name).read_text())
    return parser


def test_every_manage_py_command_of_the_units_exists():
    commands = get_commands()
    used = set()
    for path in UNITS.glob("*.service"):
        start = _unit(path.name)["Service"]["ExecStart"]
        used |= set(re.findall(r"manage\.py (\w+)", start))
    assert used == {"reconcile_changes", "report_overdue", "db_worker"}
    if "django_tasks_db" not in settings.INSTALLED_APPS:
        # The task worker arrives with the bulk tier migration (django-tasks-db); until that is
        # merged, only its unit exists.
        used.discard("db_worker")
    assert used <= commands.keys(), used - commands.keys()


def test_the_portal_runs_gunicorn_with_the_repo_config_and_the_metrics_directory():
    service = _unit("careportal.service")["Service"]
    assert "gunicorn -c gunicorn.conf.py careportal.wsgi" in service["ExecStart"]
    metrics_dir = service["Environment"].split("=", 1)[1]
    tmpfiles = (ROOT / "deploy" / "tmpfiles.d" / "careportal.conf").read_text()
    assert f"d {metrics_dir} " in tmpfiles
    assert _unit("careportal-worker@.service")["Service"]["Environment"] == service["Environment"]
    for oneshot in ("careportal-reconcile.service", "careportal-report-overdue.service"):
        assert _unit(oneshot)["Service"]["UnsetEnvironment"] == "PROMETHEUS_MULTIPROC_DIR"


def test_each_timer_has_its_service_and_the_guide_names_every_unit():
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for timer in UNITS.glob("*.timer"):
        assert (UNITS / timer.name.replace(".timer", ".service")).exists()
    for unit in UNITS.iterdir():
        assert unit.name.replace("@.service", "@N.service") in guide or unit.name in guide, unit
