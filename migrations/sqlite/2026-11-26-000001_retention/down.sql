DROP INDEX audit_events_at;
DROP INDEX outbox_dead;
DROP INDEX outbox_sent;
DROP INDEX reset_secrets_expiry;
DROP INDEX rate_limits_expiry;
ALTER TABLE rate_limits DROP COLUMN expires_at;
