//! A batch of rate-limit transactions ([`crate::store::ResetState::hit`]), planned as if each
//! ran alone, in arrival order: its hits count one each, and when none went over, its
//! `then_restart` counters start afresh.

use super::{Counters, sorted_keys};
use crate::rate_limit::{CounterHit, CounterState};

/// One request's rate-limit transaction, at its clock.
#[derive(Debug, Clone)]
pub struct HitAsk {
    /// The request's clock (ms).
    pub now: i64,
    /// The counters it bumps.
    pub hits: Vec<CounterHit>,
    /// The counters it starts afresh when none of `hits` went over.
    pub then_restart: Vec<CounterHit>,
}

/// The counters a batch must lock and read: those it bumps. A restart writes a value that does
/// not depend on the row, so its counter is read only when the batch also bumps it.
pub fn hit_keys(asks: &[HitAsk]) -> Vec<String> {
    sorted_keys(asks.iter().flat_map(|a| &a.hits))
}

/// Each ask's states, one per hit, in order; `counters` holds [`hit_keys`]' rows before and
/// every counter the batch moved after.
pub fn plan_hits(counters: &mut Counters, asks: &[HitAsk]) -> Vec<Vec<CounterState>> {
    asks.iter()
        .map(|ask| {
            let states: Vec<CounterState> =
                ask.hits.iter().map(|h| counters.hit(ask.now, h)).collect();
            if !states
                .iter()
                .zip(&ask.hits)
                .any(|(s, h)| s.exceeds(&h.limit))
            {
                for c in &ask.then_restart {
                    counters.restart(ask.now, c);
                }
            }
            states
        })
        .collect()
}
