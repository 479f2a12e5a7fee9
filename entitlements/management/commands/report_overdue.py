"""Cron-able report of the changes that need a supervisor: overdue confirmations (matrix row
R3) and outcomes unknown. Exit status 1 when there is any, 0 when there is none, so a monitoring
check can run it as is; --json for tools that parse the output."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


def _row(change, now) -> dict:
    return {
        "correlation_id": change.correlation_id,
        "entitlement": change.entitlement_opf_id,
        "account": change.account_id,
        "from_product": change.from_product.opf_id,
        "to_product": change.to_product.opf_id,
        "since": change.created_at.isoformat(),
        "age_seconds": int((now - change.created_at).total_seconds()),
        "agent": change.actor_username,
        "outcome": change.outcome,
    }


def _age(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m"


class Command(BaseCommand):
    help = (
        "List changes awaiting the provider's confirmation longer than CONFIRMATION_DEADLINE "
        "and changes of unknown outcome. Exits 1 when there is any (for monitoring), else 0."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args, **options):
        from entitlements.selectors import (
            notifications_for_review,
            overdue_changes,
            unknown_outcome_changes,
        )

        now = timezone.now()
        overdue = [_row(c, now) for c in overdue_changes(now=now)]
        unknown = [_row(c, now) for c in unknown_outcome_changes()]
        for_review = notifications_for_review().count()
        deadline = settings.CONFIRMATION_DEADLINE

        if options["json"]:
            report = {
                "checked_at": now.isoformat(),
                "confirmation_deadline_seconds": deadline,
                "overdue": overdue,
                "outcome_unknown": unknown,
                "notifications_for_review": for_review,
            }
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self.stdout.write(
                f"Awaiting confirmation for more than {_age(deadline)}: {len(overdue)}"
            )
            for row in overdue:
                self._line(row)
            self.stdout.write(f"Outcome unknown: {len(unknown)}")
            for row in unknown:
                self._line(row)
            self.stdout.write(f"OPF notifications kept for review: {for_review}")

        if overdue or unknown:
            raise CommandError(
                f"{len(overdue)} overdue and {len(unknown)} outcome-unknown change(s) "
                "need a supervisor",
                returncode=1,
            )

    def _line(self, row: dict) -> None:
        self.stdout.write(
            f"  {row['correlation_id']}  entitlement {row['entitlement']}  "
            f"{row['from_product']} -> {row['to_product']}  since {row['since']} "
            f"({_age(row['age_seconds'])})  agent {row['agent'] or '-'}"
        )
