"""The shipped demo catalogue and entitlements (entitlements/demo_data)."""

from pathlib import Path

from django.db import transaction

from entitlements.importing.catalogue import import_catalogue
from entitlements.importing.entitlements import import_entitlements
from entitlements.importing.report import ImportReport

DEMO_DATA_DIR = Path(__file__).resolve().parent.parent / "demo_data"


def load_demo_data() -> list[ImportReport]:
    """Import the shipped demo catalogue and entitlements, both or neither."""
    with transaction.atomic():
        return [
            import_catalogue(path=DEMO_DATA_DIR / "catalogue.json"),
            import_entitlements(path=DEMO_DATA_DIR / "entitlements.json"),
        ]
