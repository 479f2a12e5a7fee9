"""Issue 9 (integrity): facts ordered by occurredAt; OPF's answers kept whatever bytes they hold.

- `ChangeAttempt.response_bytes`: the exact bytes of OPF's answer (NUL, invalid UTF-8), beside
  its text rendering in `response_body` (which a PostgreSQL text column can hold).

Notifications are ordered by what OPF says happened: `Entitlement.product_reported_at` now also
holds the time OPF answered a change the portal completed (before, each notification looked the
completed changes up, by their finished_at). Entitlements changed before this migration get it
from their newest completed portal change.
"""

from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Greatest

# Frozen: entitlements.models.ChangeOrigin.PORTAL and Outcome.COMPLETED as written.
PORTAL = "portal"
COMPLETED = "completed"


def backfill_product_reported_at(apps, schema_editor):
    Entitlement = apps.get_model("entitlements", "Entitlement")
    ChangeAttempt = apps.get_model("entitlements", "ChangeAttempt")
    newest_completed = Subquery(
        ChangeAttempt.objects.filter(
            entitlement=OuterRef("pk"), origin=PORTAL, outcome=COMPLETED
        )
        .order_by()
        .values("entitlement")
        .annotate(newest=Max("finished_at"))
        .values("newest")[:1]
    )
    completed = Entitlement.objects.filter(
        pk__in=ChangeAttempt.objects.filter(origin=PORTAL, outcome=COMPLETED).values(
            "entitlement"
        )
    )
    completed.filter(product_reported_at__isnull=True).update(
        product_reported_at=newest_completed
    )
    completed.filter(product_reported_at__isnull=False).update(
        product_reported_at=Greatest("product_reported_at", newest_completed)
    )


class Migration(migrations.Migration):
    dependencies = [("entitlements", "0008_audit_seals")]

    operations = [
        migrations.RunPython(backfill_product_reported_at, migrations.RunPython.noop),
        migrations.AddField(
            model_name="changeattempt",
            name="response_bytes",
            field=models.BinaryField(
                blank=True, default=b"", verbose_name="OPF response (exact bytes)"
            ),
        ),
    ]
