DROP INDEX audit_events_at ON audit_events;
DROP INDEX outbox_dead ON outbox;
DROP INDEX outbox_sent ON outbox;
DROP INDEX reset_secrets_expiry ON reset_secrets;
DROP INDEX rate_limits_expiry ON rate_limits;
ALTER TABLE rate_limits DROP COLUMN expires_at;
