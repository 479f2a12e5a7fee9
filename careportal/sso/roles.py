"""From the provider's roles to the portal's groups.

`OIDC_ROLES_CLAIM` is a dotted path into the claims (ID token and userinfo merged):
`realm_access.roles` (Keycloak realm roles, the default), `resource_access.<client>.roles`
(Keycloak client roles) or `groups` (a group membership mapper). A key may itself contain dots
(a client id such as `care.portal`): the longest matching key wins at each step.
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group

from entitlements.roles import CARE_AGENT, CARE_SUPERVISOR

_MISSING = object()


def claim_at_path(claims: dict, path: str):
    """The value at a dotted path, or None."""
    value = _walk(claims, path)
    return None if value is _MISSING else value


def _walk(node, path: str):
    if not isinstance(node, dict):
        return _MISSING
    if path in node:
        return node[path]
    # Try the longest key first: "resource_access.care.portal.roles" finds "care.portal".
    cuts = [i for i, char in enumerate(path) if char == "."]
    for cut in reversed(cuts):
        head, rest = path[:cut], path[cut + 1 :]
        if head in node:
            found = _walk(node[head], rest)
            if found is not _MISSING:
                return found
    return _MISSING


def roles_from_claims(claims: dict) -> set[str]:
    value = claim_at_path(claims, settings.OIDC_ROLES_CLAIM)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable) or isinstance(value, dict):
        return set()
    return {role for role in value if isinstance(role, str)}


def role_groups() -> dict[str, str]:
    """Provider role name -> portal group name."""
    return {settings.OIDC_AGENT_ROLE: CARE_AGENT, settings.OIDC_SUPERVISOR_ROLE: CARE_SUPERVISOR}


def groups_for_claims(claims: dict) -> list[str]:
    """The portal groups the claims entitle to, in a stable order; empty = no access."""
    roles = roles_from_claims(claims)
    return [group for role, group in role_groups().items() if role in roles]


def apply_groups(user, group_names: list[str]) -> None:
    """Make the user's groups and staff status exactly what the roles say."""
    groups = list(Group.objects.filter(name__in=group_names))
    missing = set(group_names) - {g.name for g in groups}
    if missing:
        # The groups come with a migration of the entitlements app.
        raise RuntimeError(f"groups missing: {sorted(missing)} (run manage.py migrate)")
    user.groups.set(groups)
    user.is_staff = bool(groups)
    user.is_superuser = False  # what SSO users may do comes from their roles only
    user.save(update_fields=["is_staff", "is_superuser"])
