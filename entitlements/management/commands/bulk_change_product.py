"""Plan (and start) a bulk tier change from the command line; the same plan as the admin's."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from entitlements.bulk import control
from entitlements.bulk.following import follow
from entitlements.bulk.planning import PlanRefused, PlanRequest, describe, plan_job, read_ids
from entitlements.models import Product


class Command(BaseCommand):
    help = (
        "Move the entitlements on one product (or those in --ids) to another tier of the same "
        "provider, through the single change flow, in the background (manage.py db_worker). "
        "The first batch runs, then the job pauses for review: manage.py bulk_job ID resume."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", required=True, help="source product id")
        parser.add_argument("--to", dest="target", required=True, help="target product id")
        parser.add_argument("--reason", required=True, help="reason code (CHANGE_REASONS)")
        parser.add_argument("--comment", default="")
        parser.add_argument(
            "--ids", help="CSV of entitlement ids (one a line, or a column entitlementId)"
        )
        parser.add_argument("--user", required=True, help="the supervisor running the change")
        parser.add_argument("--dry-run", action="store_true", help="print the plan, send nothing")
        parser.add_argument("--first", type=int, default=10, help="first batch size (10)")
        parser.add_argument("--wait", action="store_true", help="follow the progress")

    def handle(self, *args, **options):
        request = self._plan_request(options)
        try:
            if options["dry_run"]:
                with transaction.atomic():
                    job = plan_job(request)
                    self._print_plan(job)
                    transaction.set_rollback(True)
                self.stdout.write("Dry run: nothing was stored or sent.")
                return
            job = plan_job(request)
            self._print_plan(job)
            control.start(job, user=request.user)
        except (PlanRefused, control.ControlRefused) as exc:
            raise CommandError(f"Refused, nothing sent: {exc}") from exc
        self.stdout.write(f"job id: {job.pk}")
        if options["wait"]:
            follow(job, self.stdout)

    def _plan_request(self, options) -> PlanRequest:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user named {options['user']!r}.")
        products = {p.opf_id: p for p in Product.objects.filter(
            opf_id__in=[options["source"], options["target"]])}  # fmt: skip
        for name in ("source", "target"):
            if options[name] not in products:
                raise CommandError(f"No product {options[name]!r} in the catalogue.")
        ids = None
        if options["ids"]:
            try:
                ids = read_ids(Path(options["ids"]).read_bytes())
            except (OSError, UnicodeDecodeError, PlanRefused) as exc:
                raise CommandError(f"Cannot read {options['ids']}: {exc}") from exc
        return PlanRequest(
            user=user,
            source_product=products[options["source"]],
            target_product=products[options["target"]],
            reason_code=options["reason"],
            comment=options["comment"],
            ids=ids,
            ids_file_name=Path(options["ids"]).name if options["ids"] else "",
            first_batch=options["first"],
        )

    def _print_plan(self, job) -> None:
        for line in describe(job):
            self.stdout.write(line)
