"""The shipped demo catalogue and entitlements (entitlements/demo_data)."""

from pathlib import Path

from django.db import transaction

from entitlements.importing.catalogue import import_catalogue
from entitlements.importing.entitlements import import_entitlements
from entitlements.importing.report import ImportReport

DEMO_DATA_DIR = Path(__file__).resolve().parent.parent / "demo_data"


def load_demo_data() -> list[ImportReport]:
    """Import the shipped demo catalogue and the demo entitlements not in the mirror yet.

    The files seed a fresh demo. After that the mirror follows OPF (the sandbox keeps its own
    state across restarts, --state), so an entitlement already in the mirror is left as it is:
    re-importing the file would put a changed one back on its old tier while its history and
    OPF say otherwise. `bin/demo --reset` starts both sides over from the files.
    """
    with transaction.atomic():
        return [
            import_catalogue(path=DEMO_DATA_DIR / "catalogue.json"),
            import_entitlements(path=DEMO_DATA_DIR / "entitlements.json", only_new=True),
        ]
