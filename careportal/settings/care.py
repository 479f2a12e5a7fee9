"""Care rules: which entitlements may change, the reasons agents give, when a change is overdue."""

from django.core.exceptions import ImproperlyConfigured

from careportal.settings.env import duration, env

# OPF statuses in which an entitlement may change product. NAGRA does not say; cancelled,
# revoked and ending entitlements are refused by default.
CHANGEABLE_STATUSES = env.list("CHANGEABLE_STATUSES", default=["ACTIVE", "SUBSCRIBED", "PENDING"])

# Reason codes an agent picks from when changing a tier: "code:label" pairs.
CHANGE_REASONS = [
    tuple(item.split(":", 1))
    for item in env.list(
        "CHANGE_REASONS",
        default=[
            "customer_upgrade:Customer asked to upgrade",
            "customer_downgrade:Customer asked to downgrade",
            "billing_correction:Billing correction",
            "retention_offer:Retention offer",
            "technical_fix:Fix a provisioning error",
        ],
    )
]
if any(len(pair) != 2 or not all(pair) for pair in CHANGE_REASONS):
    raise ImproperlyConfigured("CHANGE_REASONS must be comma-separated code:label pairs.")

# A change still awaiting the provider's confirmation after this long is overdue
# (report_overdue, the supervisors' list).
CONFIRMATION_DEADLINE = duration("CONFIRMATION_DEADLINE", default="24h")
