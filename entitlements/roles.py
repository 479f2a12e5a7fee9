"""The two staff roles and what each may do. Used by the roles migration and by SSO role mapping."""

CARE_AGENT = "Care agent"
CARE_SUPERVISOR = "Care supervisor"

AGENT_PERMISSIONS = [
    "view_entitlement",
    "view_product",
    "change_entitlement_product",
]
SUPERVISOR_PERMISSIONS = AGENT_PERMISSIONS + [
    "view_changeattempt",  # the audit log
    "export_changeattempt",
    "reconcile_changeattempt",
    "view_notificationdelivery",  # OPF notifications kept for review (issue 5)
]
ROLE_PERMISSIONS = {CARE_AGENT: AGENT_PERMISSIONS, CARE_SUPERVISOR: SUPERVISOR_PERMISSIONS}
