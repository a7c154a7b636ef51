-- A lock slot of its own for the decoy account: unknown accounts' issue transactions rehearse a
-- known account's against the decoy and take turns on its lock (backend/mysql.rs, `lock_user`),
-- so no real account should share that slot and wait behind them. Real accounts use 0..4095.
INSERT INTO account_locks (slot) VALUES (-1);
