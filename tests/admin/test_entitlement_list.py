"""Finding an entitlement (the list, its search and filters) and the entitlement page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from entitlements.models import Entitlement, Product
from entitlements.outcomes import Outcome
from tests.factories import change_attempt

from .conftest import entitlement_url

pytestmark = pytest.mark.django_db

LIST = "/admin/entitlements/entitlement/"


def listed(client, query: str = "") -> list[str]:
    response = client.get(LIST + query)
    assert response.status_code == 200, response.content
    return sorted(e.opf_id for e in response.context["cl"].result_list)


@pytest.fixture
def more(world):
    """Ids that share prefixes, and case variants, beside the sandbox world."""
    standard = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_STANDARD")
    for opf_id, account in [
        ("ENT-NFX-10", "ACC-10011"),
        ("ent-nfx-1", "acc-1001"),
        ("XENT-NFX-1", "XACC-1001"),
    ]:
        Entitlement.objects.create(
            opf_id=opf_id, account_id=account, provider_id="Netflix_EU_B", product=standard,
            status="ACTIVE",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("ACC-1001", ["ENT-DSN-1", "ENT-NFX-1", "ENT-NFX-10"]),  # exact, and prefix of ACC-10011
        ("ACC-10011", ["ENT-NFX-10"]),
        ("  ACC-1002 ", ["ENT-NFX-2"]),  # pasted with blanks
        ("ENT-NFX-1", ["ENT-NFX-1", "ENT-NFX-10"]),
        ("ENT-NFX-10", ["ENT-NFX-10"]),
        ("ENT-NF", ["ENT-NFX-1", "ENT-NFX-10", "ENT-NFX-2"]),
        ("ent-nfx-1", ["ent-nfx-1"]),  # identifiers are case-sensitive
        ("NFX-1", []),  # no match in the middle: no leading-wildcard scans
        ("1001", []),
        ("%", []),
        ("_NT", []),
        ("ACC-100%", []),
    ],
)
def test_search_by_entitlement_or_account_id_exact_or_prefix(agent_client, more, term, expected):
    from urllib.parse import quote

    assert listed(agent_client, f"?q={quote(term)}") == expected


def test_the_list_shows_product_status_and_pending_change_at_a_glance(agent_client, world):
    entitlement = Entitlement.objects.get(opf_id="ENT-DSN-1")
    entitlement.pending_product = Product.objects.get(opf_id="DisneyPlus_EU_PREMIUM")
    entitlement.pending_since = timezone.now()
    entitlement.save()
    page = agent_client.get(LIST + "?q=ACC-1001").content.decode()
    row = page.split(">ENT-DSN-1</a>", 1)[1].split("</tr>", 1)[0]
    assert "Disney+ Standard" in row and "Active" in row
    assert "to Disney+ Premium, waiting since" in row


def test_filters_provider_product_status_and_awaiting_confirmation(agent_client, world):
    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    Entitlement.objects.filter(opf_id="ENT-NFX-1").update(
        pending_product=premium, pending_since=timezone.now()
    )
    basic = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_BASIC")
    assert listed(agent_client, "?provider=DisneyPlus_EU") == ["ENT-DSN-1"]
    assert listed(agent_client, f"?product__id__exact={basic.pk}") == [
        "ENT-CANCELLED",
        "ENT-REVOKED",
    ]
    assert listed(agent_client, "?status__exact=CANCELLED") == ["ENT-CANCELLED"]
    assert listed(agent_client, "?awaiting=yes") == ["ENT-NFX-1"]
    assert "ENT-NFX-1" not in listed(agent_client, "?awaiting=no")
    assert listed(agent_client, "?provider=Netflix_EU_B&status__exact=ACTIVE&q=ACC-1001") == [
        "ENT-NFX-1"
    ]


def test_pages_go_by_previous_and_next_without_counting(agent_client, world, monkeypatch):
    from entitlements.admin import EntitlementAdmin

    monkeypatch.setattr(EntitlementAdmin, "list_per_page", 2)
    with CaptureQueriesContext(connection) as queries:
        first = agent_client.get(LIST)
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
    page = first.content.decode()
    assert "Next &rsaquo;</a>" in page and "Previous</a>" not in page
    assert "?p=2" in page
    second = agent_client.get(LIST + "?p=2").content.decode()
    assert "Next &rsaquo;</a>" in second and "&lsaquo; Previous</a>" in second
    third = agent_client.get(LIST + "?p=3")
    assert len(third.context["cl"].result_list) == 1
    assert "Next &rsaquo;</a>" not in third.content.decode()
    assert agent_client.get(LIST + "?p=9").status_code == 302  # past the end: the admin's ?e=1
    ids = [listed(agent_client, f"?p={p}") for p in (1, 2, 3)]
    assert sorted(sum(ids, [])) == sorted(Entitlement.objects.values_list("opf_id", flat=True))


def test_sorting_by_columns_is_off(agent_client, world):
    page = agent_client.get(LIST).content.decode()
    assert "sortable" not in page
    assert listed(agent_client, "?o=2") == listed(agent_client, "")


# --- the entitlement page ----------------------------------------------------------------


def test_the_page_shows_product_status_and_the_change_button(agent_client, world):
    page = agent_client.get(entitlement_url("ENT-NFX-1")).content.decode()
    assert '<strong id="current-product">Netflix Standard</strong>' in page
    assert '<strong id="current-status">Active</strong>' in page
    assert ">Change product</a>" in page
    assert "No change attempts yet." in page
    assert 'name="status"' not in page  # read only


def test_the_history_is_newest_first_with_reason_and_outcome(agent_client, world, agent):
    change_attempt("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", Outcome.REJECTED, agent,
                   opf_message="Offer closed", comment="first try")  # fmt: skip
    change_attempt("ENT-NFX-1", "Netflix_EU_B_BUNDLE_BASIC", Outcome.NOT_SENT, agent,
                   reason_code="retention_offer", comment="second try")  # fmt: skip
    change_attempt("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", Outcome.COMPLETED, agent,
                   comment="another entitlement")  # fmt: skip
    page = agent_client.get(entitlement_url("ENT-NFX-1")).content.decode()
    history = page.split('id="change-history"', 1)[1]
    assert history.index("second try") < history.index("first try")
    assert "another entitlement" not in history
    assert "Retention offer" in history and "not sent" in history
    assert "rejected" in history and "Offer closed" in history
    assert "Netflix Standard → Netflix Premium" in history
    assert "in the audit log" not in history  # agents have no audit log


def test_supervisors_get_a_link_to_the_whole_history_in_the_audit_log(
    supervisor_client, world, agent
):
    attempt = change_attempt("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", Outcome.COMPLETED, agent)
    change_attempt("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", Outcome.COMPLETED, agent)
    page = supervisor_client.get(entitlement_url("ENT-NFX-1")).content.decode()
    pk = Entitlement.objects.get(opf_id="ENT-NFX-1").pk
    link = reverse("admin:entitlements_changeattempt_changelist") + f"?entitlement__id__exact={pk}"
    assert f'href="{link}"' in page
    audit = supervisor_client.get(link)
    assert [a.pk for a in audit.context["cl"].result_list] == [attempt.pk]


def test_the_history_is_bounded(agent_client, world, agent, monkeypatch):
    from entitlements.admin import entitlements as entitlement_admin

    monkeypatch.setattr(entitlement_admin, "HISTORY_ROWS", 3)
    for _ in range(5):
        change_attempt("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", Outcome.REJECTED, agent)
    page = agent_client.get(entitlement_url("ENT-NFX-1")).content.decode()
    assert page.count('class="attempt outcome-rejected"') == 3
    assert "Showing the newest 3 attempts." in page


def test_an_entitlement_flagged_for_review_says_so(agent_client, world):
    Entitlement.objects.filter(opf_id="ENT-NFX-1").update(needs_review=True)
    page = agent_client.get(entitlement_url("ENT-NFX-1")).content.decode()
    assert "Flagged for review" in page


def test_an_unknown_outcome_blocks_changes_until_reconciled(agent_client, world, agent):
    change_attempt("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", Outcome.OUTCOME_UNKNOWN, agent)
    page = agent_client.get(entitlement_url("ENT-NFX-1")).content.decode()
    assert "Change outcome unknown: do not resubmit, a supervisor will reconcile" in page
    assert "a supervisor must reconcile it first" in page
    assert ">Change product</a>" not in page


def test_awaiting_confirmation_lists_the_longest_waiting_first(agent_client, world):
    from datetime import timedelta

    now = timezone.now()
    for opf_id, hours in [("ENT-NFX-1", 1), ("ENT-NFX-2", 30), ("ENT-DSN-1", 5)]:
        entitlement = Entitlement.objects.get(opf_id=opf_id)
        entitlement.pending_product = (
            Product.objects.filter(provider_id=entitlement.provider_id)
            .exclude(pk=entitlement.product_id)
            .first()
        )
        entitlement.pending_since = now - timedelta(hours=hours)
        entitlement.save()
    response = agent_client.get(LIST + "?awaiting=yes")
    assert [e.opf_id for e in response.context["cl"].result_list] == [
        "ENT-NFX-2",
        "ENT-DSN-1",
        "ENT-NFX-1",
    ]
