DELETE FROM outbox WHERE decoy;
ALTER TABLE outbox DROP COLUMN decoy;
