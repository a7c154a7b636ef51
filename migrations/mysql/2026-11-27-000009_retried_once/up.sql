-- PostgreSQL only (its `reset_issue` audits a request under its id, so a retried attempt whose
-- earlier one committed writes nothing again); this backend does it in
-- crates/reset-diesel/src/queries/secrets.rs.
SELECT 1;
