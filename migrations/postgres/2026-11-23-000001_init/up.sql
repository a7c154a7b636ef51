-- Times are Unix milliseconds (BIGINT) so one Diesel schema serves PostgreSQL and SQLite.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    org_id TEXT NOT NULL,
    locale TEXT,
    phone TEXT,
    password_changed_at BIGINT,
    sequence BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE user_emails (
    address TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    verified BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX user_emails_user ON user_emails (user_id, position);

CREATE TABLE password_history (
    id TEXT PRIMARY KEY,
    -- No foreign key: with an embedding application's own user directory, accounts live elsewhere.
    user_id TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, created_at);

CREATE TABLE reset_secrets (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    -- No foreign key: accounts may live in an embedding application's own user directory.
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    superseded_at BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    issued_via TEXT NOT NULL,
    request_ip TEXT
);
-- Ordering requests of one account (see the issue query).
CREATE INDEX reset_secrets_user ON reset_secrets (user_id, request_id);
-- The live secrets of an account: what supersede, completion and code lookup touch.
CREATE INDEX reset_secrets_live ON reset_secrets (user_id, kind) WHERE used_at IS NULL AND superseded_at IS NULL;
CREATE INDEX reset_secrets_request ON reset_secrets (request_id);

CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count INTEGER NOT NULL
);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    user_id TEXT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    locale TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT,
    -- When it (re-)entered the queue; the worker's maximum age counts from here.
    queued_at BIGINT NOT NULL,
    -- The dead-letter state: given up (too old, too many tries, undeliverable).
    dead_at BIGINT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND dead_at IS NULL;

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    user_id TEXT,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    ip TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_events_user ON audit_events (user_id, at);

-- Administrators' bearer tokens: only a keyed hash of each is kept.
CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    -- Space-separated scopes.
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
