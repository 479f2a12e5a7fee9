"""On PostgreSQL the database itself keeps the audit append-only.

Row triggers refuse every DELETE of a change attempt and every UPDATE of a finished one; while
a change is unfinished only its outcome columns may change, never who, what or why. TRUNCATE
is left to the schema owner (test database flushes use it); the app's role should not be
granted it in production (see README).
"""

from django.db import migrations

# entitlements.outcomes.FINISHED as it was when this was written, frozen: a later change of the
# vocabulary needs a new migration, not a silent difference between old and new databases.
_FINISHED = "'completed', 'confirmed', 'declined', 'not_found', 'not_sent', 'rejected'"

CREATE = f"""
CREATE OR REPLACE FUNCTION entitlements_changeattempt_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit records are append-only: delete of % refused', OLD.correlation_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.outcome IN ({_FINISHED}) THEN
        RAISE EXCEPTION 'audit record % is finished: update refused', OLD.correlation_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.correlation_id IS DISTINCT FROM OLD.correlation_id
        OR NEW.created_at IS DISTINCT FROM OLD.created_at
        OR NEW.origin IS DISTINCT FROM OLD.origin
        OR NEW.user_id IS DISTINCT FROM OLD.user_id
        OR NEW.actor_username IS DISTINCT FROM OLD.actor_username
        OR NEW.actor_subject IS DISTINCT FROM OLD.actor_subject
        OR NEW.entitlement_id IS DISTINCT FROM OLD.entitlement_id
        OR NEW.entitlement_opf_id IS DISTINCT FROM OLD.entitlement_opf_id
        OR NEW.account_id IS DISTINCT FROM OLD.account_id
        OR NEW.from_product_id IS DISTINCT FROM OLD.from_product_id
        OR NEW.to_product_id IS DISTINCT FROM OLD.to_product_id
        OR NEW.reason_code IS DISTINCT FROM OLD.reason_code
        OR NEW.comment IS DISTINCT FROM OLD.comment
    THEN
        RAISE EXCEPTION 'audit record %: who, what and why never change', OLD.correlation_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER entitlements_changeattempt_append_only
    BEFORE UPDATE OR DELETE ON entitlements_changeattempt
    FOR EACH ROW EXECUTE FUNCTION entitlements_changeattempt_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS entitlements_changeattempt_append_only ON entitlements_changeattempt;
DROP FUNCTION IF EXISTS entitlements_changeattempt_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("entitlements", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
