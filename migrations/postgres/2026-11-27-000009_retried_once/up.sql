-- A retried request is written once. `reset_issue` keeps each request's `reset_requested` audit
-- event under the request's id (the caller's `audit_id`, backend/pg/calls.rs): when a retried
-- attempt finds it written, the earlier attempt committed before its answer was lost, and
-- nothing is counted or queued again. Before, only a known account's secrets were looked for:
-- a retried unknown identifier's request counted its stand-in's send caps and queued its decoys
-- a second time (more delivery work than a known account's retry leaves), and a retried known
-- one wrote a second audit event. The secrets-based check stays for a server older than this
-- migration sharing the database (it sends a fresh `audit_id`). Also cheaper for every request:
-- the batch's messages and decoys are queued in one statement after the loop (was one per
-- request), and no cap count runs when there are no caps. The rest of `reset_issue` is
-- `decoy_caps`'s unchanged.

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
            -- An unknown account: the decoy messages a known account's request would queue,
            -- unless the stand-in account's guess budget is spent or a send cap would be passed.
            -- A request of a server older than migration `decoy_caps` names no stand-in: its
            -- decoys are queued as before, so it still leaves delivery work while both run.
            IF jsonb_array_length(coalesce(r->'decoys', '[]')) > 0
               AND (r->>'stand_in' IS NULL
                    OR (NOT (jsonb_typeof(c) = 'object'
                             AND reset_peek(c->>'key', t, (c->>'window')::BIGINT) >= (c->>'max')::INTEGER)
                        AND reset_over_cap(r->'caps', t, needed) IS NULL)) THEN
                IF r->>'stand_in' IS NOT NULL AND jsonb_array_length(r->'caps') > 0 THEN
                    PERFORM reset_count_caps(r->'caps', t, needed);
                END IF;
                queued := queued || n;
                -- Not issued, decoys queued (the caller wakes its worker): NULL, which only a
                -- caller that names a stand-in gets.
                IF r->>'stand_in' IS NOT NULL THEN
                    issued := array_append(issued, NULL::BOOLEAN);
                    CONTINUE;
                END IF;
            END IF;
            issued := issued || FALSE;
            CONTINUE;
        END IF;
        -- A server older than this migration sends a fresh `audit_id` (never found above):
        -- its retried attempt is still recognised by its secrets.
        IF (r->>'retried')::BOOLEAN AND EXISTS (SELECT 1 FROM reset_secrets WHERE request_id = rid) THEN
            issued := issued || TRUE;
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
