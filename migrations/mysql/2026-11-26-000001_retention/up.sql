-- Retention: each counter row knows when its window ends, so the sweep can delete it then;
-- indexes let the sweep find old rows of every table without a full scan.
ALTER TABLE rate_limits ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
UPDATE rate_limits SET expires_at = window_start + 86400000;
CREATE INDEX rate_limits_expiry ON rate_limits (expires_at);
CREATE INDEX reset_secrets_expiry ON reset_secrets (expires_at);
CREATE INDEX outbox_sent ON outbox (sent_at);
CREATE INDEX outbox_dead ON outbox (dead_at);
CREATE INDEX audit_events_at ON audit_events (at);
