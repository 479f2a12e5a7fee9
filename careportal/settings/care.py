"""Care rules: which entitlements may change, the reasons agents give, when a change is overdue."""

from django.core.exceptions import ImproperlyConfigured

from careportal.settings.env import duration, env

# OPF statuses in which an entitlement may change product. NAGRA does not say; cancelled,
# revoked and ending entitlements are refused by default.
CHANGEABLE_STATUSES = env.list("CHANGEABLE_STATUSES", default=["ACTIVE", "SUBSCRIBED", "PENDING"])

# Reason codes an agent picks from when changing a tier: "code:label" or
# "code:label:upgrade|downgrade|any" (no direction = any). A reason tied to a direction is only
# offered for a change in that direction (tier numbers compared).
REASON_DIRECTIONS = ("upgrade", "downgrade", "any")
_REASONS = [
    item.split(":", 2)
    for item in env.list(
        "CHANGE_REASONS",
        default=[
            "customer_upgrade:Customer asked to upgrade:upgrade",
            "customer_downgrade:Customer asked to downgrade:downgrade",
            "billing_correction:Billing correction",
            "retention_offer:Retention offer",
            "technical_fix:Fix a provisioning error",
        ],
    )
]
if any(
    len(item) < 2 or not all(item) or (len(item) == 3 and item[2] not in REASON_DIRECTIONS)
    for item in _REASONS
):
    raise ImproperlyConfigured(
        "CHANGE_REASONS must be comma-separated code:label or code:label:upgrade|downgrade|any."
    )
CHANGE_REASONS = [(item[0], item[1]) for item in _REASONS]
CHANGE_REASON_DIRECTIONS = {item[0]: item[2] if len(item) == 3 else "any" for item in _REASONS}

# The care interaction (call, chat or ticket id) must be given with every change.
CHANGE_TICKET_REQUIRED = env.bool("CHANGE_TICKET_REQUIRED", default=False)

# A change still awaiting the provider's confirmation after this long is overdue
# (report_overdue, the supervisors' list).
CONFIRMATION_DEADLINE = duration("CONFIRMATION_DEADLINE", default="24h")
