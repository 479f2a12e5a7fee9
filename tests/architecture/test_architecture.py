"""The architectural rules of docs/architecture.md, read from the source (no database needed).

- the OPF client (entitlements/opf/) imports no Django model;
- the admin never calls the OPF client directly (it goes through the services);
- the portal never imports the OPF sandbox (except the sandbox's own `manage.py opf_sandbox`);
- ChangeAttempt rows are created and finished only in entitlements/services/audit.py;
- every row lock names the table it locks (`select_for_update(of=("self",))`), so a joined
  product row is never locked by accident (crossing changes deadlocked that way, issue 9).

Each rule is a function returning its violations, so the tests at the end can show that each
one reports a violation planted in a piece of source.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AUDIT_MODULE = "entitlements.services.audit"
# The sandbox's own command line: a developer's entry point, not loaded when serving the portal
# (tests/architecture/test_runtime_imports.py checks that at run time).
SANDBOX_COMMAND = "entitlements.management.commands.opf_sandbox"
# Variable names the portal gives a ChangeAttempt; `.save()` on one is an audit write.
CHANGE_NAMES = {"change", "attempt", "change_record", "current_change", "open_change"}


PACKAGES: set[str] = set()  # the portal's modules that are packages (an __init__.py)


def _portal_modules() -> dict[str, ast.Module]:
    modules = {}
    for top in ("careportal", "entitlements"):
        for path in (ROOT / top).rglob("*.py"):
            if "migrations" in path.parts or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            if rel.name == "__init__":
                PACKAGES.add(".".join(parts))
            modules[".".join(parts)] = ast.parse(path.read_text(), filename=str(path))
    return modules


def imported_modules(module: str, tree: ast.Module) -> set[str]:
    """Every module `module` imports (relative imports resolved), with the names it takes."""
    package = module if module in PACKAGES else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def opf_client_model_imports(modules: dict[str, ast.Module]) -> list[str]:
    bad = []
    for module, tree in modules.items():
        if not _within(module, "entitlements.opf"):
            continue
        for name in imported_modules(module, tree):
            if _within(name, "django.db") or ".models" in name or name.endswith("models"):
                bad.append(f"{module} imports {name}")
    return bad


def _is_admin(module: str) -> bool:
    return _within(module, "entitlements.admin") or module.startswith("entitlements.admin_")


def admin_opf_imports(modules: dict[str, ast.Module]) -> list[str]:
    bad = []
    for module, tree in modules.items():
        if not _is_admin(module):
            continue
        for name in imported_modules(module, tree):
            if _within(name, "entitlements.opf") or _within(
                name, "entitlements.services.opf_client"
            ):
                bad.append(f"{module} imports {name}")
    return bad


def sandbox_imports(modules: dict[str, ast.Module]) -> list[str]:
    bad = []
    for module, tree in modules.items():
        if _within(module, "entitlements.opf_sandbox") or module == SANDBOX_COMMAND:
            continue
        for name in imported_modules(module, tree):
            if _within(name, "entitlements.opf_sandbox"):
                bad.append(f"{module} imports {name}")
    return bad


def _chain_root(node: ast.AST) -> str | None:
    """The name a chain of attributes and calls starts from (ChangeAttempt.objects.x() -> ...)."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def change_record_writes(modules: dict[str, ast.Module]) -> list[str]:
    """Creating, updating or saving a ChangeAttempt anywhere but the audit module."""
    writers = {
        "create",
        "bulk_create",
        "get_or_create",
        "update_or_create",
        "update",
        "bulk_update",
    }
    bad = []
    for module, tree in modules.items():
        if module == AUDIT_MODULE:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            where = f"{module}:{node.lineno}"
            if isinstance(func, ast.Name) and func.id == "ChangeAttempt":
                bad.append(f"{where} builds a ChangeAttempt")
            elif isinstance(func, ast.Attribute):
                root = _chain_root(func.value)
                if root == "ChangeAttempt" and func.attr in writers:
                    bad.append(f"{where} ChangeAttempt...{func.attr}()")
                elif func.attr == "save" and root in CHANGE_NAMES:
                    bad.append(f"{where} {root}.save()")
    return bad


def unnamed_row_locks(modules: dict[str, ast.Module]) -> list[str]:
    """select_for_update() without `of=`: with a select_related it locks the joined rows too."""
    bad = []
    for module, tree in modules.items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "select_for_update"
                and not any(keyword.arg == "of" for keyword in node.keywords)
            ):
                bad.append(f"{module}:{node.lineno} select_for_update() without of=")
    return bad


RULES = [
    opf_client_model_imports,
    admin_opf_imports,
    sandbox_imports,
    change_record_writes,
    unnamed_row_locks,
]


@pytest.fixture(scope="module")
def portal():
    modules = _portal_modules()
    assert AUDIT_MODULE in modules and "entitlements.opf.client" in modules
    return modules


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_portal_keeps_the_rule(portal, rule):
    assert rule(portal) == []


def test_the_audit_module_is_where_change_records_are_written(portal):
    # The check above must not pass because it looks nowhere: the audit module does write.
    assert change_record_writes({"entitlements.services.x": portal[AUDIT_MODULE]})


# Each rule reports a violation planted in a module where it does not belong.
PLANTED = [
    (
        opf_client_model_imports,
        "entitlements.opf.client",
        "from entitlements.models import Product",
    ),
    (opf_client_model_imports, "entitlements.opf.tokens", "from ..models import Entitlement"),
    (opf_client_model_imports, "entitlements.opf.transport", "from django.db import models"),
    (admin_opf_imports, "entitlements.admin_views", "from .opf import OpfClient"),
    (admin_opf_imports, "entitlements.admin.changes", "from ..services.opf_client import x"),
    (admin_opf_imports, "entitlements.admin", "import entitlements.opf.client"),
    (sandbox_imports, "careportal.urls", "from entitlements.opf_sandbox import Sandbox"),
    (sandbox_imports, "entitlements.views", "from .opf_sandbox.server import start"),
    (change_record_writes, "entitlements.services.changes", "ChangeAttempt.objects.create(x=1)"),
    (change_record_writes, "entitlements.admin_views", "ChangeAttempt(outcome='x').save()"),
    (
        change_record_writes,
        "entitlements.services.settlement",
        "ChangeAttempt.objects.filter(pk=1).update(outcome='declined')",
    ),
    (change_record_writes, "entitlements.services.notifications", "change.save()"),
    (change_record_writes, "entitlements.views", "attempt.save(update_fields=['detail'])"),
    (
        unnamed_row_locks,
        "entitlements.services.changes",
        "Entitlement.objects.select_for_update().select_related('product').get(pk=1)",
    ),
]


@pytest.mark.parametrize(("rule", "module", "source"), PLANTED)
def test_a_broken_rule_is_reported(rule, module, source):
    assert rule({module: ast.parse(source)}), f"{rule.__name__} missed: {source}"
