"""Check that the database role in DATABASE_URL cannot rewrite the audit (docs/audit.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = (
        "Verify the role in DATABASE_URL has no DELETE or TRUNCATE on the audit and seal tables, "
        "no UPDATE on the seals, owns none of them, and that the audit triggers are in place. "
        "Exits 1 naming what is wrong. PostgreSQL only."
    )

    def handle(self, *args, **options):
        from entitlements.audit_grants import TRIGGERS, grant_problems

        if connection.vendor != "postgresql":
            self.stdout.write(
                f"check_audit_grants only applies to PostgreSQL (this database is "
                f"{connection.vendor}): nothing to check"
            )
            return
        with connection.cursor() as cursor:
            problems = grant_problems(cursor)
            cursor.execute("SELECT current_user")
            role = cursor.fetchone()[0]
        if problems:
            raise CommandError("audit grants: " + "; ".join(problems))
        self.stdout.write(
            f"audit grants OK: role {role} owns no audit table, cannot delete or truncate "
            f"audit records or seals, cannot update seals; {len(TRIGGERS)} triggers in place"
        )
