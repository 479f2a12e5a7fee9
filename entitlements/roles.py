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
    "view_bulkjob",  # bulk tier migration (issue 12)
    "run_bulk_changes",
]
ROLE_PERMISSIONS = {CARE_AGENT: AGENT_PERMISSIONS, CARE_SUPERVISOR: SUPERVISOR_PERMISSIONS}


def ensure_roles(**kwargs) -> None:
    """Create the role groups with exactly their permissions (post_migrate: after a flush too)."""
    from django.contrib.auth.models import Group, Permission

    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="entitlements", codename__in=codenames
        )
        group.permissions.set(permissions)
