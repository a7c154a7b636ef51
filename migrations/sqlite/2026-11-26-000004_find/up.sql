-- PostgreSQL only (its batched account lookup); this backend runs the same lookup as statements.
SELECT 1;
