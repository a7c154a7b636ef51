-- The PostgreSQL store's functions: the request path in one round trip each. Not a migration
-- (diesel sees only the folders under migrations/postgres/): this whole file is run again, in
-- one transaction under an advisory lock, whenever its SHA-256 differs from the one recorded
-- in `reset_schema_functions` (`reset-server migrate`, or serving with migrations on start;
-- crates/reset-diesel/src/migrate.rs). So it must be idempotent: `CREATE OR REPLACE` only, and a
-- function whose arguments or result type change is dropped first (`DROP FUNCTION IF EXISTS`
-- with its old signature): `CREATE OR REPLACE` cannot change a function's return type. See
-- migrations/README.md.
--
-- The rate-limit hits of a request (`reset_hit`), its account lookup (`reset_find`) and its
-- issue transaction (`reset_issue`) are one function call each, so a request costs the server a
-- few calls instead of ~20 statements, each a round trip with its own parse and plan. Each takes
-- several requests at once: calls that queue while one runs share the next
-- (crates/reset-diesel/src/backend/pg/batch.rs; the calls are built in backend/pg/calls.rs).
-- SQLite and MySQL run the same logic as statements (crates/reset-diesel/src/queries/); the
-- store contract runs every backend through the same cases.
--
-- Every statement a PL/pgSQL function runs pays the executor's start-up, which was a fifth of
-- PostgreSQL's time under load (perf, docs/benchmarks.md): the functions run as few statements
-- as they can (one per batch where the work allows).

-- A counter's count in its current window (0 when it has passed or never started).
CREATE OR REPLACE FUNCTION reset_peek(p_key TEXT, p_now BIGINT, p_window BIGINT) RETURNS INTEGER
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT count FROM rate_limits WHERE key = p_key AND window_start > p_now - p_window), 0)
$$;

-- The rate-limit transactions of one or more requests, in one transaction. Hit `i` belongs to
-- request `p_req[i]` (1-based), whose clock reads `p_now[p_req[i]]`; its count and window
-- start come back in the same order. Each counter is written once, however many hits it takes
-- (one client IP behind every request would otherwise make every request wait for the last
-- one's lock on the same row): the n hits of a counter add n at the latest of their clocks,
-- and its i-th hit reads the count before them plus i. Counters are locked in key order, so two
-- batches never wait on each other in a cycle. Then every request none of whose counters went
-- over its maximum starts its `p_restart_*` counters afresh (count 0). The transaction commits
-- without waiting for its WAL flush: a database crash may forget the last hits, which only
-- lets a limit restart early.
--
-- A call that counts nothing (rate limits off: a request then only restarts its try counters)
-- skips the counting statement, and one with nothing to restart skips the restart; counting and
-- reading the counters is one statement.
CREATE OR REPLACE FUNCTION reset_hit(
    p_now BIGINT[],
    p_req INTEGER[],
    p_keys TEXT[],
    p_windows BIGINT[],
    p_maxes INTEGER[],
    p_restart_req INTEGER[],
    p_restart_keys TEXT[],
    p_restart_windows BIGINT[]
) RETURNS TABLE (hit_count INTEGER, hit_start BIGINT)
LANGUAGE plpgsql
-- Plans made once per connection: the statements' shapes never change, so there is nothing to
-- gain from planning them again for each call's values (PostgreSQL's default may).
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    h_counts INTEGER[];
    h_starts BIGINT[];
    over INTEGER[];
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    -- A request with its limits off (or none to count) only restarts counters.
    IF cardinality(p_keys) > 0 THEN
        WITH g AS (
            SELECT u.key, max(p_now[u.req]) AS t, count(*)::INTEGER AS n, min(u.win) AS w
            FROM unnest(p_req, p_keys, p_windows) AS u(req, key, win)
            GROUP BY u.key
        ), up AS (
            INSERT INTO rate_limits AS r (key, window_start, count, expires_at)
            SELECT g.key, g.t, g.n, g.t + g.w FROM g ORDER BY g.key
            ON CONFLICT (key) DO UPDATE SET
                -- excluded.window_start is the hits' clock; excluded.expires_at - it, the window.
                count = CASE WHEN r.window_start <= 2 * excluded.window_start - excluded.expires_at
                             THEN excluded.count ELSE r.count + excluded.count END,
                window_start = CASE WHEN r.window_start <= 2 * excluded.window_start - excluded.expires_at
                                    THEN excluded.window_start ELSE r.window_start END,
                expires_at = CASE WHEN r.window_start <= 2 * excluded.window_start - excluded.expires_at
                                  THEN excluded.expires_at
                                  ELSE r.window_start + excluded.expires_at - excluded.window_start END
            RETURNING r.key, r.count, r.window_start
        ), x AS (
            -- The i-th hit of a counter reads the count before the batch's hits plus i.
            SELECT u.ord, u.req, u.m, up.window_start AS s,
                   (up.count - count(*) OVER (PARTITION BY u.key)
                        + row_number() OVER (PARTITION BY u.key ORDER BY u.ord))::INTEGER AS c
            FROM unnest(p_req, p_keys, p_maxes) WITH ORDINALITY AS u(req, key, m, ord)
            JOIN up ON up.key = u.key
        )
        SELECT array_agg(x.c ORDER BY x.ord), array_agg(x.s ORDER BY x.ord),
               array_agg(DISTINCT x.req) FILTER (WHERE x.m > 0 AND x.c > x.m)
        INTO h_counts, h_starts, over
        FROM x;
    END IF;
    IF cardinality(p_restart_keys) > 0 THEN
        INSERT INTO rate_limits AS r (key, window_start, count, expires_at)
        SELECT DISTINCT ON (u.key) u.key, p_now[u.req], 0, p_now[u.req] + u.win
        FROM unnest(p_restart_req, p_restart_keys, p_restart_windows) AS u(req, key, win)
        WHERE NOT u.req = ANY (coalesce(over, '{}'))
        ORDER BY u.key, u.req DESC
        ON CONFLICT (key) DO UPDATE SET
            window_start = excluded.window_start, count = 0, expires_at = excluded.expires_at;
    END IF;
    RETURN QUERY SELECT * FROM unnest(h_counts, h_starts);
END
$$;

-- The account lookups of one or more requests in one call (crates/reset-diesel/src/backend/
-- pg/calls.rs; the store sends lookups that queue while one runs together, pg/batch.rs). Lookup `i`
-- names `p_names[i]` and/or `p_emails[i]` (either may be null); a row comes back, with `ord` =
-- i, only for a lookup that names an account (both names, when both are given, of the same
-- one). It makes the same reads as `find_user` in crates/reset-diesel/src/queries/users.rs
-- (which SQLite and MySQL run as statements): one account row and its addresses for every
-- lookup, the decoy's (`p_decoy`, seeded by the init migration) when the names match nothing,
-- so a lookup takes as long for an unknown account as for a known one. A disabled account is
-- found like any other, with `disabled` set: the caller decides what it may do.
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

-- The first of `p_caps` that `p_needed` more messages would pass, or NULL. PL/pgSQL, not SQL: a
-- SQL function with a FROM is not inlined, and PostgreSQL before 18 plans its body at every call
-- (with it, an unknown account's request ran at about two thirds of this version's rate).
-- Shared by `reset_issue`'s known and unknown paths.
CREATE OR REPLACE FUNCTION reset_over_cap(p_caps JSONB, p_now BIGINT, p_needed INTEGER) RETURNS JSONB
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c JSONB;
BEGIN
    FOR c IN SELECT value FROM jsonb_array_elements(p_caps) LOOP
        IF reset_peek(c->>'key', p_now, (c->>'window')::BIGINT) + p_needed > (c->>'max')::INTEGER THEN
            RETURN c;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

-- Counts `p_needed` messages in each of `p_caps`, restarting a window that has passed. Shared
-- by `reset_issue`'s known and unknown paths.
CREATE OR REPLACE FUNCTION reset_count_caps(p_caps JSONB, p_now BIGINT, p_needed INTEGER) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    c JSONB;
BEGIN
    -- One statement per cap: two caps with the same window share a key.
    FOR c IN SELECT value FROM jsonb_array_elements(p_caps) LOOP
        INSERT INTO rate_limits AS l (key, window_start, count, expires_at)
        VALUES (c->>'key', p_now, p_needed, p_now + (c->>'window')::BIGINT)
        ON CONFLICT (key) DO UPDATE SET
            count = CASE WHEN l.window_start <= p_now - (c->>'window')::BIGINT THEN p_needed ELSE l.count + p_needed END,
            window_start = CASE WHEN l.window_start <= p_now - (c->>'window')::BIGINT THEN p_now ELSE l.window_start END,
            expires_at = CASE WHEN l.window_start <= p_now - (c->>'window')::BIGINT THEN p_now + (c->>'window')::BIGINT
                              ELSE l.window_start + (c->>'window')::BIGINT END;
    END LOOP;
END
$$;

-- The issue transaction of each request in `p_requests` (a JSON array, built by
-- crates/reset-diesel/src/backend/pg/calls.rs), in order, in one transaction; returns, for each,
-- whether it issued its secrets (TRUE), issued nothing (FALSE), or issued nothing but left
-- something to deliver (NULL: an unknown account's decoys were queued), so the caller wakes its
-- outbox worker only when there is something to send. Every row (ids, hashes, payloads, audit
-- details) is computed by the caller; this function only decides, as `queries/secrets.rs` does
-- statement by statement: audit the request; skip a retried request whose earlier attempt
-- committed; for an unknown account, queue its decoys unless its stand-in account's guess budget
-- is spent or a send cap would be passed; under the account's lock, stop when a newer request of
-- the account exists, when the guess budget is spent (killing the live code) or a send cap would
-- be passed; else count the sends, supersede the older secrets, store the new ones and queue the
-- messages.
--
-- Decoys held back as messages are: an unknown identifier's decoy messages are queued only when
-- a known account's request would have queued its message, its guess budget and send caps
-- counted for the identifier's stand-in account (`reset_core::rate_limit::stand_in_account`,
-- the request's `stand_in`, `budget`, `caps` and `needed`) as a known account's are for the
-- account, under its lock. Past a cap neither queues anything, so the delivery work that
-- follows a request still tells no one whether the account exists (docs/api.md, "Who can tell
-- whether an account exists").
--
-- A retried request is written once: each request's `reset_requested` audit event is kept
-- under the request's id (the caller's `audit_id`); when a retried attempt finds it written,
-- the earlier attempt committed before its answer was lost, and nothing is counted or queued
-- again, for a known account or an unknown one.
CREATE OR REPLACE FUNCTION reset_issue(p_requests JSONB) RETURNS BOOLEAN[]
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    r JSONB;
    c JSONB;
    uid TEXT;
    rid TEXT;
    t BIGINT;
    needed INTEGER;
    fresh TEXT[];
    n BIGINT;
    queued BIGINT[] := '{}';
    issued BOOLEAN[] := '{}';
BEGIN
    -- Every account of the batch (an unknown identifier's stand-in account too) is locked
    -- first, in one order (by lock key), so batches of two instances never wait on each other
    -- in a cycle; the locks are held to the commit.
    PERFORM pg_advisory_xact_lock(hashtext('reset-password'), l.k)
    FROM (SELECT DISTINCT hashtext(coalesce(x->>'user_id', x->>'stand_in')) AS k
          FROM jsonb_array_elements(p_requests) AS x
          WHERE coalesce(x->>'user_id', x->>'stand_in') IS NOT NULL
          ORDER BY 1) AS l;
    -- Every request is audited, whatever follows: one statement for the whole batch. The event
    -- is kept under the request's id (`audit_id`), so an earlier attempt's, committed, is
    -- not written again (one still in flight is waited for by the unique index).
    WITH written AS (
        INSERT INTO audit_events (id, user_id, kind, at, ip, details)
        SELECT x->>'audit_id', x->>'audit_user_id', 'reset_requested', (x->>'now')::BIGINT,
               x->>'ip', x->>'details'
        FROM jsonb_array_elements(p_requests) AS x
        ON CONFLICT (id) DO NOTHING
        RETURNING id)
    SELECT array_agg(id) INTO fresh FROM written;
    FOR r, n IN SELECT value, ordinality FROM jsonb_array_elements(p_requests) WITH ORDINALITY LOOP
        t := (r->>'now')::BIGINT;
        rid := r->>'request_id';
        uid := r->>'user_id';
        needed := (r->>'needed')::INTEGER;
        c := r->'budget';
        -- An earlier attempt committed before its answer was lost: nothing is counted or
        -- queued twice, for a known account or an unknown one. A known one that issued says
        -- so; anything else answers "something to deliver" (NULL) whatever it did, so that
        -- the wake-up tells nothing either (its worker may never have been woken for it).
        IF (r->>'retried')::BOOLEAN AND NOT (r->>'audit_id' = ANY (coalesce(fresh, '{}'))) THEN
            IF uid IS NOT NULL AND EXISTS (SELECT 1 FROM reset_secrets WHERE request_id = rid) THEN
                issued := issued || TRUE;
            ELSIF uid IS NOT NULL OR r->>'stand_in' IS NOT NULL THEN
                issued := array_append(issued, NULL::BOOLEAN);
            ELSE
                issued := issued || FALSE;
            END IF;
            CONTINUE;
        END IF;
        IF uid IS NULL THEN
            -- An unknown account: the decoy messages a known account's request would queue
            -- (a request with decoys always names its stand-in account, whose caps they carry),
            -- unless the stand-in account's guess budget is spent or a send cap would be passed.
            IF jsonb_array_length(coalesce(r->'decoys', '[]')) > 0
               AND NOT (jsonb_typeof(c) = 'object'
                        AND reset_peek(c->>'key', t, (c->>'window')::BIGINT) >= (c->>'max')::INTEGER)
               AND reset_over_cap(r->'caps', t, needed) IS NULL THEN
                IF jsonb_array_length(r->'caps') > 0 THEN
                    PERFORM reset_count_caps(r->'caps', t, needed);
                END IF;
                queued := queued || n;
                -- Not issued, decoys queued (the caller wakes its worker): NULL.
                issued := array_append(issued, NULL::BOOLEAN);
                CONTINUE;
            END IF;
            issued := issued || FALSE;
            CONTINUE;
        END IF;
        -- Requests of one account take effect in the order of their ids (taken on arrival).
        IF EXISTS (SELECT 1 FROM reset_secrets WHERE user_id = uid AND request_id > rid) THEN
            issued := issued || FALSE;
            CONTINUE;
        END IF;
        IF jsonb_typeof(c) = 'object'
           AND reset_peek(c->>'key', t, (c->>'window')::BIGINT) >= (c->>'max')::INTEGER THEN
            -- No new code, and no old one left to keep guessing at; links stay.
            UPDATE reset_secrets SET superseded_at = t
            WHERE user_id = uid AND kind = 'code' AND used_at IS NULL AND superseded_at IS NULL;
            INSERT INTO audit_events (id, user_id, kind, at, ip, details)
            VALUES (c->>'audit_id', uid, 'code_not_issued_guess_budget_spent', t, r->>'ip', '{}');
            issued := issued || FALSE;
            CONTINUE;
        END IF;
        c := reset_over_cap(r->'caps', t, needed);
        IF c IS NOT NULL THEN
            -- The secrets already sent stay usable.
            INSERT INTO audit_events (id, user_id, kind, at, ip, details)
            VALUES (c->>'audit_id', uid, 'reset_not_sent_account_cap', t, r->>'ip', c->>'details');
            issued := issued || FALSE;
            CONTINUE;
        END IF;
        IF needed > 0 AND jsonb_array_length(r->'caps') > 0 THEN
            PERFORM reset_count_caps(r->'caps', t, needed);
        END IF;
        UPDATE reset_secrets SET superseded_at = t
        WHERE user_id = uid AND used_at IS NULL AND superseded_at IS NULL;
        INSERT INTO reset_secrets (id, request_id, user_id, kind, secret_hash, created_at, expires_at,
                                   attempts, max_attempts, issued_via, request_ip)
        SELECT s.id, rid, uid, s.kind, s.secret_hash, t, s.expires_at, 0, s.max_attempts, r->>'via', r->>'ip'
        FROM jsonb_to_recordset(r->'secrets')
             AS s(id TEXT, kind TEXT, secret_hash TEXT, expires_at BIGINT, max_attempts INTEGER);
        queued := queued || n;
        issued := issued || TRUE;
    END LOOP;
    -- The batch's messages and decoys in one statement (nothing above reads the outbox): a
    -- known account's (`outbox`) and an unknown one's (`decoys`, addressed to no one).
    INSERT INTO outbox (id, user_id, kind, channel, recipient, locale, payload, created_at,
                        attempts, next_attempt_at, queued_at, decoy)
    SELECT o.id, x.value->>'user_id', o.kind, o.channel, o.recipient, o.locale, o.payload,
           (x.value->>'now')::BIGINT, 0, (x.value->>'now')::BIGINT, (x.value->>'now')::BIGINT,
           x.value->>'user_id' IS NULL
    FROM jsonb_array_elements(p_requests) WITH ORDINALITY AS x(value, n)
    -- Chosen as the loop chose: by whether the request names an account.
    CROSS JOIN LATERAL jsonb_to_recordset(CASE WHEN x.value->>'user_id' IS NULL
                                               THEN x.value->'decoys' ELSE x.value->'outbox' END)
         AS o(id TEXT, kind TEXT, channel TEXT, recipient TEXT, locale TEXT, payload TEXT)
    WHERE x.n = ANY (queued);
    RETURN issued;
END
$$;
