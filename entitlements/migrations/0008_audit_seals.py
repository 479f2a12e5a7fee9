"""The audit's hash chain (issue 14): the seal table and its one-row head.

On PostgreSQL row triggers make the seal table append-only (every UPDATE and DELETE refused)
and let the head only move forward one link at a time. TRUNCATE stays with the schema owner
(test database flushes use it); the app's role is granted none (docs/audit.md).
"""

from django.db import migrations, models

TRIGGERS = """
CREATE OR REPLACE FUNCTION entitlements_seal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'seals are append-only: % of seal % refused', lower(TG_OP), OLD.sequence
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER entitlements_seal_append_only
    BEFORE UPDATE OR DELETE ON entitlements_seal
    FOR EACH ROW EXECUTE FUNCTION entitlements_seal_append_only();

CREATE OR REPLACE FUNCTION entitlements_chainhead_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.id <> OLD.id OR NEW.sequence <> OLD.sequence + 1
        OR NEW.prev_hash <> OLD.hash
    THEN
        RAISE EXCEPTION 'the chain head only moves forward one seal at a time'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER entitlements_chainhead_forward_only
    BEFORE UPDATE OR DELETE ON entitlements_chainhead
    FOR EACH ROW EXECUTE FUNCTION entitlements_chainhead_forward_only();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS entitlements_seal_append_only ON entitlements_seal;
DROP FUNCTION IF EXISTS entitlements_seal_append_only();
DROP TRIGGER IF EXISTS entitlements_chainhead_forward_only ON entitlements_chainhead;
DROP FUNCTION IF EXISTS entitlements_chainhead_forward_only();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGERS, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("entitlements", "0007_daily_change_stats"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sequence", models.BigIntegerField()),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="Seal",
            fields=[
                ("sequence", models.BigIntegerField(primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=40)),
                ("subject_table", models.CharField(max_length=63)),
                ("subject_pk", models.BigIntegerField()),
                ("sealed_at", models.DateTimeField(db_index=True)),
                ("content", models.TextField()),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64)),
            ],
            options={
                "ordering": ["sequence"],
                "indexes": [models.Index(fields=["subject_table", "subject_pk", "sequence"], name="seal_subject")],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
