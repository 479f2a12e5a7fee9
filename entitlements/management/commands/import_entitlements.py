from entitlements import importing
from entitlements.management.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Create or update entitlements from an OPF export (.csv, .json or .jsonl; use .csv or "
        ".jsonl for millions of rows) with fields entitlementId, accountId, productId, status. "
        "Import the catalogue first. Any bad row refuses the whole file."
    )
    import_file = importing.import_entitlements
