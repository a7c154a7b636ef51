-- PostgreSQL only (its request-path functions); this backend runs the same logic as statements.
SELECT 1;
