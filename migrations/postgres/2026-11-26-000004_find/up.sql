-- The account lookups of one or more requests in one call (crates/reset-diesel/src/backend/pg/
-- calls.rs; the store sends lookups that queue while one runs together, batch.rs). Lookup `i`
-- names `p_names[i]` and/or `p_emails[i]` (either may be null); a row comes back, with `ord` =
-- i, only for a lookup that names an account (both names, when both are given, of the same
-- one). It makes the same reads as `find_user` in crates/reset-diesel/src/queries/users.rs
-- (which SQLite and MySQL run as statements): one account row and its addresses for every
-- lookup, the decoy's (`p_decoy`, migration `decoy`) when the names match nothing, so a
-- lookup takes as long for an unknown account as for a known one.
--
-- As one function its statements are planned once per connection: Diesel's own prepared
-- lookup (a join ordered by "is the decoy") was planned anew at every call, which cost
-- PostgreSQL more than running it.
CREATE FUNCTION reset_find(p_decoy TEXT, p_names TEXT[], p_emails TEXT[])
RETURNS TABLE (ord INTEGER, id TEXT, username TEXT, password_hash TEXT, org_id TEXT,
               locale TEXT, phone TEXT, password_changed_at BIGINT, sequence BIGINT,
               created_at BIGINT, emails TEXT[])
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    u users%ROWTYPE;
    owns BOOLEAN;
    addresses TEXT[];
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_names, 1), 0) LOOP
        u := NULL;
        IF p_names[i] IS NOT NULL THEN
            SELECT x.* INTO u FROM users AS x
            WHERE x.username = p_names[i] OR x.id = p_decoy
            ORDER BY x.id = p_decoy LIMIT 1;
            owns := p_emails[i] IS NULL OR EXISTS (
                SELECT 1 FROM user_emails AS e
                WHERE e.address = p_emails[i] AND e.user_id = coalesce(u.id, ''));
        ELSIF p_emails[i] IS NOT NULL THEN
            -- The decoy's address is the empty string: both on the address index.
            SELECT x.* INTO u FROM users AS x JOIN user_emails AS e ON e.user_id = x.id
            WHERE e.address = p_emails[i] OR e.address = ''
            ORDER BY x.id = p_decoy LIMIT 1;
            owns := TRUE;
        ELSE
            CONTINUE;
        END IF;
        SELECT array_agg(e.address ORDER BY e.position) INTO addresses
        FROM user_emails AS e WHERE e.user_id = coalesce(u.id, '');
        IF owns AND u.id IS NOT NULL AND u.id <> p_decoy THEN
            ord := i;
            id := u.id;
            username := u.username;
            password_hash := u.password_hash;
            org_id := u.org_id;
            locale := u.locale;
            phone := u.phone;
            password_changed_at := u.password_changed_at;
            sequence := u.sequence;
            created_at := u.created_at;
            emails := coalesce(addresses, '{}');
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
