"""bin/demo's restart: the sandbox keeps its state (--state) and the demo load keeps the mirror,
so the mirror, the history and OPF still agree on a changed entitlement afterwards."""

from __future__ import annotations

from io import StringIO

from django.core.cache import cache
from django.core.management import call_command

from entitlements import importing
from entitlements.models import ChangeAttempt, Entitlement
from entitlements.opf_sandbox.data import read_rows
from entitlements.opf_sandbox.server import Sandbox
from entitlements.outcomes import Outcome
from tests.factories import change

PREMIUM = "Netflix_EU_B_BUNDLE_PREMIUM"


def _demo_sandbox(state_file) -> Sandbox:
    """The sandbox as bin/demo starts it: the demo files, and the state file when it exists."""
    return Sandbox(
        products=read_rows(importing.DEMO_DATA_DIR / "catalogue.json"),
        entitlements=read_rows(importing.DEMO_DATA_DIR / "entitlements.json"),
        state_file=state_file,
    ).start()


def _point_the_portal_at(sandbox, settings) -> None:
    settings.OPF_BASE_URL = sandbox.url
    settings.OPF_TOKEN_URL = sandbox.token_url
    settings.OPF_TOKEN_GRANT = "password"
    cache.clear()  # the restarted sandbox knows no earlier token


def _load_demo_data() -> str:
    out = StringIO()
    call_command("load_demo_data", stdout=out)
    return out.getvalue()


def test_a_demo_restart_keeps_a_changed_tier_on_both_sides(db, agent, settings, tmp_path):
    state_file = tmp_path / "opf-sandbox-state.json"
    sandbox = _demo_sandbox(state_file)
    try:
        _point_the_portal_at(sandbox, settings)
        _load_demo_data()
        done = change("ENT-000001", PREMIUM, agent)  # Standard -> Premium, OPF answers 200
        assert done.outcome == Outcome.COMPLETED
    finally:
        sandbox.stop()

    # The restart: the sandbox from the same files and state file, the demo data loaded again.
    sandbox = _demo_sandbox(state_file)
    try:
        reloaded = _load_demo_data()
        in_opf = sandbox.entitlement("ENT-000001")["productId"]
    finally:
        sandbox.stop()
    mirrored = Entitlement.objects.select_related("product").get(opf_id="ENT-000001")
    last = ChangeAttempt.objects.filter(entitlement=mirrored).latest("pk")
    assert in_opf == mirrored.product.opf_id == last.to_product.opf_id == PREMIUM
    assert "entitlements: 0 created, 0 updated, 0 unchanged, 0 refused, 300 kept" in reloaded


def test_the_demo_load_creates_what_is_missing_and_keeps_the_rest(db, agent):
    _load_demo_data()
    premium = Entitlement.objects.get(opf_id="ENT-000007").product
    Entitlement.objects.filter(opf_id="ENT-000001").update(product=premium)  # as a change left it
    Entitlement.objects.filter(opf_id="ENT-000300").delete()

    out = _load_demo_data()

    assert "entitlements: 1 created, 0 updated, 0 unchanged, 0 refused, 299 kept" in out
    kept = Entitlement.objects.select_related("product").get(opf_id="ENT-000001")
    assert kept.product.opf_id == PREMIUM
    assert Entitlement.objects.filter(opf_id="ENT-000300").exists()
