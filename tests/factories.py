"""Building records for tests: changes through the service, audit records in a given state.

One place, so every test builds them the same way as the portal does and a change to the model
or the service is followed here once.
"""

from entitlements.models import ChangeAttempt, Entitlement, Product
from entitlements.outcomes import Outcome
from entitlements.services import change_product


def change(entitlement_id: str, product_id: str, user, **kwargs) -> ChangeAttempt:
    """Move an entitlement to a product through the change service (OPF called), as an agent.

    The reason is `customer_upgrade` unless `reason_code` says otherwise; other keywords
    (comment, expected_version) go to change_product.
    """
    return change_product(
        entitlement=Entitlement.objects.get(opf_id=entitlement_id),
        new_product=Product.objects.get(opf_id=product_id),
        user=user,
        reason_code=kwargs.pop("reason_code", "customer_upgrade"),
        **kwargs,
    )


def change_attempt(
    entitlement_id: str = "ENT-NFX-1",
    product_id: str = "Netflix_EU_B_BUNDLE_PREMIUM",
    outcome: str = Outcome.IN_FLIGHT,
    user=None,
    **fields,
) -> ChangeAttempt:
    """An audit record shaped as the service writes it, stored directly (OPF is not called).

    For tests that need a record in a given state; `fields` set or override any column.
    """
    entitlement = Entitlement.objects.get(opf_id=entitlement_id)
    values = {
        "entitlement": entitlement,
        "entitlement_opf_id": entitlement.opf_id,
        "account_id": entitlement.account_id,
        "provider_id": entitlement.provider_id,
        "from_product": entitlement.product,
        "to_product": Product.objects.get(opf_id=product_id),
        "user": user,
        "actor_username": user.username if user else "",
        "reason_code": "customer_upgrade",
        "outcome": outcome,
    }
    return ChangeAttempt.objects.create(**{**values, **fields})
