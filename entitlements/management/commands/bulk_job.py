"""A bulk change from the command line: its status, or pause / resume / cancel / retry it."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from entitlements.bulk import control, progress
from entitlements.bulk.following import follow, status_line
from entitlements.bulk.models import BulkJob


class Command(BaseCommand):
    help = "Show a bulk change's status, or pause, resume, cancel it (recorded with --user)."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int)
        parser.add_argument("action", choices=["status", *control.ACTIONS])
        parser.add_argument("--user", help="the supervisor doing it (needed but for status)")
        parser.add_argument("--wait", action="store_true", help="then follow the progress")

    def handle(self, *args, job_id, action, user, wait, **options):
        job = BulkJob.objects.select_related("target_product").filter(pk=job_id).first()
        if job is None:
            raise CommandError(f"No bulk change {job_id}.")
        if action != "status":
            supervisor = get_user_model().objects.filter(username=user or "").first()
            if supervisor is None:
                raise CommandError("Say who does it: --user USERNAME (a supervisor).")
            try:
                result = control.apply(action, job, user=supervisor)
            except control.ControlRefused as exc:
                raise CommandError(str(exc)) from exc
            if isinstance(result, int):
                self.stdout.write(f"{action}: {result} entitlements")
            job.refresh_from_db()
        counts = progress.counts(job)
        self.stdout.write(status_line(job, counts))
        for label, count in counts["by_outcome"].items():
            self.stdout.write(f"  {label}: {count}")
        if wait:
            follow(job, self.stdout)
