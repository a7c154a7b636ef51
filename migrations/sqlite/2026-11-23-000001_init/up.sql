-- The whole schema of a SQLite store (see migrations/README.md).
--
-- Times are Unix milliseconds (BIGINT) and ids are text, so one Diesel schema serves every
-- backend (crates/reset-diesel/src/schema.rs).

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    org_id TEXT NOT NULL,
    locale TEXT,
    phone TEXT,
    password_changed_at BIGINT,
    sequence BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    -- A disabled account is still found; the service, not SQL, decides what it may do.
    disabled BOOLEAN NOT NULL DEFAULT 0
);

CREATE TABLE user_emails (
    address TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    verified BOOLEAN NOT NULL DEFAULT 0
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
-- Retention: lets the sweep find expired secrets without a full scan.
CREATE INDEX reset_secrets_expiry ON reset_secrets (expires_at);

CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count INTEGER NOT NULL,
    -- When the counter's window ends, so the retention sweep can delete the row then (every
    -- write sets it; the default is only a floor).
    expires_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX rate_limits_expiry ON rate_limits (expires_at);

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
    dead_at BIGINT,
    -- Decoy messages: an unknown account's request queues what a known account's would (one row
    -- per message, webhook events too), marked `decoy`. The outbox worker claims, renders and
    -- marks them sent like real ones but hands them to no transport; the metrics and `outbox
    -- list` leave them out. So the delivery that follows a known account's request has a
    -- counterpart for an unknown one (docs/benchmarks.md, "Known vs unknown").
    decoy BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND dead_at IS NULL;
-- Retention: delivered and dead-lettered rows, found without a full scan.
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_dead ON outbox (dead_at) WHERE dead_at IS NOT NULL;

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    user_id TEXT,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    ip TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_events_user ON audit_events (user_id, at);
-- Retention: old events, found without a full scan.
CREATE INDEX audit_events_at ON audit_events (at);

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

-- The decoy: an account and a live code that no request can name (an empty username and
-- address are refused before any lookup). Lookups of an unknown account read the decoy's rows
-- instead, so a known and an unknown account cost the same rows (see queries/users.rs and
-- queries/secrets.rs); nothing ever answers with them.
INSERT INTO users (id, username, password_hash, org_id, locale, phone, password_changed_at, sequence, created_at)
VALUES ('00000000-0000-0000-0000-000000000000', '',
        '$argon2id$v=19$m=19456,t=2,p=1$ZGVjb3lkZWNveWRlY295$0000000000000000000000000000000000000000000',
        'default', NULL, NULL, 0, 1, 0);
INSERT INTO user_emails (address, user_id, position, verified)
VALUES ('', '00000000-0000-0000-0000-000000000000', 0, FALSE);
INSERT INTO reset_secrets (id, request_id, user_id, kind, secret_hash, created_at, expires_at, used_at, superseded_at, attempts, max_attempts, issued_via, request_ip)
VALUES ('00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000',
        '00000000-0000-0000-0000-000000000000', 'code', 'decoy', 0, 9000000000000000, NULL, NULL, 0, 12, 'decoy', NULL);
