"""What import_catalogue and import_entitlements share: a path, --dry-run, a one-line report."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from entitlements import importing


class ImportCommand(BaseCommand):
    # importing.import_catalogue or importing.import_entitlements
    import_file = None

    def add_arguments(self, parser):
        parser.add_argument(
            "path", type=Path, help="the export file; its extension picks the format"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count, write nothing"
        )

    def handle(self, *, path: Path, dry_run: bool, **options):
        try:
            report = type(self).import_file(path=path, dry_run=dry_run)
        except importing.ImportRefused as exc:
            self.stdout.write(exc.report.summary())
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.summary())
