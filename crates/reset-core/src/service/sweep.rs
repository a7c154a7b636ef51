//! `sweep`: delete what is no longer needed (spent secrets, finished counters, delivered mail,
//! old audit events), so that neither unknown identifiers nor old resets accumulate forever.

use super::ResetService;
use crate::error::ResetError;
use crate::store::Swept;

/// Rows deleted per table and statement: small enough that no sweep holds a lock for long.
const BATCH: u32 = 1000;
/// Batches per table and sweep; what is left waits for the next sweep.
const MAX_ROUNDS: u32 = 1000;

impl ResetService {
    /// One retention sweep, in bounded batches, with the configured retention.
    pub async fn sweep(&self) -> Result<Swept, ResetError> {
        let mut total = Swept::default();
        for _ in 0..MAX_ROUNDS {
            let now = self.clock.now();
            let round = self.store.sweep(now, &self.config.retention, BATCH).await?;
            total.secrets += round.secrets;
            total.rate_limits += round.rate_limits;
            total.outbox += round.outbox;
            total.audit += round.audit;
            let full = u64::from(BATCH);
            if [round.secrets, round.rate_limits, round.outbox, round.audit]
                .iter()
                .all(|n| *n < full)
            {
                break;
            }
        }
        Ok(total)
    }
}
