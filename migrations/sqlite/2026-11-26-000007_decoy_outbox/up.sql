-- Decoy messages: an unknown account's request queues what a known account's would (one row per
-- message, webhook events too), marked `decoy`. The outbox worker claims, renders and marks them
-- sent like real ones but hands them to no transport; the metrics and `outbox list` leave them
-- out. So the delivery that follows a known account's request has a counterpart for an unknown
-- one (docs/benchmarks.md, "Known vs unknown").
ALTER TABLE outbox ADD COLUMN decoy BOOLEAN NOT NULL DEFAULT 0;
