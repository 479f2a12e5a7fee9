from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from entitlements import importing


class Command(BaseCommand):
    help = (
        "Create or update products from an OPF catalogue export (.csv, .json or .jsonl) with "
        "fields productId, name, providerId, providerResourceId, tier and optionally active. "
        "Any bad row refuses the whole file."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", type=Path, help="the export file; its extension picks the format"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count, write nothing"
        )

    def handle(self, *, path: Path, dry_run: bool, **options):
        try:
            report = importing.import_catalogue(path=path, dry_run=dry_run)
        except importing.ImportRefused as exc:
            self.stdout.write(exc.report.summary())
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.summary())
