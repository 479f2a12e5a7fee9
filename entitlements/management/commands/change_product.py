"""Scripted changes through the same service the care agents use."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from entitlements import messages
from entitlements.models import Entitlement, Product
from entitlements.outcomes import Outcome

SUCCESSFUL = {Outcome.COMPLETED, Outcome.AWAITING_CONFIRMATION}


class Command(BaseCommand):
    help = (
        "Change the product of an entitlement in OPF, audited like a change made in the portal. "
        "Exits non-zero unless the outcome is completed or awaiting confirmation."
    )

    def add_arguments(self, parser):
        parser.add_argument("entitlement_id", help="OPF entitlement id")
        parser.add_argument("product_id", help="OPF product id of the new tier")
        parser.add_argument("--user", required=True, help="username recorded as the agent")
        parser.add_argument("--reason", required=True, help="reason code (CHANGE_REASONS)")
        parser.add_argument("--comment", default="")

    def handle(self, *args, entitlement_id, product_id, user, reason, comment, **options):
        from entitlements.exceptions import ChangeRefused
        from entitlements.services import change_product

        try:
            agent = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {user!r}.") from exc
        try:
            entitlement = Entitlement.objects.select_related("product").get(opf_id=entitlement_id)
        except Entitlement.DoesNotExist as exc:
            raise CommandError(f"No entitlement {entitlement_id!r} in the portal.") from exc
        product = Product.objects.filter(opf_id=product_id).first() or Product(opf_id=product_id)
        try:
            change = change_product(
                entitlement=entitlement,
                new_product=product,
                user=agent,
                reason_code=reason,
                comment=comment,
            )
        except ChangeRefused as exc:
            raise CommandError(f"Refused, nothing sent: {exc}") from exc

        outcome = Outcome(change.outcome)
        self.stdout.write(f"outcome: {outcome.label}")
        self.stdout.write(f"correlation id: {change.correlation_id}")
        if change.http_status is not None:
            self.stdout.write(f"OPF status: {change.http_status}")
        self.stdout.write(messages.change_message(change))
        if outcome not in SUCCESSFUL:
            raise SystemExit(1)
