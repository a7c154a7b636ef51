-- MySQL only (a lock slot of its own for the decoy account); this backend needs none.
SELECT 1;
