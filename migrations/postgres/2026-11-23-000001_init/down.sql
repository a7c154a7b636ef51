-- Everything the init and migrations/postgres-functions.sql create, dependents first. The
-- functions file's record goes too, so the next `migrate` installs the functions again.
DROP FUNCTION IF EXISTS reset_issue_apply(JSONB);
DROP FUNCTION IF EXISTS reset_issue_load(TEXT[], TEXT[], TEXT[], TEXT[]);
DROP FUNCTION IF EXISTS reset_find(TEXT, TEXT[], TEXT[]);
DROP FUNCTION IF EXISTS reset_counters_write(TEXT[], BIGINT[], INTEGER[], BIGINT[], INTEGER[],
                                           BIGINT[], BOOLEAN[], BOOLEAN);
DROP FUNCTION IF EXISTS reset_counters_lock(TEXT[], BOOLEAN);
DROP TABLE IF EXISTS reset_schema_functions;
DROP TABLE admin_tokens;
DROP TABLE audit_events;
DROP TABLE outbox;
DROP TABLE rate_limits;
DROP TABLE reset_secrets;
DROP TABLE password_history;
DROP TABLE user_emails;
DROP TABLE users;
