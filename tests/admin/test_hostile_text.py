"""Text from agents and from OPF is stored as it came and rendered escaped (row A3)."""

import csv
import io

import pytest
from django.urls import reverse

from entitlements.models import ChangeAttempt, Entitlement, Product

from .conftest import confirm, entitlement_url, messages_of, review

pytestmark = pytest.mark.django_db

COMMENT = 'line one\nline two\t<script>alert("agent")</script> & \x07\x1b[31m \u202e "q" \'s\''
OPF_MESSAGE = "<script>alert('opf')</script>\nsecond line <img src=x onerror=alert(2)>"
PRODUCT_NAME = "Netflix <img src=x onerror=alert(3)> Ultra"


@pytest.fixture
def hostile_change(supervisor_client, world, sandbox):
    Product.objects.create(
        opf_id="Netflix_EU_B_BUNDLE_ULTRA", name=PRODUCT_NAME, provider_id="Netflix_EU_B",
        provider_resource_id="BUNDLE_ULTRA", tier=4,
    )  # fmt: skip
    sandbox.inject(
        "change_product", "status", status=400,
        body='{"message": "' + OPF_MESSAGE.replace("\n", "\\n") + '"}',
    )  # fmt: skip
    form = supervisor_client.get(
        reverse(
            "admin:entitlements_entitlement_change_product",
            args=[Entitlement.objects.get(opf_id="ENT-NFX-1").pk],
        )
    ).content.decode()
    assert "Netflix &lt;img src=x onerror=alert(3)&gt; Ultra (upgrade)" in form
    confirmation = review(
        supervisor_client, "ENT-NFX-1", "Netflix_EU_B_BUNDLE_ULTRA", comment=COMMENT
    )
    page = confirmation.content.decode()
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;agent&quot;)&lt;/script&gt;" in page
    result = confirm(supervisor_client, "ENT-NFX-1", confirmation)
    return supervisor_client.get(result["Location"])


def assert_escaped(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;agent&quot;)&lt;/script&gt;" in html


def test_stored_as_typed_and_as_opf_sent_it(hostile_change):
    attempt = ChangeAttempt.objects.get()
    assert attempt.comment == COMMENT
    assert attempt.opf_message == OPF_MESSAGE
    assert OPF_MESSAGE.split("\n")[0] in attempt.response_body


def test_the_entitlement_page_and_its_message_are_escaped(hostile_change):
    html = hostile_change.content.decode()
    assert_escaped(html)
    assert "line one<br>line two" in html  # line breaks kept, as <br>
    assert "&lt;script&gt;alert(&#x27;opf&#x27;)&lt;/script&gt;" in html  # the flash message
    [message] = messages_of(hostile_change)
    assert OPF_MESSAGE in message  # the text itself is intact, only its rendering is escaped


def test_the_audit_log_list_and_detail_are_escaped(hostile_change, supervisor_client):
    html = supervisor_client.get("/admin/entitlements/changeattempt/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;agent&quot;" in html  # the comment column, cut short
    attempt = ChangeAttempt.objects.get()
    url = reverse("admin:entitlements_changeattempt_change", args=[attempt.pk])
    detail = supervisor_client.get(url).content.decode()
    assert_escaped(detail)
    assert "<pre>{&quot;message&quot;: &quot;&lt;script&gt;" in detail


def test_the_csv_keeps_the_text_as_is(hostile_change, supervisor_client):
    response = supervisor_client.get("/admin/entitlements/changeattempt/export/")
    [row] = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert row["comment"] == COMMENT
    assert row["OPF message"] == OPF_MESSAGE


def test_the_history_row_is_escaped_for_agents(hostile_change, client, agent):
    client.force_login(agent)
    html = client.get(entitlement_url("ENT-NFX-1")).content.decode()
    assert_escaped(html)
