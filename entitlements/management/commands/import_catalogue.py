from entitlements import importing
from entitlements.management.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Create or update products from an OPF catalogue export (.csv, .json or .jsonl) with "
        "fields productId, name, providerId, providerResourceId, tier and optionally active. "
        "Any bad row refuses the whole file."
    )
    import_file = importing.import_catalogue
