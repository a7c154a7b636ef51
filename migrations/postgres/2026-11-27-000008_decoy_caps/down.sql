-- `reset_issue` as migration `decoy_outbox` left it (decoys queued for every unknown account's
-- request), without the helpers.

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
    stop BOOLEAN;
    issued BOOLEAN[] := '{}';
BEGIN
    -- Every account of the batch is locked first, in one order (by lock key), so batches of
    -- two instances never wait on each other in a cycle; the locks are held to the commit.
    PERFORM pg_advisory_xact_lock(hashtext('reset-password'), l.k)
    FROM (SELECT DISTINCT hashtext(x->>'user_id') AS k
          FROM jsonb_array_elements(p_requests) AS x
          WHERE x->>'user_id' IS NOT NULL
          ORDER BY 1) AS l;
    -- Every request is audited, whatever follows: one statement for the whole batch.
    INSERT INTO audit_events (id, user_id, kind, at, ip, details)
    SELECT x->>'audit_id', x->>'audit_user_id', 'reset_requested', (x->>'now')::BIGINT,
           x->>'ip', x->>'details'
    FROM jsonb_array_elements(p_requests) AS x;
    FOR r IN SELECT value FROM jsonb_array_elements(p_requests) LOOP
        t := (r->>'now')::BIGINT;
        rid := r->>'request_id';
        uid := r->>'user_id';
        IF uid IS NULL THEN
            -- An unknown account: the decoy messages a known account's request would queue.
            IF jsonb_array_length(r->'decoys') > 0 THEN
                INSERT INTO outbox (id, user_id, kind, channel, recipient, locale, payload, created_at,
                                    attempts, next_attempt_at, queued_at, decoy)
                SELECT o.id, NULL, o.kind, o.channel, o.recipient, o.locale, o.payload, t, 0, t, t, TRUE
                FROM jsonb_to_recordset(r->'decoys')
                     AS o(id TEXT, kind TEXT, channel TEXT, recipient TEXT, locale TEXT, payload TEXT);
            END IF;
            issued := issued || FALSE;
            CONTINUE;
        END IF;
        -- An earlier attempt may have committed before its answer was lost.
        IF (r->>'retried')::BOOLEAN AND EXISTS (SELECT 1 FROM reset_secrets WHERE request_id = rid) THEN
            issued := issued || TRUE;
            CONTINUE;
        END IF;
        -- Requests of one account take effect in the order of their ids (taken on arrival).
        IF EXISTS (SELECT 1 FROM reset_secrets WHERE user_id = uid AND request_id > rid) THEN
            issued := issued || FALSE;
            CONTINUE;
        END IF;
        c := r->'budget';
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
        needed := (r->>'needed')::INTEGER;
        stop := FALSE;
        FOR c IN SELECT value FROM jsonb_array_elements(r->'caps') LOOP
            IF reset_peek(c->>'key', t, (c->>'window')::BIGINT) + needed > (c->>'max')::INTEGER THEN
                -- The secrets already sent stay usable.
                INSERT INTO audit_events (id, user_id, kind, at, ip, details)
                VALUES (c->>'audit_id', uid, 'reset_not_sent_account_cap', t, r->>'ip', c->>'details');
                stop := TRUE;
                EXIT;
            END IF;
        END LOOP;
        IF stop THEN
            issued := issued || FALSE;
            CONTINUE;
        END IF;
        IF needed > 0 THEN
            FOR c IN SELECT value FROM jsonb_array_elements(r->'caps') LOOP
                INSERT INTO rate_limits AS l (key, window_start, count, expires_at)
                VALUES (c->>'key', t, needed, t + (c->>'window')::BIGINT)
                ON CONFLICT (key) DO UPDATE SET
                    count = CASE WHEN l.window_start <= t - (c->>'window')::BIGINT THEN needed ELSE l.count + needed END,
                    window_start = CASE WHEN l.window_start <= t - (c->>'window')::BIGINT THEN t ELSE l.window_start END,
                    expires_at = CASE WHEN l.window_start <= t - (c->>'window')::BIGINT THEN t + (c->>'window')::BIGINT
                                      ELSE l.window_start + (c->>'window')::BIGINT END;
            END LOOP;
        END IF;
        UPDATE reset_secrets SET superseded_at = t
        WHERE user_id = uid AND used_at IS NULL AND superseded_at IS NULL;
        INSERT INTO reset_secrets (id, request_id, user_id, kind, secret_hash, created_at, expires_at,
                                   attempts, max_attempts, issued_via, request_ip)
        SELECT s.id, rid, uid, s.kind, s.secret_hash, t, s.expires_at, 0, s.max_attempts, r->>'via', r->>'ip'
        FROM jsonb_to_recordset(r->'secrets')
             AS s(id TEXT, kind TEXT, secret_hash TEXT, expires_at BIGINT, max_attempts INTEGER);
        INSERT INTO outbox (id, user_id, kind, channel, recipient, locale, payload, created_at,
                            attempts, next_attempt_at, queued_at)
        SELECT o.id, uid, o.kind, o.channel, o.recipient, o.locale, o.payload, t, 0, t, t
        FROM jsonb_to_recordset(r->'outbox')
             AS o(id TEXT, kind TEXT, channel TEXT, recipient TEXT, locale TEXT, payload TEXT);
        issued := issued || TRUE;
    END LOOP;
    RETURN issued;
END
$$;

DROP FUNCTION reset_over_cap(JSONB, BIGINT, INTEGER);
DROP FUNCTION reset_count_caps(JSONB, BIGINT, INTEGER);
