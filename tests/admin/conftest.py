"""Fixtures for the admin's server-side tests: logged-in clients and the change-product flow."""

import html
import re

import pytest
from django.urls import reverse

from entitlements.models import Entitlement, Product


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor)
    return client


def entitlement_url(opf_id: str) -> str:
    pk = Entitlement.objects.get(opf_id=opf_id).pk
    return reverse("admin:entitlements_entitlement_change", args=[pk])


def change_product_url(opf_id: str) -> str:
    pk = Entitlement.objects.get(opf_id=opf_id).pk
    return reverse("admin:entitlements_entitlement_change_product", args=[pk])


def change_form_data(opf_id: str, product_opf_id: str, **overrides) -> dict:
    entitlement = Entitlement.objects.get(opf_id=opf_id)
    product = Product.objects.get(opf_id=product_opf_id)
    # The customer's own reason that fits the direction (a downgrade is never "to upgrade").
    upgrade = product.tier > entitlement.product.tier
    data = {
        "new_product": str(product.pk),
        "reason": "customer_upgrade" if upgrade else "customer_downgrade",
        "comment": "",
        "version": str(entitlement.version),
        "step": "review",
    }
    data.update(overrides)
    return data


def review(client, opf_id: str, product_opf_id: str, **overrides):
    """POST step 1 (the form); returns the response (the confirmation page when valid)."""
    return client.post(
        change_product_url(opf_id), change_form_data(opf_id, product_opf_id, **overrides)
    )


def submission_id(response) -> str:
    match = re.search(r'name="submission_id" value="([^"]+)"', response.content.decode())
    assert match, "no submission id on the confirmation page"
    return match.group(1)


def confirm_data(review_response) -> dict:
    """The fields the confirmation page posts back with "Confirm change"."""
    page = review_response.content.decode()
    form = page.split('id="confirm-change-form"', 1)[1].split("</form>", 1)[0]
    data = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    return {name: html.unescape(value) for name, value in data}


def confirm(client, opf_id: str, review_response, **overrides):
    """POST step 2 ("Confirm change") with what the confirmation page holds."""
    data = {**confirm_data(review_response), **overrides}
    return client.post(change_product_url(opf_id), data)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []
