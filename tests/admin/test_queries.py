"""Pages cost the same number of queries whatever the size of the tables, and never count them.

The figures at scale are measured by bench/admin_pages.py; this keeps the shape in the suite.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from entitlements.models import ChangeAttempt, Entitlement, Product
from entitlements.outcomes import Outcome

pytestmark = pytest.mark.django_db


def grow(rows: int) -> None:
    """`rows` more entitlements of ACC-1001, each with one finished change attempt."""
    standard = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_STANDARD")
    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    start = Entitlement.objects.count()
    entitlements = Entitlement.objects.bulk_create(
        Entitlement(
            opf_id=f"ENT-GROW-{start + i}", account_id="ACC-1001", provider_id="Netflix_EU_B",
            product=standard, status="ACTIVE",
        )
        for i in range(rows)
    )  # fmt: skip
    ChangeAttempt.objects.bulk_create(
        ChangeAttempt(
            correlation_id=f"corr-{e.opf_id}", entitlement=e, entitlement_opf_id=e.opf_id,
            account_id=e.account_id, provider_id=e.provider_id, from_product=standard,
            to_product=premium, actor_username="agent", reason_code="customer_upgrade",
            outcome=Outcome.COMPLETED, http_status=200,
        )
        for e in entitlements
    )  # fmt: skip


def pages():
    one = Entitlement.objects.get(opf_id="ENT-NFX-1").pk
    return {
        "entitlement list": "/admin/entitlements/entitlement/",
        "search by account": "/admin/entitlements/entitlement/?q=ACC-1001",
        "filtered list": (
            "/admin/entitlements/entitlement/?provider=Netflix_EU_B&status__exact=ACTIVE"
        ),
        "awaiting confirmation": "/admin/entitlements/entitlement/?awaiting=yes",
        "entitlement page": reverse("admin:entitlements_entitlement_change", args=[one]),
        "audit log": "/admin/entitlements/changeattempt/",
        "audit log by agent": "/admin/entitlements/changeattempt/?actor_username=agent&created=7d",
        "audit search": "/admin/entitlements/changeattempt/?q=ACC-1001",
        "attention": "/admin/entitlements/changeattempt/attention/",
        "second page": "/admin/entitlements/changeattempt/?p=2",
    }  # fmt: skip


def queries_per_page(client) -> dict[str, list[str]]:
    result = {}
    for name, url in pages().items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            assert response.status_code == 200, (name, response.status_code)
            if hasattr(response, "render"):
                response.render()
        result[name] = [q["sql"] for q in queries]
    return result


def test_queries_per_page_are_few_constant_and_never_count(supervisor_client, world):
    queries_per_page(supervisor_client)  # warm the per-process caches (content types)
    grow(3)
    small = queries_per_page(supervisor_client)
    grow(250)  # past two pages of 100
    large = queries_per_page(supervisor_client)
    for name in small:
        assert len(small[name]) == len(large[name]), (name, small[name], large[name])
        assert len(large[name]) <= 12, (name, large[name])
        assert not [sql for sql in large[name] if "COUNT(" in sql.upper()], name


def test_the_entitlement_list_reads_one_page_plus_one_row(supervisor_client, world):
    grow(250)
    with CaptureQueriesContext(connection) as queries:
        supervisor_client.get("/admin/entitlements/entitlement/?q=ACC")
    [page_query] = [q["sql"] for q in queries if "entitlements_entitlement" in q["sql"]]
    assert "LIMIT 101" in page_query
