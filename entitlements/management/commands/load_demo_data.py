from django.core.management.base import BaseCommand, CommandError

from entitlements import importing


class Command(BaseCommand):
    help = (
        "Import the shipped demo catalogue and entitlements (entitlements/demo_data/), the same "
        "files the OPF sandbox starts from. Safe to re-run: entitlements already in the mirror "
        "are kept as they are."
    )

    def handle(self, **options):
        try:
            reports = importing.load_demo_data()
        except importing.ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        for report in reports:
            self.stdout.write(report.summary())
