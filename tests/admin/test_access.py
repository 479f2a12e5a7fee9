"""Who may open and post what, checked on the server (rows A1, A4, A5 of docs/reliability.md)."""

import pytest
from django.urls import reverse

from entitlements.models import ChangeAttempt, Entitlement, Product
from entitlements.outcomes import Outcome
from tests.factories import change_attempt

from .conftest import change_form_data, change_product_url, entitlement_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def attempt(world, agent):
    return change_attempt(
        "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", Outcome.REJECTED, user=agent, http_status=400
    )


def supervisor_urls(attempt):
    return [
        reverse("admin:entitlements_changeattempt_changelist"),
        reverse("admin:entitlements_changeattempt_change", args=[attempt.pk]),
        reverse("admin:entitlements_changeattempt_export"),
        reverse("admin:entitlements_changeattempt_export") + "?outcome__exact=rejected",
        reverse("admin:entitlements_changeattempt_attention"),
        reverse("admin:entitlements_notificationdelivery_changelist"),
    ]


def supervisor_actions(attempt):
    """The supervisors' buttons (POST only)."""
    return [
        reverse("admin:entitlements_changeattempt_check_opf", args=[attempt.pk]),
        reverse("admin:entitlements_entitlement_mark_reviewed", args=[attempt.entitlement_id]),
    ]


def test_the_site_is_branded_care_portal(agent_client):
    response = agent_client.get("/admin/")
    assert response.status_code == 200
    assert "<title>Customer care | Care Portal</title>" in response.content.decode()
    assert '<div id="site-name"><a href="/admin/">Care Portal</a></div>' in (
        response.content.decode()
    )


def test_an_agent_sees_entitlements_and_the_catalogue_but_not_the_audit_log(agent_client):
    page = agent_client.get("/admin/").content.decode()
    assert ">Entitlements</a>" in page and ">Catalogue</a>" in page
    assert "Audit log" not in page and "Needs attention" not in page
    assert "OPF notifications" not in page


def test_a_supervisor_also_sees_the_audit_log_and_the_attention_list(supervisor_client):
    page = supervisor_client.get("/admin/").content.decode()
    # Issue 10 renames the attention list "Needs attention" and shows its count on the index.
    names = ("Entitlements", "Catalogue", "Audit log", "Needs attention (0)", "OPF notifications")
    for name in names:
        assert f">{name}</a>" in page


@pytest.mark.parametrize("method", ["get", "post"])
def test_a4_an_agent_gets_403_from_every_supervisor_view(agent_client, attempt, method):
    for url in supervisor_urls(attempt) + supervisor_actions(attempt):
        response = getattr(agent_client, method)(url, {"outcome__exact": "completed"})
        assert response.status_code == 403, url


def test_the_export_needs_the_export_permission_not_only_the_audit_log(client, attempt):
    from django.contrib.auth.models import Permission, User

    reader = User.objects.create_user("reader", password="x", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_changeattempt"))
    client.force_login(reader)
    assert client.get(reverse("admin:entitlements_changeattempt_changelist")).status_code == 200
    assert client.get(reverse("admin:entitlements_changeattempt_export")).status_code == 403


def test_a_supervisor_opens_every_supervisor_view(supervisor_client, attempt):
    for url in supervisor_urls(attempt):
        assert supervisor_client.get(url).status_code == 200, url


def test_a5_anonymous_users_are_sent_to_log_in(client, attempt):
    urls = supervisor_urls(attempt) + [
        "/admin/",
        reverse("admin:entitlements_entitlement_changelist"),
        entitlement_url("ENT-NFX-1"),
        change_product_url("ENT-NFX-1"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    response = client.post(change_product_url("ENT-NFX-1"), change_form_data(
        "ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM", step="confirm", submission_id="x"
    ))  # fmt: skip
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_without_the_change_permission_get_403_from_change_product(client, world, sandbox):
    from django.contrib.auth.models import Permission, User

    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_entitlement"))
    client.force_login(viewer)
    page = client.get(entitlement_url("ENT-NFX-1")).content.decode()
    assert "Change product</a>" not in page
    assert client.get(change_product_url("ENT-NFX-1")).status_code == 403
    data = change_form_data("ENT-NFX-1", "Netflix_EU_B_BUNDLE_PREMIUM")
    assert client.post(change_product_url("ENT-NFX-1"), data).status_code == 403
    assert sandbox.requests("change_product") == []


def test_the_catalogue_is_read_only_for_agents(agent_client, world):
    product = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    url = reverse("admin:entitlements_product_change", args=[product.pk])
    page = agent_client.get(url).content.decode()
    assert 'name="name"' not in page  # shown, not editable
    response = agent_client.post(url, {"name": "Cheap Premium", "opf_id": product.opf_id})
    assert response.status_code == 403
    assert agent_client.get(reverse("admin:entitlements_product_add")).status_code == 403
    delete = reverse("admin:entitlements_product_delete", args=[product.pk])
    assert agent_client.post(delete, {"post": "yes"}).status_code == 403
    product.refresh_from_db()
    assert product.name == "Netflix Premium"


def test_a1_nobody_adds_changes_or_deletes_audit_records_in_the_admin(admin_client, attempt):
    """Superusers included: the audit is view-only."""
    add = reverse("admin:entitlements_changeattempt_add")
    change = reverse("admin:entitlements_changeattempt_change", args=[attempt.pk])
    delete = reverse("admin:entitlements_changeattempt_delete", args=[attempt.pk])
    assert admin_client.get(add).status_code == 403
    assert admin_client.post(add, {"comment": "forged"}).status_code == 403
    page = admin_client.get(change).content.decode()
    assert 'name="comment"' not in page and "deletelink" not in page
    response = admin_client.post(change, {"comment": "edited", "outcome": "completed"})
    assert response.status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:entitlements_changeattempt_changelist")
    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302, 403)
    attempt.refresh_from_db()
    assert (attempt.comment, attempt.outcome) == ("", Outcome.REJECTED)
    assert ChangeAttempt.objects.filter(pk=attempt.pk).exists()
    assert "Add change attempt" not in admin_client.get(changelist).content.decode()


def test_nobody_edits_the_entitlement_mirror_by_hand(admin_client, world):
    entitlement = Entitlement.objects.get(opf_id="ENT-NFX-1")
    url = reverse("admin:entitlements_entitlement_change", args=[entitlement.pk])
    response = admin_client.post(url, {"status": "CANCELLED", "account_id": "ACC-X"})
    assert response.status_code == 403
    assert admin_client.get(reverse("admin:entitlements_entitlement_add")).status_code == 403
    entitlement.refresh_from_db()
    assert (entitlement.status, entitlement.account_id) == ("ACTIVE", "ACC-1001")


def test_the_catalogue_lists_products_by_provider_and_tier_and_if_active(agent_client, world):
    response = agent_client.get(reverse("admin:entitlements_product_changelist"))
    page = response.content.decode()
    assert "<h1>Catalogue</h1>" in page
    names = [p.name for p in response.context["cl"].result_list]
    assert names == [
        "Disney+ Basic", "Disney+ Standard", "Disney+ Premium",
        "Netflix Legacy", "Netflix Basic", "Netflix Standard", "Netflix Premium",
    ]  # fmt: skip
    assert "column-tier" in page and "column-active" in page
    assert 'alt="False"' in page  # Netflix Legacy is inactive
