-- PostgreSQL only (its `reset_issue` holds decoys back by the identifier's send caps); this
-- backend does it in crates/reset-diesel/src/queries/secrets.rs.
SELECT 1;
