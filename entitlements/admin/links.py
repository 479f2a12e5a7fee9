"""Addresses of the pages an id links to, so every account id and entitlement id opens its page."""

from django.urls import NoReverseMatch, reverse


def account_url(account_id: str) -> str:
    return reverse("admin:entitlements_entitlement_account", args=[account_id])


def entitlement_url(pk: int) -> str:
    return reverse("admin:entitlements_entitlement_change", args=[pk])


# SLOT (helper "reads", issue 11 item 1): "Refresh from OPF" is their POST view for one
# entitlement. Until it is mounted under this URL name the button is left out; once their branch
# lands, the account and entitlement pages show it with no change here.
REFRESH_URL_NAME = "admin:entitlements_entitlement_refresh"


def refresh_url(pk: int) -> str | None:
    try:
        return reverse(REFRESH_URL_NAME, args=[pk])
    except NoReverseMatch:
        return None
