-- The PostgreSQL store's functions: the request path in one round trip each. Not a migration
-- (diesel sees only the folders under migrations/postgres/): this whole file is run again, in
-- one transaction under an advisory lock, whenever its SHA-256 differs from the one recorded
-- in `reset_schema_functions` (`reset-server migrate`, or serving with migrations on start;
-- crates/reset-diesel/src/migrate.rs). So it must be idempotent: `CREATE OR REPLACE` only, and a
-- function whose arguments or result type change is dropped first (`DROP FUNCTION IF EXISTS`
-- with its old signature): `CREATE OR REPLACE` cannot change a function's return type. See
-- migrations/README.md.
--
-- The rate-limit hits of a request (usually `reset_counters_write` alone), its account lookup
-- (`reset_find`) and its issue transaction (`reset_issue_load`, then `reset_issue_apply`) are one
-- or two function calls each, so a request costs the server a few calls instead of ~20 statements,
-- each a round trip with its own parse and plan. Each takes several requests at once: calls that
-- queue while one runs share the next (crates/reset-diesel/src/backend/batch.rs; the calls are
-- built in backend/pg/calls.rs and backend/pg/issue.rs). SQLite and MySQL run the same reads and
-- writes as statements (crates/reset-diesel/src/queries/); the store contract runs every backend
-- through the same cases.
--
-- No function decides about a request: `reset_issue_load` and `reset_counters_lock` read the
-- facts, Rust plans (reset_core::issue_plan and reset_core::counters, the same for every store)
-- and `reset_issue_apply` and `reset_counters_write` write the plan's rows as they are (the
-- latter checking that what was read still holds, where nothing was locked).
--
-- Every statement a PL/pgSQL function runs pays the executor's start-up, which was a fifth of
-- PostgreSQL's time under load (perf, docs/benchmarks.md): the functions run as few statements
-- as they can (one per batch where the work allows).

-- A code try's counters are locked and read by one call and written by another; rate-limit
-- hits are read without a lock (or remembered from the instance's last write) and written by one
-- call that checks they still hold what was read. reset_core::counters decides in between, with
-- the one fixed-window rule every store uses (crates/reset-diesel/src/queries/limits.rs,
-- backend/pg/counters.rs, backend/pg/hits.rs).
DROP FUNCTION IF EXISTS reset_hit(BIGINT[], INTEGER[], TEXT[], BIGINT[], INTEGER[], INTEGER[],
                                  TEXT[], BIGINT[]);

-- Locks the counters `p_keys` names (sorted by the caller), in key order, so two transactions
-- never wait on each other in a cycle, and reads them. A missing counter is created as a
-- placeholder (count 0, a window long over: reset_core::counters::PLACEHOLDER_START), so that it
-- can be locked: two transactions adding the same new counter must not both read it as absent.
-- The caller writes every counter it locks before it commits. `ON CONFLICT DO UPDATE … WHERE
-- false` locks an existing row without writing a new version of it; the read that follows is a
-- statement of its own, so it sees the version locked, not the call's first snapshot.
-- `p_relax`: the transaction commits without waiting for its WAL flush (rate-limit hits: a
-- database crash may forget the last hits, which only lets a limit restart early).
CREATE OR REPLACE FUNCTION reset_counters_lock(p_keys TEXT[], p_relax BOOLEAN)
RETURNS TABLE (c_key TEXT, c_count INTEGER, c_start BIGINT)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    IF p_relax THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    IF cardinality(p_keys) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO rate_limits AS r (key, window_start, count, expires_at)
    SELECT k, -9223372036854775808, 0, 0 FROM unnest(p_keys) AS k ORDER BY k
    ON CONFLICT (key) DO UPDATE SET count = r.count WHERE false;
    RETURN QUERY SELECT r.key, r.count, r.window_start FROM rate_limits AS r
                 WHERE r.key = ANY (p_keys);
END
$$;

-- Writes counters' values in one statement, in key order, each only where it still holds what
-- the caller read of it: `p_was_counts[i]`/`p_was_starts[i]` (both null: read as absent), or
-- anything with `p_any[i]` (a counter whose lock the caller holds, or one the plan restarts
-- whatever it held). A counter that holds something else, or was created meanwhile, is left
-- alone, and then the whole call fails with SQLSTATE 40001 (serialization_failure), which rolls
-- back what it wrote: the caller reads again and plans again. That is how rate-limit hits run
-- without holding a lock across round trips (crates/reset-diesel/src/backend/pg/hits.rs). A
-- counter read as present and found gone was swept, which only a window that is over is: planned
-- on its old window or on none, a hit gives the same counter
-- (reset_core::counters::Window::add), so it is written. `p_relax`: the transaction commits
-- without waiting for its WAL flush, as `reset_counters_lock` may.
--
-- Dropped first: it gained the columns read and `p_relax` (safe: this file runs in one
-- transaction).
DROP FUNCTION IF EXISTS reset_counters_write(TEXT[], BIGINT[], INTEGER[], BIGINT[]);
CREATE OR REPLACE FUNCTION reset_counters_write(p_keys TEXT[], p_starts BIGINT[],
                                                p_counts INTEGER[], p_ends BIGINT[],
                                                p_was_counts INTEGER[], p_was_starts BIGINT[],
                                                p_any BOOLEAN[], p_relax BOOLEAN)
RETURNS INTEGER
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    written INTEGER;
BEGIN
    IF p_relax THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    INSERT INTO rate_limits AS r (key, window_start, count, expires_at)
    SELECT k, s, c, e FROM unnest(p_keys, p_starts, p_counts, p_ends) AS u(k, s, c, e) ORDER BY k
    ON CONFLICT (key) DO UPDATE SET
        window_start = excluded.window_start, count = excluded.count,
        expires_at = excluded.expires_at
    WHERE EXISTS (SELECT 1 FROM unnest(p_keys, p_was_counts, p_was_starts, p_any)
                                AS w(k, c, s, a)
                  WHERE w.k = r.key AND (w.a OR (w.c = r.count AND w.s = r.window_start)));
    GET DIAGNOSTICS written = ROW_COUNT;
    IF written < cardinality(p_keys) THEN
        RAISE EXCEPTION 'reset_counters_write: a counter moved since it was read'
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN written;
END
$$;

-- The account lookups of one or more requests in one call (crates/reset-diesel/src/backend/
-- pg/calls.rs; the store sends lookups that queue while one runs together, backend/batch.rs).
-- Lookup `i` names `p_names[i]` and/or `p_emails[i]` (either may be null); a row comes back, with
-- `ord` = i, only for a lookup that names an account (both names, when both are given, of the same
-- one). It makes the same reads as `find_user` in crates/reset-diesel/src/queries/users.rs (which
-- SQLite runs as statements; MySQL batches them in backend/mysql_find.rs): one account row and its
-- addresses for every lookup, the decoy's (`p_decoy`, seeded by the init migration) when the names
-- match nothing, so a lookup takes as long for an unknown account as for a known one. A disabled
-- account is found like any other, with `disabled` set: the caller decides what it may do.
--
-- One statement for the whole batch, planned once per connection: Diesel's own prepared
-- lookup (a join ordered by "is the decoy") was planned anew at every call, which cost
-- PostgreSQL more than running it, and a loop of statements per lookup cost twice this.
--
-- Dropped first: its result gained `disabled`, and `CREATE OR REPLACE` cannot change a
-- function's return type (safe: this file runs in one transaction).
DROP FUNCTION IF EXISTS reset_find(TEXT, TEXT[], TEXT[]);
CREATE OR REPLACE FUNCTION reset_find(p_decoy TEXT, p_names TEXT[], p_emails TEXT[])
RETURNS TABLE (ord INTEGER, id TEXT, username TEXT, password_hash TEXT, org_id TEXT,
               locale TEXT, phone TEXT, password_changed_at BIGINT, sequence BIGINT,
               created_at BIGINT, emails TEXT[], disabled BOOLEAN)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY
    WITH found AS MATERIALIZED (
        SELECT l.ord::INTEGER AS ord, u.*,
               -- Asked of every lookup, decoy or not: the same reads either way.
               -- A scalar subquery, not EXISTS: the planner may turn EXISTS into a hash of the
               -- whole table.
               (l.name IS NULL OR l.email IS NULL OR coalesce((
                    SELECT TRUE FROM user_emails AS e
                    WHERE e.address = l.email AND e.user_id = coalesce(u.id, '')), FALSE)) AS owns,
               ARRAY(SELECT e.address FROM user_emails AS e
                     WHERE e.user_id = coalesce(u.id, '') ORDER BY e.position) AS addresses
        FROM unnest(p_names, p_emails) WITH ORDINALITY AS l(name, email, ord)
        LEFT JOIN LATERAL (
            (SELECT x.* FROM users AS x
             WHERE l.name IS NOT NULL AND (x.username = l.name OR x.id = p_decoy)
             ORDER BY x.id = p_decoy LIMIT 1)
            UNION ALL
            -- The decoy's address is the empty string: both on the address index.
            (SELECT x.* FROM users AS x JOIN user_emails AS e ON e.user_id = x.id
             WHERE l.name IS NULL AND (e.address = l.email OR e.address = '')
             ORDER BY x.id = p_decoy LIMIT 1)
        ) AS u ON TRUE
        WHERE l.name IS NOT NULL OR l.email IS NOT NULL
    )
    SELECT f.ord, f.id, f.username, f.password_hash, f.org_id, f.locale, f.phone,
           f.password_changed_at, f.sequence, f.created_at, f.addresses, f.disabled
    FROM found AS f
    WHERE f.owns AND f.id IS NOT NULL AND f.id <> p_decoy;
END
$$;

-- Functions of earlier versions of this file, whose work moved to Rust (the issue plan).
DROP FUNCTION IF EXISTS reset_issue(JSONB);
DROP FUNCTION IF EXISTS reset_over_cap(JSONB, BIGINT, INTEGER);
DROP FUNCTION IF EXISTS reset_count_caps(JSONB, BIGINT, INTEGER);
DROP FUNCTION IF EXISTS reset_peek(TEXT, BIGINT, BIGINT);

-- The load step of a batch of issue transactions (crates/reset-diesel/src/backend/pg/issue.rs):
-- locks every holder of the batch (a known account, or an unknown identifier's stand-in
-- account) in one order, by lock key, so batches of two instances never wait on each other in
-- a cycle (the locks are held to the commit); then reads, in one statement, the facts the plan
-- decides on: which of the requests (`p_request_ids`) have their `reset_requested` audit event
-- (an earlier attempt committed) and which stored secrets; each account's (`p_accounts`) newest
-- request that stored secrets; and the counters `p_keys` name.
CREATE OR REPLACE FUNCTION reset_issue_load(
    p_holders TEXT[],
    p_request_ids TEXT[],
    p_accounts TEXT[],
    p_keys TEXT[]
) RETURNS TABLE (audited TEXT[], issued TEXT[], accounts TEXT[], newest TEXT[],
                 keys TEXT[], counts INTEGER[], starts BIGINT[])
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
-- Index lookups only: a plan made once per connection, while a table is still small, would
-- otherwise keep reading the whole table by the time it is large (`= ANY` of an array whose
-- length the generic plan does not know). Every read here has its index.
SET enable_seqscan = off
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('reset-password'), l.k)
    FROM (SELECT DISTINCT hashtext(h) AS k FROM unnest(p_holders) AS h ORDER BY 1) AS l;
    RETURN QUERY
    SELECT ARRAY(SELECT a.id FROM audit_events AS a WHERE a.id = ANY (p_request_ids)),
           ARRAY(SELECT DISTINCT s.request_id FROM reset_secrets AS s
                 WHERE s.request_id = ANY (p_request_ids)),
           coalesce(n.accounts, '{}'), coalesce(n.newest, '{}'),
           coalesce(c.keys, '{}'), coalesce(c.counts, '{}'), coalesce(c.starts, '{}')
    -- Each account's newest request by one index seek (`reset_secrets_user`): an aggregate
    -- would read every secret a busy account ever had.
    FROM (SELECT array_agg(a.id), array_agg(x.m)
          FROM unnest(p_accounts) AS a(id)
          CROSS JOIN LATERAL (SELECT s.request_id AS m FROM reset_secrets AS s
                              WHERE s.user_id = a.id ORDER BY s.request_id DESC LIMIT 1) AS x
         ) AS n(accounts, newest),
         (SELECT array_agg(r.key), array_agg(r.count), array_agg(r.window_start)
          FROM rate_limits AS r WHERE r.key = ANY (p_keys)) AS c(keys, counts, starts);
END
$$;

-- The apply step of a batch of issue transactions: writes the rows of the batch's plan, built in
-- Rust (crates/reset-diesel/src/issue/writes.rs), as they are, one statement per table: the audit
-- events (each request's `reset_requested` under the request's id), the kills of live secrets
-- stored before the batch (an account's codes, or its other secrets, at the plan's time), the new
-- secrets, the counters' values after the batch, and the outbox rows (messages, webhook events,
-- decoys). Runs in the transaction of `reset_issue_load`, under its locks. Returns the number of
-- rows the plan held.
CREATE OR REPLACE FUNCTION reset_issue_apply(p JSONB) RETURNS INTEGER
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
-- The kills find an account's live secrets by index, however small the table was when the
-- plan was made (see `reset_issue_load`).
SET enable_seqscan = off
AS $$
DECLARE
    written INTEGER;
BEGIN
    IF jsonb_array_length(p->'audits') > 0 THEN
        INSERT INTO audit_events (id, user_id, kind, at, ip, details)
        SELECT a.id, a.user_id, a.kind, a.at, a.ip, a.details
        FROM jsonb_to_recordset(p->'audits')
             AS a(id TEXT, user_id TEXT, kind TEXT, at BIGINT, ip TEXT, details TEXT)
        ON CONFLICT (id) DO NOTHING;
        -- Every event must be this batch's own: one already there means another attempt of a
        -- request of the batch committed after the load read (an attempt whose lookup found
        -- another holder, whose lock this one did not take). Given up as a serialization
        -- failure, the batch is retried, plans again and finds that request done.
        GET DIAGNOSTICS written = ROW_COUNT;
        IF written < jsonb_array_length(p->'audits') THEN
            RAISE EXCEPTION 'a request of the batch was written by another attempt'
                USING ERRCODE = '40001';
        END IF;
    END IF;
    IF jsonb_array_length(p->'kills') > 0 THEN
        UPDATE reset_secrets AS s SET superseded_at = k.at
        FROM jsonb_to_recordset(p->'kills') AS k(account TEXT, code BOOLEAN, at BIGINT)
        WHERE s.user_id = k.account AND (s.kind = 'code') = k.code
          AND s.used_at IS NULL AND s.superseded_at IS NULL;
    END IF;
    IF jsonb_array_length(p->'secrets') > 0 THEN
        INSERT INTO reset_secrets (id, request_id, user_id, kind, secret_hash, created_at,
                                   expires_at, attempts, max_attempts, issued_via, request_ip,
                                   superseded_at)
        SELECT s.id, s.request_id, s.user_id, s.kind, s.secret_hash, s.created_at, s.expires_at,
               s.attempts, s.max_attempts, s.issued_via, s.request_ip, s.superseded_at
        FROM jsonb_to_recordset(p->'secrets')
             AS s(id TEXT, request_id TEXT, user_id TEXT, kind TEXT, secret_hash TEXT,
                  created_at BIGINT, expires_at BIGINT, attempts INTEGER, max_attempts INTEGER,
                  issued_via TEXT, request_ip TEXT, superseded_at BIGINT);
    END IF;
    IF jsonb_array_length(p->'counters') > 0 THEN
        INSERT INTO rate_limits AS r (key, window_start, count, expires_at)
        SELECT c.key, c.window_start, c.count, c.expires_at
        FROM jsonb_to_recordset(p->'counters')
             AS c(key TEXT, window_start BIGINT, count INTEGER, expires_at BIGINT)
        ORDER BY c.key
        ON CONFLICT (key) DO UPDATE SET
            window_start = excluded.window_start, count = excluded.count,
            expires_at = excluded.expires_at;
    END IF;
    IF jsonb_array_length(p->'outbox') > 0 THEN
        INSERT INTO outbox (id, user_id, kind, channel, recipient, locale, payload, created_at,
                            attempts, next_attempt_at, queued_at, decoy)
        SELECT o.id, o.user_id, o.kind, o.channel, o.recipient, o.locale, o.payload,
               o.created_at, o.attempts, o.next_attempt_at, o.queued_at, o.decoy
        FROM jsonb_to_recordset(p->'outbox')
             AS o(id TEXT, user_id TEXT, kind TEXT, channel TEXT, recipient TEXT, locale TEXT,
                  payload TEXT, created_at BIGINT, attempts INTEGER, next_attempt_at BIGINT,
                  queued_at BIGINT, decoy BOOLEAN);
    END IF;
    RETURN jsonb_array_length(p->'audits') + jsonb_array_length(p->'kills')
         + jsonb_array_length(p->'secrets') + jsonb_array_length(p->'counters')
         + jsonb_array_length(p->'outbox');
END
$$;
