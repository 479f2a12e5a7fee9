"""Searching identifiers by "exact or prefix" with conditions an index serves, on both databases.

The admin's own `^field` / `=field` search uses `UPPER(col) LIKE UPPER('x%')` on PostgreSQL,
which no plain index serves, and SQLite's LIKE is case-insensitive so it skips the index too.
Identifiers here are case-sensitive, so a case-sensitive prefix match is also the right answer:

- PostgreSQL: `col LIKE 'x%'`, served by the `varchar_pattern_ops` index Django adds next to
  the plain one for `unique` / `db_index` CharFields (whatever the database's collation);
- SQLite: `col >= 'x' AND col < 'x' || U+10FFFF`, a range on the plain (BINARY) index.

A prefix match includes the exact match, so one condition per column serves both.
"""

from django.db import connections
from django.db.models import Q, QuerySet

from ..models import ChangeAttempt, Entitlement

# The greatest code point: every string that starts with the prefix sorts below prefix + it
# (SQLite compares UTF-8 bytes, and U+10FFFF's are the greatest any valid text has).
_MAX_CHAR = chr(0x10FFFF)


def search_term(raw: str) -> str:
    """One identifier per search: surrounding blanks (a pasted id) dropped."""
    return (raw or "").strip()


def prefix_match(field: str, term: str, vendor: str) -> Q:
    if vendor == "sqlite":
        return Q(**{f"{field}__gte": term, f"{field}__lt": term + _MAX_CHAR})
    return Q(**{f"{field}__startswith": term})


def entitlements_matching(queryset: QuerySet, term: str) -> QuerySet:
    """Entitlements whose entitlement id or account id is `term` or starts with it."""
    vendor = connections[queryset.db].vendor
    return queryset.filter(
        prefix_match("opf_id", term, vendor) | prefix_match("account_id", term, vendor)
    )


def entitlement_pks_matching(queryset: QuerySet, term: str, *, limit: int) -> list[int]:
    """Up to `limit` entitlements whose entitlement id is `term` or starts with it."""
    vendor = connections[queryset.db].vendor
    matching = queryset.filter(prefix_match("opf_id", term, vendor)).order_by("opf_id")
    return list(matching.values_list("pk", flat=True)[:limit])


def account_ids_matching(queryset: QuerySet, term: str, *, limit: int) -> list[str]:
    """Up to `limit` distinct account ids that are `term` or start with it, in index order."""
    vendor = connections[queryset.db].vendor
    matching = queryset.filter(prefix_match("account_id", term, vendor)).order_by("account_id")
    return list(matching.values_list("account_id", flat=True).distinct()[:limit])


def audit_matching(queryset: QuerySet, term: str) -> QuerySet:
    """Change attempts of an entitlement (by entitlement id or account id), by correlation id
    or by Ticket.

    The entitlement and account ids are matched on the entitlement table, whose pattern
    indexes serve prefixes on PostgreSQL, then joined through the (entitlement, time) index.
    An entitlement never changes account, so this is the audit's own account id too.
    The two ways in are a UNION of ids rather than an OR: with an OR, PostgreSQL may walk the
    whole log newest first hoping to meet a match, which for an old or rare term is every row.
    """
    db, vendor = queryset.db, connections[queryset.db].vendor
    entitlement_ids = entitlements_matching(Entitlement.objects.using(db).order_by(), term)
    attempts = ChangeAttempt.objects.using(db).order_by()
    by_entitlement = attempts.filter(entitlement__in=entitlement_ids.values("pk")).values("pk")
    by_correlation_id = attempts.filter(prefix_match("correlation_id", term, vendor)).values("pk")
    by_ticket = attempts.filter(prefix_match("ticket", term, vendor)).values("pk")
    ids = by_entitlement.union(by_correlation_id, by_ticket, all=True)
    return queryset.filter(pk__in=ids)
