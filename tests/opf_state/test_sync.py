"""manage.py sync_from_opf over real HTTP: counts, audit, resuming after an interruption, lease."""

from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from entitlements.models import ChangeAttempt, ChangeOrigin, Entitlement, Product
from entitlements.services.sync import Lease, sync_whole_mirror
from entitlements.upkeep import SyncCheckpoint

from .conftest import BASIC, PREMIUM

pytestmark = pytest.mark.django_db


def sync(*args) -> str:
    out = StringIO()
    call_command("sync_from_opf", *args, stdout=out)
    return out.getvalue()


def pages_read(sandbox) -> list[int]:
    return [
        int(parse_qs(urlsplit(r.path).query)["page"][0]) for r in sandbox.requests("entitlements")
    ]


def test_sync_counts_created_updated_unchanged_and_audits_each_difference(sandbox, world):
    Entitlement.objects.filter(opf_id="ENT-REVOKED").delete()  # OPF has it, the mirror not
    sandbox.set_entitlement("ENT-NFX-1", product_id=BASIC)

    printed = sync("--page-size", "2")

    assert "created 1, updated 1, unchanged 3, unknown product 0" in printed
    assert pages_read(sandbox) == [1, 2, 3]  # 5 entitlements, 2 a page
    assert Entitlement.objects.get(opf_id="ENT-NFX-1").product.opf_id == BASIC
    assert Entitlement.objects.get(opf_id="ENT-REVOKED").status == "REVOKED"
    refreshes = ChangeAttempt.objects.filter(origin=ChangeOrigin.REFRESH)
    assert sorted(refreshes.values_list("entitlement_opf_id", flat=True)) == [
        "ENT-NFX-1", "ENT-REVOKED",
    ]  # fmt: skip
    assert set(refreshes.values_list("actor_username", flat=True)) == {"sync_from_opf"}
    assert not Entitlement.objects.filter(confirmed_by_opf_at__isnull=True).exists()
    assert sandbox.requests("change_product") == []


def test_an_interrupted_sync_resumes_with_the_next_page(sandbox, world):
    sandbox.set_entitlement("ENT-REVOKED", product_id=PREMIUM)  # on the last page

    def stop_after_first_page(progress):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sync_whole_mirror(page_size=2, restart=False, on_page=stop_after_first_page)
    point = SyncCheckpoint.objects.get()
    assert point.next_page_index == 1 and point.holder == "" and point.finished_at is None
    sandbox.reset_requests()

    printed = sync("--page-size", "2")

    assert pages_read(sandbox) == [2, 3]  # page 1 is not read again
    assert "Resumed from page 2." in printed and "unchanged 4" in printed
    assert Entitlement.objects.get(opf_id="ENT-REVOKED").product.opf_id == PREMIUM
    sandbox.reset_requests()
    sync("--page-size", "2")
    assert pages_read(sandbox) == [1, 2, 3]  # finished: the next run starts over
    sandbox.reset_requests()
    with pytest.raises(KeyboardInterrupt):
        sync_whole_mirror(page_size=2, restart=False, on_page=stop_after_first_page)
    sync("--page-size", "2", "--restart")
    assert pages_read(sandbox) == [1, 1, 2, 3]


def test_two_runs_never_overlap(sandbox, world):
    other = Lease()
    other.take()  # a run in progress (cron's, a person's)
    with pytest.raises(CommandError, match="another sync_from_opf runs") as raised:
        sync()
    assert raised.value.returncode == 75
    assert sandbox.requests("entitlements") == []
    other.release()
    assert "unchanged 5" in sync()


def test_unknown_products_are_reported_not_created(sandbox, world):
    Entitlement.objects.filter(opf_id="ENT-REVOKED").delete()
    Product.objects.filter(opf_id=BASIC).update(opf_id="Netflix_EU_B_BUNDLE_RETIRED")

    printed = sync()

    assert (
        f"ENT-REVOKED: OPF shows product {BASIC}, which is not in the catalogue; not created."
        in printed
    )
    assert (
        f"ENT-CANCELLED: OPF shows product {BASIC}, which is not in the catalogue; mirror "
        "unchanged, flagged for review." in printed
    )
    assert "unknown product 2" in printed
    assert not Entitlement.objects.filter(opf_id="ENT-REVOKED").exists()
    assert Entitlement.objects.get(opf_id="ENT-CANCELLED").needs_review


def test_named_accounts_only(sandbox, world):
    sandbox.set_entitlement("ENT-NFX-1", product_id=BASIC)
    sandbox.set_entitlement("ENT-NFX-2", product_id=BASIC)
    printed = sync("--account", "ACC-1002")
    assert "updated 1" in printed
    assert Entitlement.objects.get(opf_id="ENT-NFX-2").product.opf_id == BASIC
    assert Entitlement.objects.get(opf_id="ENT-NFX-1").product.opf_id != BASIC


def test_a_failed_read_keeps_the_pages_done_and_says_so(sandbox, world):
    sandbox.inject("entitlements", "reject_auth", count=2)
    with pytest.raises(CommandError, match="OPF could not be read"):
        sync()
    assert not ChangeAttempt.objects.exists()
    assert SyncCheckpoint.objects.get().holder == ""


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_on_a_terminal_only(sandbox, world):
    assert "\r" not in sync("--page-size", "2")  # cron, a pipe: plain lines
    terminal = Terminal()
    call_command("sync_from_opf", "--page-size", "2", "--restart", stdout=terminal)
    shown = terminal.getvalue()
    assert "\r2/5 entitlements" in shown and "\r5/5 entitlements" in shown
    assert shown.rstrip().endswith("s)")  # the counts on their own line after the bar
