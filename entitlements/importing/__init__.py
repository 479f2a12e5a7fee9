"""Loading the mirror from OPF exports: the catalogue (products) and the entitlements.

Files are chosen by extension: `.csv` (header line = field names, UTF-8, a BOM is tolerated),
`.json` (one list of objects) or `.jsonl` (one object per line). CSV and JSON Lines are read a
row at a time; a `.json` file is parsed whole by `json.load`, which is fine up to a few hundred
MB. For bigger exports (a million entitlements) use CSV or JSON Lines.

Every import makes two passes over the file:

1. Validation: every row is checked (fields, identifiers, statuses, products known). Any bad row
   refuses the whole file: `ImportRefused` lists the bad rows and nothing is written.
2. Writing: the file is read again and, in one transaction, upserted by OPF id in chunks (one
   query finds the existing rows of a chunk, then one bulk insert and batched updates).

Two passes, because a streamed file is never held in memory, yet a bad row at its end must
neither leave half a file in the database nor hold a long write transaction open for a file
that is going to be refused. Rows the file does not mention are left as they are.

Modules: readers (CSV, JSON, JSON Lines), rows (the checks of one row), report (what an import
tells), engine (the two passes), catalogue, entitlements, demo (the shipped demo data).
"""

from entitlements.importing.catalogue import import_catalogue
from entitlements.importing.demo import DEMO_DATA_DIR, load_demo_data
from entitlements.importing.engine import CHUNK_SIZE
from entitlements.importing.entitlements import import_entitlements
from entitlements.importing.report import ImportRefused, ImportReport, Problem

__all__ = [
    "CHUNK_SIZE",
    "DEMO_DATA_DIR",
    "ImportRefused",
    "ImportReport",
    "Problem",
    "import_catalogue",
    "import_entitlements",
    "load_demo_data",
]
