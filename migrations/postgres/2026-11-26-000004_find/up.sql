-- The account lookups of one or more requests in one call (crates/reset-diesel/src/backend/
-- pg/calls.rs; the store sends lookups that queue while one runs together, pg/batch.rs). Lookup `i`
-- names `p_names[i]` and/or `p_emails[i]` (either may be null); a row comes back, with `ord` =
-- i, only for a lookup that names an account (both names, when both are given, of the same
-- one). It makes the same reads as `find_user` in crates/reset-diesel/src/queries/users.rs
-- (which SQLite and MySQL run as statements): one account row and its addresses for every
-- lookup, the decoy's (`p_decoy`, migration `decoy`) when the names match nothing, so a
-- lookup takes as long for an unknown account as for a known one.
--
-- One statement for the whole batch, planned once per connection: Diesel's own prepared
-- lookup (a join ordered by "is the decoy") was planned anew at every call, which cost
-- PostgreSQL more than running it, and a loop of statements per lookup cost twice this.
CREATE FUNCTION reset_find(p_decoy TEXT, p_names TEXT[], p_emails TEXT[])
RETURNS TABLE (ord INTEGER, id TEXT, username TEXT, password_hash TEXT, org_id TEXT,
               locale TEXT, phone TEXT, password_changed_at BIGINT, sequence BIGINT,
               created_at BIGINT, emails TEXT[])
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
           f.password_changed_at, f.sequence, f.created_at, f.addresses
    FROM found AS f
    WHERE f.owns AND f.id IS NOT NULL AND f.id <> p_decoy;
END
$$;
