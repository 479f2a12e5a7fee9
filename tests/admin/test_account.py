"""The account page, the find box, the waiting-change status (issue 11 items 1, 2, 6)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from entitlements.models import Entitlement, Product
from entitlements.outcomes import Outcome
from tests.factories import change_attempt

pytestmark = pytest.mark.django_db


def account_url(account_id: str) -> str:
    return reverse("admin:entitlements_entitlement_account", args=[account_id])


def find(client, term: str):
    return client.get(reverse("admin:entitlements_entitlement_find"), {"q": term})


def add_entitlements(account_id: str, count: int) -> None:
    """`count` more entitlements of the account, each with two changes (one waiting)."""
    standard = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_STANDARD")
    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    start = Entitlement.objects.count()
    rows = Entitlement.objects.bulk_create(
        Entitlement(opf_id=f"ENT-ACC-{start + i}", account_id=account_id,
                    provider_id="Netflix_EU_B", product=standard, status="ACTIVE")
        for i in range(count)
    )  # fmt: skip
    for e in rows:
        change_attempt(e.opf_id, premium.opf_id, outcome=Outcome.REJECTED, http_status=400)
        change_attempt(e.opf_id, premium.opf_id, outcome=Outcome.AWAITING_CONFIRMATION)


def test_the_account_page_lists_every_entitlement_its_history_and_buttons(agent_client, world):
    change_attempt("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", outcome=Outcome.AWAITING_CONFIRMATION,
                   comment="asked by chat", ticket="CHAT-77")  # fmt: skip
    change_attempt("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", outcome=Outcome.COMPLETED,
                   http_status=200)  # fmt: skip
    page = agent_client.get(account_url("ACC-1001")).content.decode()
    entitlements = page.split('id="account-entitlements"')[1].split('id="account-history"')[0]
    assert "ENT-NFX-1" in entitlements and "ENT-DSN-1" in entitlements
    assert "ENT-NFX-2" not in page  # another account's
    assert "Netflix Standard" in entitlements and "Disney+ Standard" in entitlements
    nfx = reverse("admin:entitlements_entitlement_change_product",
                  args=[Entitlement.objects.get(opf_id="ENT-NFX-1").pk])  # fmt: skip
    dsn = reverse("admin:entitlements_entitlement_change_product",
                  args=[Entitlement.objects.get(opf_id="ENT-DSN-1").pk])  # fmt: skip
    assert f'href="{nfx}"' in entitlements  # may change
    assert f'href="{dsn}"' not in entitlements  # its change waits for the provider
    assert "Awaiting confirmation: to Disney+ Premium" in entitlements
    history = page.split('id="account-history"')[1]
    assert history.index("Netflix Premium") < history.index("Disney+ Premium")  # newest first
    assert "CHAT-77" in history and "asked by chat" in history


def test_the_account_page_costs_the_same_queries_for_2_and_20_entitlements(agent_client, world):
    agent_client.get(account_url("ACC-9"))  # warm the per-process caches
    add_entitlements("ACC-9", 2)
    with CaptureQueriesContext(connection) as small:
        assert agent_client.get(account_url("ACC-9")).status_code == 200
    add_entitlements("ACC-9", 18)
    with CaptureQueriesContext(connection) as large:
        page = agent_client.get(account_url("ACC-9")).content.decode()
    assert page.count('class="account-entitlement"') == 20
    assert len(small) == len(large), [q["sql"] for q in large]
    assert len(large) <= 12
    assert not [q for q in large if "COUNT(" in q["sql"].upper()]


def test_every_account_id_links_to_the_account_page(agent_client, supervisor_client, world):
    change_attempt("ENT-NFX-1", outcome=Outcome.COMPLETED, http_status=200)
    link = f'href="{account_url("ACC-1001")}"'
    pk = Entitlement.objects.get(opf_id="ENT-NFX-1").pk
    for client, url in (
        (agent_client, "/admin/entitlements/entitlement/"),
        (agent_client, reverse("admin:entitlements_entitlement_change", args=[pk])),
        (agent_client, reverse("admin:entitlements_entitlement_change_product", args=[pk])),
        (supervisor_client, "/admin/entitlements/changeattempt/"),
    ):
        assert link in client.get(url).content.decode(), url


@pytest.mark.parametrize(
    "term, lands_on",
    [
        ("ENT-NFX-1", "entitlement ENT-NFX-1"),  # the whole id
        ("ENT-DS", "entitlement ENT-DSN-1"),  # its beginning, one match
        ("ACC-1002", "account ACC-1002"),
        ("ACC-1003", "account ACC-1003"),  # two entitlements, one account
        ("ACC-100", "list"),  # three accounts
        ("ENT-NFX", "list"),  # two entitlements
        ("NOPE", "list"),
    ],
)
def test_the_find_box_goes_straight_to_the_one_match(agent_client, world, term, lands_on):
    response = find(agent_client, f"  {term} ")
    assert response.status_code == 302
    kind, _, name = lands_on.partition(" ")
    if kind == "entitlement":
        pk = Entitlement.objects.get(opf_id=name).pk
        assert response["Location"] == reverse("admin:entitlements_entitlement_change", args=[pk])
    elif kind == "account":
        assert response["Location"] == account_url(name)
    else:
        assert response["Location"] == f"/admin/entitlements/entitlement/?q={term}"


def test_the_index_has_one_focused_search_box_and_lists_the_agents_waiting_changes(
    agent_client, world, agent, supervisor
):
    change_attempt("ENT-DSN-1", "DisneyPlus_EU_PREMIUM", user=agent,
                   outcome=Outcome.AWAITING_CONFIRMATION)  # fmt: skip
    change_attempt("ENT-NFX-2", "Netflix_EU_B_BUNDLE_BASIC", user=supervisor,
                   outcome=Outcome.AWAITING_CONFIRMATION)  # fmt: skip
    page = agent_client.get("/admin/").content.decode()
    assert page.count('type="search"') == 1 and " autofocus " in page
    assert 'action="/admin/entitlements/entitlement/find/"' in page
    waiting = page.split('id="my-waiting"')[1]
    assert "ENT-DSN-1" in waiting and "ENT-NFX-2" not in waiting  # only the agent's own


def test_the_status_endpoint_answers_from_one_read(agent_client, world):
    pk = Entitlement.objects.get(opf_id="ENT-NFX-1").pk
    url = reverse("admin:entitlements_entitlement_status", args=[pk])
    agent_client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = agent_client.get(url)
    state = response.json()
    assert state["product"] == "Netflix Standard" and state["waiting"] is False
    entitlement_reads = [q for q in queries if "entitlements_entitlement" in q["sql"]]
    assert len(entitlement_reads) == 1
    assert (
        agent_client.get(
            reverse("admin:entitlements_entitlement_status", args=[999999])
        ).status_code
        == 404
    )


def test_the_audit_record_title_is_in_words(supervisor_client, world):
    attempt = change_attempt("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", outcome=Outcome.COMPLETED)
    url = reverse("admin:entitlements_changeattempt_change", args=[attempt.pk])
    page = supervisor_client.get(url).content.decode()
    assert "ENT-NFX-1: Netflix Standard → Netflix Premium" in page
    assert f"{attempt.from_product_id} -&gt; {attempt.to_product_id}" not in page


def test_a_customer_made_change_reads_made_by_the_customer(supervisor_client, world):
    change_attempt("ENT-NFX-1", outcome=Outcome.COMPLETED, origin="provider",
                   reason_code="provider_change")  # fmt: skip
    page = supervisor_client.get("/admin/entitlements/changeattempt/").content.decode()
    assert "made by the customer at the provider" in page
    assert "provider_change" not in page


def test_needs_review_shows_only_where_true_as_a_warning(agent_client, world):
    Entitlement.objects.filter(opf_id="ENT-NFX-2").update(needs_review=True)
    page = agent_client.get("/admin/entitlements/entitlement/").content.decode()
    assert page.count("badge-warning") == 1
    assert "icon-no.svg" not in page and "icon-yes.svg" not in page
