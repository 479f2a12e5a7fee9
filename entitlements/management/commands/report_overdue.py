"""Cron-able report of what needs a supervisor, the set the Needs attention page lists: overdue
confirmations (matrix row R3), outcomes unknown, OPF notifications kept for review and
entitlements flagged for review. Exit status 1 when there is any, 0 when there is none, so a
monitoring check can run it as is; --json for tools that parse the output."""

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


def _delivery(delivery) -> dict:
    return {
        "webhook_id": delivery.webhook_id,
        "received": delivery.received_at.isoformat(),
        "event": delivery.event_type,
        "entitlement": delivery.entitlement_opf_id,
        "result": delivery.result,
        "detail": delivery.detail,
    }


def _flagged(entitlement) -> dict:
    confirmed = entitlement.confirmed_by_opf_at
    return {
        "entitlement": entitlement.opf_id,
        "account": entitlement.account_id,
        "product": entitlement.product.opf_id,
        "confirmed_by_opf_at": confirmed.isoformat() if confirmed else None,
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
            entitlements_for_review,
            notifications_for_review,
            overdue_changes,
            unknown_outcome_changes,
        )

        now = timezone.now()
        overdue = [_row(c, now) for c in overdue_changes(now=now)]
        unknown = [_row(c, now) for c in unknown_outcome_changes()]
        deliveries = [_delivery(d) for d in notifications_for_review()]
        flagged = [_flagged(e) for e in entitlements_for_review()]
        for_review = len(deliveries)
        deadline = settings.CONFIRMATION_DEADLINE

        if options["json"]:
            report = {
                "checked_at": now.isoformat(),
                "confirmation_deadline_seconds": deadline,
                "overdue": overdue,
                "outcome_unknown": unknown,
                "notifications_for_review": for_review,
                "notifications_kept_for_review": deliveries,
                "entitlements_for_review": flagged,
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
            for row in deliveries:
                self.stdout.write(
                    f"  {row['webhook_id']}  {row['event']}  entitlement {row['entitlement']}  "
                    f"received {row['received']}: {row['detail']}"
                )
            self.stdout.write(f"Entitlements flagged for review: {len(flagged)}")
            for row in flagged:
                self.stdout.write(
                    f"  {row['entitlement']}  account {row['account']}  on {row['product']}"
                )

        if overdue or unknown or deliveries or flagged:
            raise CommandError(
                f"{len(overdue)} overdue and {len(unknown)} outcome-unknown change(s), "
                f"{for_review} notification(s) and {len(flagged)} entitlement(s) kept for "
                "review need a supervisor",
                returncode=1,
            )

    def _line(self, row: dict) -> None:
        self.stdout.write(
            f"  {row['correlation_id']}  entitlement {row['entitlement']}  "
            f"{row['from_product']} -> {row['to_product']}  since {row['since']} "
            f"({_age(row['age_seconds'])})  agent {row['agent'] or '-'}"
        )
