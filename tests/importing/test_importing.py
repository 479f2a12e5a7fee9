"""The import commands and the shipped demo data, against a real database."""

import io
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from entitlements import importing
from entitlements.models import Entitlement, EntitlementStatus, Product

DATA = Path(__file__).resolve().parent / "data"

pytestmark = pytest.mark.django_db


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def refused(command: str, *args: str) -> tuple[str, str]:
    """Run a command that must fail; return (its error message, what it printed)."""
    out = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(command, *args, stdout=out)
    return str(excinfo.value), out.getvalue()


@pytest.fixture
def catalogue():
    run("import_catalogue", str(DATA / "catalogue.json"))


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


ENTITLEMENT_HEADER = "entitlementId,accountId,productId,status\n"


# --- Catalogue ------------------------------------------------------------------------------


def test_catalogue_json_creates_products_then_rerun_changes_nothing():
    out = run("import_catalogue", str(DATA / "catalogue.json"))
    assert out.strip() == "products: 6 created, 0 updated, 0 unchanged, 0 refused"
    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    assert (premium.name, premium.provider_id, premium.provider_resource_id) == (
        "Netflix Premium",
        "Netflix_EU_B",
        "BUNDLE_PREMIUM",
    )
    assert (premium.tier, premium.active) == (3, True)
    assert Product.objects.get(opf_id="DisneyPlus_EU_LEGACY").active is False

    out = run("import_catalogue", str(DATA / "catalogue.json"))
    assert out.strip() == "products: 0 created, 0 updated, 6 unchanged, 0 refused"
    assert Product.objects.count() == 6


def test_catalogue_csv_gives_the_same_products_as_json():
    run("import_catalogue", str(DATA / "catalogue.json"))
    from_json = list(Product.objects.values_list("opf_id", "name", "provider_id", "tier", "active"))

    out = run("import_catalogue", str(DATA / "catalogue.csv"))

    assert out.strip() == "products: 0 created, 0 updated, 6 unchanged, 0 refused"
    assert list(Product.objects.values_list("opf_id", "name", "provider_id", "tier", "active")) == (
        from_json
    )


def test_catalogue_counts_an_update_only_when_a_field_changed():
    run("import_catalogue", str(DATA / "catalogue.json"))

    out = run("import_catalogue", str(DATA / "catalogue_changed.json"))

    assert out.strip() == "products: 1 created, 1 updated, 5 unchanged, 0 refused"
    assert Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM").name == "Netflix Premium 4K"


def test_catalogue_keeps_products_the_file_does_not_mention():
    run("import_catalogue", str(DATA / "catalogue_changed.json"))
    run("import_catalogue", str(DATA / "catalogue.json"))
    assert Product.objects.filter(opf_id="Spotify_EU_PREMIUM_DUO").exists()


def test_catalogue_csv_with_bad_rows_names_each_line_and_imports_nothing():
    message, printed = refused("import_catalogue", str(DATA / "catalogue_bad.csv"))

    assert "catalogue_bad.csv refused, nothing imported (4 bad rows)" in message
    assert (
        "line 3, productId: 'Netflix_EU_B_STANDARD' must be providerId_providerResourceId "
        "('Netflix_EU_B_BUNDLE_STANDARD')" in message
    )
    assert "line 4, tier: must be a whole number 0 or more, not '-3'" in message
    assert "line 5, active: must be true or false, not 'maybe'" in message
    assert "line 6, name: is empty" in message
    assert "line 2" not in message
    assert (
        printed.strip()
        == "products: 0 created, 0 updated, 0 unchanged, 4 refused (nothing imported)"
    )
    assert Product.objects.count() == 0


def test_catalogue_json_with_bad_items_names_each_item_and_imports_nothing():
    message, _ = refused("import_catalogue", str(DATA / "catalogue_bad.json"))

    assert "item 2, tier: must be a whole number 0 or more, not 'two'" in message
    assert "item 3, productId: 'Netflix_EU_B_PREMIUM' must be providerId_providerResourceId" in (
        message
    )
    assert "item 4: expected an object, not a list" in message
    assert "item 1" not in message
    assert Product.objects.count() == 0


def test_catalogue_refuses_moving_a_product_in_use_to_another_provider(tmp_path):
    run("import_catalogue", str(DATA / "catalogue.json"))
    run("import_entitlements", str(DATA / "entitlements.json"))
    # The same id split the other way: provider "Netflix_EU_B_BUNDLE", resource "BASIC".
    path = write(
        tmp_path,
        "moved.csv",
        "productId,name,providerId,providerResourceId,tier\n"
        "Netflix_EU_B_BUNDLE_BASIC,Netflix Basic,Netflix_EU_B_BUNDLE,BASIC,1\n",
    )

    message, _ = refused("import_catalogue", path)

    assert "line 2, providerId: Netflix_EU_B_BUNDLE_BASIC belongs to 'Netflix_EU_B'" in message
    assert Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_BASIC").provider_id == "Netflix_EU_B"


# --- Entitlements ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["entitlements.json", "entitlements.csv", "entitlements.jsonl"])
def test_entitlements_import_from_each_format(catalogue, name):
    out = run("import_entitlements", str(DATA / name))

    assert out.strip() == "entitlements: 5 created, 0 updated, 0 unchanged, 0 refused"
    ent = Entitlement.objects.select_related("product").get(opf_id="ENT-1")
    assert ent.account_id == "ACC-1"
    assert ent.product.opf_id == "Netflix_EU_B_BUNDLE_STANDARD"
    assert ent.provider_id == "Netflix_EU_B"  # from the product
    assert ent.status == EntitlementStatus.ACTIVE
    assert (ent.version, ent.pending_product, ent.needs_review) == (1, None, False)
    assert Entitlement.objects.get(opf_id="ENT-4").status == EntitlementStatus.ACTIVE_ENDING


def test_entitlements_rerun_is_idempotent(catalogue):
    run("import_entitlements", str(DATA / "entitlements.json"))
    before = list(Entitlement.objects.values_list("opf_id", "product_id", "status", "version"))

    out = run("import_entitlements", str(DATA / "entitlements.csv"))

    assert out.strip() == "entitlements: 0 created, 0 updated, 5 unchanged, 0 refused"
    assert list(Entitlement.objects.values_list("opf_id", "product_id", "status", "version")) == (
        before
    )


def test_version_bumps_once_on_a_real_change_only(catalogue):
    run("import_entitlements", str(DATA / "entitlements.csv"))
    imported_at = dict(Entitlement.objects.values_list("opf_id", "updated_at"))

    out = run("import_entitlements", str(DATA / "entitlements_changed.csv"))

    assert out.strip() == "entitlements: 1 created, 2 updated, 3 unchanged, 0 refused"
    versions = dict(Entitlement.objects.values_list("opf_id", "version"))
    assert versions == {"ENT-1": 2, "ENT-2": 1, "ENT-3": 2, "ENT-4": 1, "ENT-5": 1, "ENT-6": 1}
    updated_at = dict(Entitlement.objects.values_list("opf_id", "updated_at"))
    assert updated_at["ENT-1"] > imported_at["ENT-1"]
    assert updated_at["ENT-2"] == imported_at["ENT-2"]
    assert Entitlement.objects.get(opf_id="ENT-1").product.opf_id == "Netflix_EU_B_BUNDLE_PREMIUM"
    assert Entitlement.objects.get(opf_id="ENT-3").status == EntitlementStatus.ACTIVE

    out = run("import_entitlements", str(DATA / "entitlements_changed.csv"))

    assert out.strip() == "entitlements: 0 created, 0 updated, 6 unchanged, 0 refused"
    assert dict(Entitlement.objects.values_list("opf_id", "version")) == versions


def test_reimport_keeps_a_change_awaiting_confirmation(catalogue):
    run("import_entitlements", str(DATA / "entitlements.csv"))
    since = timezone.now()
    premium = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM")
    basic = Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_BASIC")
    # ENT-1 is waiting for the provider to confirm Standard -> Basic; OPF now reports Premium.
    Entitlement.objects.filter(opf_id="ENT-1").update(
        pending_product=basic, pending_since=since, version=4
    )

    run("import_entitlements", str(DATA / "entitlements_changed.csv"))

    ent = Entitlement.objects.get(opf_id="ENT-1")
    assert ent.product == premium  # OPF is the source of truth
    assert (ent.pending_product, ent.pending_since) == (basic, since)
    assert ent.version == 5


def test_provider_follows_the_product(catalogue, tmp_path):
    path = write(tmp_path, "e.csv", ENTITLEMENT_HEADER + "ENT-9,ACC-9,DisneyPlus_EU_BASIC,ACTIVE\n")
    run("import_entitlements", path)
    assert Entitlement.objects.get(opf_id="ENT-9").provider_id == "DisneyPlus_EU"


def test_entitlements_csv_with_bad_rows_names_each_line_and_imports_nothing(catalogue):
    message, printed = refused("import_entitlements", str(DATA / "entitlements_bad.csv"))

    assert "entitlements_bad.csv refused, nothing imported (7 bad rows)" in message
    problems = message.splitlines()[1:]
    assert problems == [
        "  line 3, productId: 'Hulu_US_BASIC' is not in the catalogue",
        "  line 4, status: 'ACTIV' is not one of SUBSCRIBED, UNSUBSCRIBED, SUSPENDED, PENDING, "
        "ACTIVE, ACTIVE-ENDING, CANCELLED, REVOKED",
        "  line 6, entitlementId: cannot be '..'",
        "  line 7, accountId: ' ACC-4' has leading or trailing whitespace",
        "  line 8, entitlementId: 'ENT-1' appears earlier in the file",
        "  line 10, entitlementId: 'ENT-5\\n' contains the control or invisible character U+000A",
        "  line 11: has 3 values; the header has 4 columns",
    ]
    assert "7 refused (nothing imported)" in printed
    assert Entitlement.objects.count() == 0


def test_entitlements_json_with_bad_items_names_each_item_and_imports_nothing(catalogue):
    message, _ = refused("import_entitlements", str(DATA / "entitlements_bad.json"))

    assert message.splitlines()[1:] == [
        "  item 2, entitlementId: 'ENT-\\x072' contains the control or invisible character U+0007",
        "  item 3, status: is missing",
        "  item 4, accountId: must be text, not a number",
        "  item 5, productId: 'Netflix_EU_B\\u200b_BUNDLE_BASIC' contains the control or "
        "invisible character U+200B",
    ]
    assert Entitlement.objects.count() == 0


def test_unknown_product_refuses_the_file(catalogue, tmp_path):
    path = write(
        tmp_path,
        "e.csv",
        ENTITLEMENT_HEADER
        + "ENT-1,ACC-1,Netflix_EU_B_BUNDLE_BASIC,ACTIVE\n"
        + "ENT-2,ACC-1,Netflix_EU_B_BUNDLE_ULTRA,ACTIVE\n",
    )
    message, _ = refused("import_entitlements", path)
    assert "line 3, productId: 'Netflix_EU_B_BUNDLE_ULTRA' is not in the catalogue" in message
    assert Entitlement.objects.count() == 0


def test_entitlements_need_the_catalogue_first():
    message, _ = refused("import_entitlements", str(DATA / "entitlements.json"))
    assert "item 1, productId: 'Netflix_EU_B_BUNDLE_STANDARD' is not in the catalogue" in message


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "is empty"),
        (" ENT-1", "has leading or trailing whitespace"),
        ("ENT-1\t", "contains the control or invisible character U+0009"),
        ("ENT\x00-1", "contains the control or invisible character U+0000"),
        ("ENT\x7f-1", "contains the control or invisible character U+007F"),
        ("ENT\u202e-1", "contains the control or invisible character U+202E"),
        (".", "cannot be '.'"),
        ("..", "cannot be '..'"),
        ("E" * 201, "is 201 characters long; at most 200 are allowed"),
    ],
)
def test_entitlement_ids_are_checked(catalogue, tmp_path, value, problem):
    row = {"entitlementId": value, "accountId": "A", "productId": "DisneyPlus_EU_BASIC"}
    path = write(tmp_path, "e.json", json.dumps([{**row, "status": "ACTIVE"}]))
    message, _ = refused("import_entitlements", path)
    assert "item 1, entitlementId: " in message
    assert problem in message
    assert Entitlement.objects.count() == 0


def test_an_id_of_exactly_the_maximum_length_is_accepted(catalogue, tmp_path):
    longest = "E" * 200
    path = write(
        tmp_path, "e.csv", ENTITLEMENT_HEADER + f"{longest},ACC-1,DisneyPlus_EU_BASIC,ACTIVE\n"
    )
    run("import_entitlements", path)
    assert Entitlement.objects.filter(opf_id=longest).exists()


def test_a_refused_file_lists_the_first_problems_and_counts_the_rest(catalogue, tmp_path):
    rows = "".join(f"ENT-{n},ACC-1,DisneyPlus_EU_BASIC,active\n" for n in range(30))
    message, _ = refused("import_entitlements", write(tmp_path, "e.csv", ENTITLEMENT_HEADER + rows))
    assert "(30 bad rows)" in message
    assert "line 2, status" in message and "line 21, status" in message
    assert "line 22," not in message
    assert message.endswith("... and 10 more bad rows")


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("e.xml", "<entitlements/>", "file: unknown file type '.xml'"),
        ("e.csv", "", "line 1: the file is empty"),
        (
            "e.csv",
            "entitlementId,accountId,status\n",
            "line 1, header: missing column(s): productId",
        ),
        (
            "e.csv",
            "entitlementId,accountId,productId,status,status\n",
            "line 1, header: column(s) named twice: status",
        ),
        ("e.json", '[{"entitlementId": "ENT-1",]', "line 1: not valid JSON"),
        ("e.json", '{"entitlementId": "ENT-1"}', "file: expected a JSON list of objects"),
    ],
)
def test_files_of_the_wrong_shape_are_refused(catalogue, tmp_path, name, text, problem):
    message, printed = refused("import_entitlements", write(tmp_path, name, text))
    assert problem in message
    assert printed.strip() == "entitlements: file refused (nothing imported)"
    assert Entitlement.objects.count() == 0


def test_json_lines_name_the_line_of_each_bad_row(catalogue, tmp_path):
    good = '{"entitlementId": "ENT-1", "accountId": "A", "productId": "DisneyPlus_EU_BASIC", '
    text = good + '"status": "ACTIVE"}\n\n{"entitlementId": "ENT-2"\n' + good + '"status": 1}\n'
    message, printed = refused("import_entitlements", write(tmp_path, "e.jsonl", text))
    assert message.splitlines()[1:] == [
        "  line 3: not valid JSON: Expecting ',' delimiter",
        "  line 4, status: 1 is not one of SUBSCRIBED, UNSUBSCRIBED, SUSPENDED, PENDING, ACTIVE, "
        "ACTIVE-ENDING, CANCELLED, REVOKED",
    ]
    assert "2 refused (nothing imported)" in printed
    assert Entitlement.objects.count() == 0


def test_a_missing_file_is_refused():
    message, _ = refused("import_catalogue", str(DATA / "no-such-file.json"))
    assert "no-such-file.json refused, nothing imported:\n  file: cannot be read" in message


def test_csv_tolerates_a_byte_order_mark_and_extra_columns(catalogue, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(
        "entitlementId,accountId,productId,status,validFrom\n"
        "ENT-1,ACC-1,DisneyPlus_EU_BASIC,ACTIVE,2026-01-01\n",
        encoding="utf-8-sig",
    )
    out = run("import_entitlements", str(path))
    assert out.strip() == "entitlements: 1 created, 0 updated, 0 unchanged, 0 refused"


# --- Concurrency: the import against an agent's change in another connection ----------------


def _in_thread(target):
    """Run `target` in a thread with its own database connection; return (thread, errors)."""
    errors = []

    def run_target():
        try:
            target()
        except Exception as exc:  # surfaced by the test
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run_target, daemon=True)
    thread.start()
    return thread, errors


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_during_the_import_keeps_its_version_bump():
    run("import_catalogue", str(DATA / "catalogue.json"))
    run("import_entitlements", str(DATA / "entitlements.csv"))
    locked, release = threading.Event(), threading.Event()

    def agent_change():
        # As change_product does: lock the row, bump the version, commit a little later.
        with transaction.atomic():
            Entitlement.objects.select_for_update().get(opf_id="ENT-1")
            locked.set()
            release.wait(10)
            Entitlement.objects.filter(opf_id="ENT-1").update(version=7)

    agent, agent_errors = _in_thread(agent_change)
    assert locked.wait(10)
    importer, import_errors = _in_thread(
        lambda: importing.import_entitlements(path=DATA / "entitlements_changed.csv")
    )
    time.sleep(0.5)  # the import reaches ENT-1 and waits for the agent's lock
    release.set()
    agent.join(10)
    importer.join(30)

    assert not agent_errors and not import_errors and not importer.is_alive()
    ent = Entitlement.objects.get(opf_id="ENT-1")
    assert (ent.product.opf_id, ent.version) == ("Netflix_EU_B_BUNDLE_PREMIUM", 8)


@pytest.mark.django_db(transaction=True)
def test_the_import_does_not_wait_for_rows_it_leaves_unchanged():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite locks the whole database for any write transaction")
    run("import_catalogue", str(DATA / "catalogue.json"))
    run("import_entitlements", str(DATA / "entitlements.csv"))
    locked, release = threading.Event(), threading.Event()

    def agent_holds_unchanged_row():
        with transaction.atomic():
            Entitlement.objects.select_for_update().get(opf_id="ENT-2")  # same in both files
            locked.set()
            release.wait(10)

    agent, _ = _in_thread(agent_holds_unchanged_row)
    assert locked.wait(10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # waiting would fail the import
        report = importing.import_entitlements(path=DATA / "entitlements_changed.csv")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
        release.set()
        agent.join(10)
    assert (report.created, report.updated, report.unchanged) == (1, 2, 3)


# --- Dry run --------------------------------------------------------------------------------


def test_dry_run_counts_but_writes_nothing(catalogue):
    out = run("import_catalogue", str(DATA / "catalogue_changed.json"), "--dry-run")
    assert out.strip() == (
        "products: 1 created, 1 updated, 5 unchanged, 0 refused (dry run: nothing written)"
    )
    assert not Product.objects.filter(opf_id="Spotify_EU_PREMIUM_DUO").exists()
    assert Product.objects.get(opf_id="Netflix_EU_B_BUNDLE_PREMIUM").name == "Netflix Premium"

    out = run("import_entitlements", str(DATA / "entitlements.csv"), "--dry-run")
    assert out.strip().startswith("entitlements: 5 created, 0 updated")
    assert Entitlement.objects.count() == 0

    run("import_entitlements", str(DATA / "entitlements.csv"))
    before = list(Entitlement.objects.values_list("opf_id", "product_id", "status", "version"))
    out = run("import_entitlements", str(DATA / "entitlements_changed.csv"), "--dry-run")
    assert out.strip() == (
        "entitlements: 1 created, 2 updated, 3 unchanged, 0 refused (dry run: nothing written)"
    )
    assert list(Entitlement.objects.values_list("opf_id", "product_id", "status", "version")) == (
        before
    )


def test_dry_run_of_a_bad_file_fails_like_a_real_run(catalogue):
    message, _ = refused("import_entitlements", str(DATA / "entitlements_bad.csv"), "--dry-run")
    assert "line 3, productId" in message


# --- Chunks ---------------------------------------------------------------------------------


def test_chunks_add_up_and_a_bad_row_in_a_late_chunk_refuses_the_whole_file(catalogue, tmp_path):
    rows = [f"ENT-{n},ACC-{n % 7},DisneyPlus_EU_BASIC,ACTIVE\n" for n in range(11)]
    good = write(tmp_path, "good.csv", ENTITLEMENT_HEADER + "".join(rows))

    report = importing.import_entitlements(path=good, chunk_size=3)
    assert (report.created, report.updated, report.unchanged) == (11, 0, 0)

    rows[4] = "ENT-4,ACC-4,DisneyPlus_EU_PREMIUM,ACTIVE\n"
    rows.append("ENT-11,ACC-4,DisneyPlus_EU_BASIC,ACTIVE\n")
    changed = write(tmp_path, "changed.csv", ENTITLEMENT_HEADER + "".join(rows))
    report = importing.import_entitlements(path=changed, chunk_size=3)
    assert (report.created, report.updated, report.unchanged) == (1, 1, 10)

    # Duplicates across chunks are caught too, and nothing of the earlier chunks is written.
    bad = write(
        tmp_path,
        "bad.csv",
        ENTITLEMENT_HEADER
        + "".join(f"NEW-{n},ACC-1,DisneyPlus_EU_BASIC,ACTIVE\n" for n in range(7))
        + "NEW-0,ACC-1,DisneyPlus_EU_BASIC,ACTIVE\n",
    )
    with pytest.raises(importing.ImportRefused) as excinfo:
        importing.import_entitlements(path=bad, chunk_size=3)
    assert [str(p) for p in excinfo.value.problems] == [
        "line 9, entitlementId: 'NEW-0' appears earlier in the file"
    ]
    assert not Entitlement.objects.filter(opf_id__startswith="NEW-").exists()


# --- Demo data ------------------------------------------------------------------------------


def test_the_demo_data_loads_cleanly_and_again_changes_nothing():
    out = run("load_demo_data")
    lines = out.strip().splitlines()
    assert lines[0].startswith("products: ") and lines[0].endswith(
        ", 0 updated, 0 unchanged, 0 refused"
    )
    assert lines[1].startswith("entitlements: ") and " 0 refused" in lines[1]

    tiers = Counter(Product.objects.filter(active=True).values_list("provider_id", flat=True))
    assert len(tiers) >= 3
    assert all(count >= 3 for count in tiers.values())
    assert Product.objects.filter(active=False).exists()
    assert Entitlement.objects.count() >= 200
    statuses = Counter(Entitlement.objects.values_list("status", flat=True))
    assert statuses.most_common(1)[0][0] == EntitlementStatus.ACTIVE
    assert set(statuses) == set(EntitlementStatus.values)
    held = Counter(Entitlement.objects.values_list("account_id", flat=True))
    assert max(held.values()) >= 3

    again = run("load_demo_data").strip().splitlines()
    assert " 0 created, 0 updated, " in again[0] and " 0 created, 0 updated, " in again[1]


def test_the_memorable_demo_entitlements_are_as_documented():
    run("load_demo_data")

    def entitlement(opf_id):
        ent = Entitlement.objects.select_related("product").get(opf_id=opf_id)
        return ent.account_id, ent.product.opf_id, ent.status

    assert entitlement("ENT-000001") == ("ACC-10001", "Netflix_EU_B_BUNDLE_STANDARD", "ACTIVE")
    assert entitlement("ENT-000002") == ("ACC-10001", "DisneyPlus_EU_STANDARD", "ACTIVE")
    assert entitlement("ENT-000004")[2] == "CANCELLED"
    assert entitlement("ENT-000005")[2] == "REVOKED"
    legacy = Entitlement.objects.get(opf_id="ENT-000006").product
    assert (legacy.opf_id, legacy.active) == ("Netflix_EU_B_BUNDLE_MOBILE", False)
    assert entitlement("ENT-000007")[1:] == ("Netflix_EU_B_BUNDLE_PREMIUM", "ACTIVE")
    assert Product.objects.filter(opf_id="Netflix_EU_B_BUNDLE_PREMIUM", active=True).exists()
    readme = (importing.DEMO_DATA_DIR / "README.md").read_text(encoding="utf-8")
    for opf_id in [f"ENT-00000{n}" for n in range(1, 10)]:
        assert opf_id in readme


def test_the_committed_demo_data_is_what_the_generator_writes():
    script = importing.DEMO_DATA_DIR / "generate.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
