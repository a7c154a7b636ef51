-- The whole schema of a MySQL or MariaDB store (see migrations/README.md).
--
-- MySQL 8.0+ / MariaDB 10.6+ (FOR UPDATE SKIP LOCKED). Times are Unix milliseconds (BIGINT) and
-- ids are text, as on the other backends, so one Diesel schema serves all three.
-- Every text column compares byte for byte (utf8mb4_bin): an identifier never matches another
-- spelling case- or accent-insensitively; the service normalises identifiers itself.
-- Lengths: our ids are UUIDs, but an embedding application's directory may use longer account
-- ids (`user_id` columns take up to 190 characters, the admin API's limit); usernames at most
-- 190 and addresses 254 characters (reset-core's identity limits); counter keys carry an
-- identifier and a short prefix.
CREATE TABLE users (
    id VARCHAR(190) NOT NULL PRIMARY KEY,
    username VARCHAR(190) NOT NULL UNIQUE,
    password_hash TEXT,
    org_id VARCHAR(190) NOT NULL,
    locale VARCHAR(64),
    phone VARCHAR(64),
    password_changed_at BIGINT,
    `sequence` BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    -- A disabled account is still found; the service, not SQL, decides what it may do.
    disabled BOOLEAN NOT NULL DEFAULT FALSE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE user_emails (
    address VARCHAR(254) NOT NULL PRIMARY KEY,
    user_id VARCHAR(190) NOT NULL,
    `position` INTEGER NOT NULL,
    verified BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT user_emails_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX user_emails_user ON user_emails (user_id, `position`);

CREATE TABLE password_history (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    -- No foreign key: with an embedding application's own user directory, accounts live elsewhere.
    user_id VARCHAR(190) NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX password_history_user ON password_history (user_id, created_at);

CREATE TABLE reset_secrets (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    request_id VARCHAR(64) NOT NULL,
    -- No foreign key: accounts may live in an embedding application's own user directory.
    user_id VARCHAR(190) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    secret_hash VARCHAR(128) NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    superseded_at BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    issued_via VARCHAR(64) NOT NULL,
    request_ip VARCHAR(64)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- Ordering requests of one account (see the issue query); MySQL has no partial indexes, so
-- this one also serves the live-secret lookups.
CREATE INDEX reset_secrets_user ON reset_secrets (user_id, request_id);
CREATE INDEX reset_secrets_live ON reset_secrets (user_id, kind, used_at, superseded_at);
CREATE INDEX reset_secrets_request ON reset_secrets (request_id);
-- Retention: lets the sweep find expired secrets without a full scan.
CREATE INDEX reset_secrets_expiry ON reset_secrets (expires_at);

CREATE TABLE rate_limits (
    `key` VARCHAR(320) NOT NULL PRIMARY KEY,
    window_start BIGINT NOT NULL,
    `count` INTEGER NOT NULL,
    -- When the counter's window ends, so the retention sweep can delete the row then (every
    -- write sets it; the default is only a floor).
    expires_at BIGINT NOT NULL DEFAULT 0,
    -- A count is never negative. Rate-limit hits written without locks write -1 into a counter
    -- that moved since it was read, which this refuses, so that the statement writes nothing
    -- (crates/reset-diesel/src/backend/mysql_hits.rs). Enforced from MySQL 8.0.16, MariaDB 10.2.
    CONSTRAINT rate_limits_swap CHECK (`count` >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX rate_limits_expiry ON rate_limits (expires_at);

CREATE TABLE outbox (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id VARCHAR(190),
    kind VARCHAR(32) NOT NULL,
    channel VARCHAR(16) NOT NULL,
    recipient VARCHAR(2048) NOT NULL,
    locale VARCHAR(64) NOT NULL,
    payload MEDIUMTEXT NOT NULL,
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
    decoy BOOLEAN NOT NULL DEFAULT FALSE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX outbox_due ON outbox (sent_at, dead_at, next_attempt_at);
-- Retention: delivered and dead-lettered rows, found without a full scan (no partial indexes).
CREATE INDEX outbox_sent ON outbox (sent_at);
CREATE INDEX outbox_dead ON outbox (dead_at);

CREATE TABLE audit_events (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id VARCHAR(190),
    kind VARCHAR(64) NOT NULL,
    at BIGINT NOT NULL,
    ip VARCHAR(64),
    details MEDIUMTEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX audit_events_user ON audit_events (user_id, at);
-- Retention: old events, found without a full scan.
CREATE INDEX audit_events_at ON audit_events (at);

-- Administrators' bearer tokens: only a keyed hash of each is kept.
CREATE TABLE admin_tokens (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    name VARCHAR(190) NOT NULL,
    token_hash VARCHAR(128) NOT NULL UNIQUE,
    -- Space-separated scopes.
    scopes VARCHAR(255) NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Serialises transactions about one account (see backend/mysql.rs): a row lock on one of a
-- fixed set of slots, taken by an upsert and held until the transaction ends.
CREATE TABLE account_locks (
    slot INTEGER NOT NULL PRIMARY KEY
) ENGINE=InnoDB;
-- 4,096 slots (16 × 16 × 16), filled once: locking an existing row never races an insert.
INSERT INTO account_locks (slot)
SELECT a.n * 256 + b.n * 16 + c.n
FROM (SELECT 0 n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7
      UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12 UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15) a
CROSS JOIN (SELECT 0 n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7
      UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12 UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15) b
CROSS JOIN (SELECT 0 n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7
      UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12 UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15) c;
-- A lock slot of its own for the decoy account: unknown accounts' issue transactions rehearse a
-- known account's against the decoy and take turns on its lock (backend/mysql.rs, `lock_user`),
-- so no real account should share that slot and wait behind them. Real accounts use 0..4095.
INSERT INTO account_locks (slot) VALUES (-1);

-- The decoy: an account and a live code that no request can name (an empty username and
-- address are refused before any lookup). Lookups of an unknown account read the decoy's rows
-- instead, so a known and an unknown account cost the same rows (see backend/mysql_find.rs and
-- queries/issue.rs); nothing ever answers with them.
INSERT INTO users (id, username, password_hash, org_id, locale, phone, password_changed_at, `sequence`, created_at)
VALUES ('00000000-0000-0000-0000-000000000000', '',
        '$argon2id$v=19$m=19456,t=2,p=1$ZGVjb3lkZWNveWRlY295$0000000000000000000000000000000000000000000',
        'default', NULL, NULL, 0, 1, 0);
INSERT INTO user_emails (address, user_id, `position`, verified)
VALUES ('', '00000000-0000-0000-0000-000000000000', 0, FALSE);
INSERT INTO reset_secrets (id, request_id, user_id, kind, secret_hash, created_at, expires_at, used_at, superseded_at, attempts, max_attempts, issued_via, request_ip)
VALUES ('00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000',
        '00000000-0000-0000-0000-000000000000', 'code', 'decoy', 0, 9000000000000000, NULL, NULL, 0, 12, 'decoy', NULL);
