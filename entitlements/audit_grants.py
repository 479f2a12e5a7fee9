"""What the database must enforce for the audit, checked for the role the portal connects as.

The role must own none of the audit tables (an owner can disable their triggers), must not be
a superuser, must have no DELETE or TRUNCATE on the audit and seal tables and no UPDATE on the
seals (finishing an in-flight change record is the one UPDATE the triggers allow), and the
append-only triggers must be in place and enabled. SQL to set it up: docs/audit-grants.sql.
"""

from __future__ import annotations

# table -> privileges the app's role must not have
FORBIDDEN = {
    "entitlements_changeattempt": ("DELETE", "TRUNCATE"),
    "entitlements_notificationdelivery": ("DELETE", "TRUNCATE"),
    "entitlements_seal": ("UPDATE", "DELETE", "TRUNCATE"),
    "entitlements_chainhead": ("DELETE", "TRUNCATE"),
}
# table -> the trigger that keeps it append-only (migrations 0002, 0005, 0008)
TRIGGERS = {
    "entitlements_changeattempt": "entitlements_changeattempt_append_only",
    "entitlements_notificationdelivery": "entitlements_notificationdelivery_append_only",
    "entitlements_seal": "entitlements_seal_append_only",
    "entitlements_chainhead": "entitlements_chainhead_forward_only",
}
# pg_trigger.tgenabled: O fires in normal sessions, A always; D (disabled), R (replica only) not.
_FIRING = ("O", "A")


def grant_problems(cursor) -> list[str]:
    """Each way the current role could rewrite the audit, in plain words (empty: none)."""
    cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
    role, superuser = cursor.fetchone()
    problems = []
    if superuser:
        problems.append(f"role {role} is a superuser: it can disable triggers and ignore grants")
    for table, privileges in FORBIDDEN.items():
        cursor.execute(
            "SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c"
            " WHERE c.oid = to_regclass(%s)",
            [table],
        )
        owns = cursor.fetchone()
        if owns is None:
            problems.append(f"table {table} is missing (run manage.py migrate)")
            continue
        if owns[0]:
            problems.append(f"role {role} owns {table}: an owner can disable its triggers")
        for privilege in privileges:
            cursor.execute("SELECT has_table_privilege(%s, %s)", [table, privilege])
            if cursor.fetchone()[0]:
                problems.append(f"role {role} has {privilege} on {table}")
        problems.extend(_trigger_problems(cursor, table))
    return problems


def _trigger_problems(cursor, table: str) -> list[str]:
    name = TRIGGERS[table]
    cursor.execute(
        "SELECT tgenabled FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = %s",
        [table, name],
    )
    row = cursor.fetchone()
    if row is None:
        return [f"trigger {name} on {table} is missing"]
    if row[0] not in _FIRING:
        return [f"trigger {name} on {table} is disabled"]
    return []
