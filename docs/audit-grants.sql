-- The application's PostgreSQL role (docs/audit.md, "What the database enforces").
-- Run as the owner of the schema after every `manage.py migrate` (it is idempotent):
--
--     psql "$OWNER_DATABASE_URL" -v app_role=careportal_app -f docs/audit-grants.sql
--
-- The role owns nothing, so it cannot disable the audit triggers; it may read and write the
-- portal's tables, but never delete or truncate an audit record or a seal, nor rewrite a seal.
-- Then `manage.py check_audit_grants`, run with the app's DATABASE_URL, proves it.
GRANT USAGE ON SCHEMA public TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";
REVOKE DELETE, TRUNCATE ON
    entitlements_changeattempt, entitlements_notificationdelivery,
    entitlements_seal, entitlements_chainhead, entitlements_reviewmark
    FROM :"app_role";
REVOKE UPDATE ON entitlements_seal, entitlements_reviewmark FROM :"app_role";
