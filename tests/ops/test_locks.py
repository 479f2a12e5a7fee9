"""Production installs requirements.lock only: no test tool, no demo provider, no linter in it;
the development lock adds them on top. Both match pyproject.toml's pins."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Tools for tests, the demo and linting, and what only they bring.
DEV_ONLY = {
    "pytest", "pytest-django", "playwright", "oidc-provider-mock", "authlib", "ruff",
    "hypothesis", "flask", "werkzeug", "uvicorn", "iniconfig", "pluggy", "greenlet",
}  # fmt: skip


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[=<>\[ ;]", requirement, maxsplit=1)[0]).lower()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-r"):
            assert "==" in line, f"{path.name}: not pinned: {line}"
            pins[_name(line)] = line.split("==", 1)[1]
    return pins


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_runtime_lock_has_no_test_tool():
    runtime = _pins(ROOT / "requirements.lock")
    assert not DEV_ONLY & runtime.keys()
    assert {"django", "gunicorn", "psycopg", "whitenoise", "prometheus-client", "redis"} <= set(
        runtime
    )


def test_the_development_lock_is_the_runtime_lock_plus_the_tools():
    text = (ROOT / "requirements-dev.lock").read_text()
    assert "-r requirements.lock" in text.splitlines()
    runtime, dev = _pins(ROOT / "requirements.lock"), _pins(ROOT / "requirements-dev.lock")
    assert not runtime.keys() & dev.keys()  # each package pinned once
    assert {"pytest", "pytest-django", "playwright", "oidc-provider-mock", "ruff"} <= set(dev)


def test_the_locks_pin_what_pyproject_pins():
    project = _pyproject()
    runtime, dev = _pins(ROOT / "requirements.lock"), _pins(ROOT / "requirements-dev.lock")
    for requirement in project["dependencies"]:
        assert runtime.get(_name(requirement)) == requirement.split("==", 1)[1], requirement
    for requirement in project["optional-dependencies"]["dev"]:
        assert dev.get(_name(requirement)) == requirement.split("==", 1)[1], requirement


def test_the_runtime_lock_holds_what_its_packages_need():
    """Each runtime package's own requirements (as installed here) are in the runtime lock."""
    from importlib.metadata import distribution

    from packaging.requirements import Requirement

    runtime = _pins(ROOT / "requirements.lock")
    missing = set()
    for name in runtime:
        for text in distribution(name).requires or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            if _name(requirement.name) not in runtime:
                missing.add(f"{name} needs {requirement.name}")
    assert not missing, sorted(missing)
