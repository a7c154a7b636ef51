//! PostgreSQL's rate-limit hits, optimistic: a batch is planned on the counters as this
//! instance last wrote them (or as read, without a lock, when it does not know them), and written
//! in one autocommit call that checks each counter still holds what the plan started from
//! ([`swap_counters`]). When one moved (another instance, a code try, a restart), the batch
//! reads and plans again. The hot path is one statement and holds no lock across round trips,
//! as the single `reset_hit` call did before the rule moved to Rust; the rule itself is
//! [`reset_core::counters::plan_hits`], as on every store.
//!
//! What is remembered depends only on the counters' keys (identifier, address), never on
//! whether an account exists, so the statements a hit costs tell nothing about accounts.

use std::collections::HashMap;
use std::sync::Mutex;

use diesel::result::QueryResult;
use diesel_async::RunQueryDsl as _;
use reset_core::counters::{Counters, HitAsk, hit_keys, plan_hits};
use reset_core::rate_limit::CounterState;

use super::conn::Conn;
use super::counters::{Was, moved, swap_counters};
use super::target::Pooling;
use crate::queries::limits::{CounterRows, counter_rows, counters_named};

/// Counters remembered at most; past it the memory starts empty again (a stranger spraying
/// identifiers only costs the batches their read, as if nothing were remembered).
const REMEMBERED: usize = 4096;

/// Swaps tried before [`hit_batch`] gives up, and the caller takes the counters' locks instead
/// (`hit_all` in a transaction), which always goes through: instances racing on one counter
/// cannot starve each other.
const SWAPS: usize = 3;

/// The counters this instance last wrote: key → count and window start. Only the hit queue
/// uses it, one batch at a time ([`crate::backend::batch::HIT_IN_FLIGHT`]).
#[derive(Debug, Default)]
pub struct Remembered(Mutex<HashMap<String, (i32, i64)>>);

impl Remembered {
    /// The map; a panic elsewhere while holding it leaves nothing half-written (each change is
    /// one insert or remove), so a poisoned lock is taken as it is.
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i32, i64)>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn known(&self, keys: &[String]) -> (CounterRows, Vec<String>) {
        let map = self.map();
        let mut rows = Vec::with_capacity(keys.len());
        let mut missing = Vec::new();
        for key in keys {
            match map.get(key) {
                Some(&(count, start)) => rows.push((key.clone(), count, start)),
                None => missing.push(key.clone()),
            }
        }
        (rows, missing)
    }

    fn write(&self, rows: impl IntoIterator<Item = (String, i32, i64)>) {
        let mut map = self.map();
        for (key, count, start) in rows {
            if map.len() >= REMEMBERED && !map.contains_key(&key) {
                map.clear();
            }
            map.insert(key, (count, start));
        }
    }

    fn forget(&self, keys: &[String]) {
        let mut map = self.map();
        for key in keys {
            map.remove(key);
        }
    }
}

/// The rate-limit transactions of a batch, each as if it ran alone, in arrival order (as
/// [`crate::queries::limits`]'s `hit_all`); `None` when another writer moved a counter every
/// time it tried ([`SWAPS`]), and nothing was written.
pub async fn hit_batch(
    conn: &mut Conn,
    pooling: Pooling,
    remembered: &Remembered,
    asks: &[HitAsk],
) -> QueryResult<Option<Vec<Vec<CounterState>>>> {
    let keys = hit_keys(asks);
    for _ in 0..SWAPS {
        let (mut rows, missing) = remembered.known(&keys);
        if !missing.is_empty() {
            let read: CounterRows =
                in_transaction_if!(pooling, conn, |c| { counters_named(&missing).load(c) })?;
            rows.extend(read);
        }
        // What the plan starts from: each counter it bumps as read (absent unless a row came
        // back); one it only restarts is written whatever it holds.
        let mut was: HashMap<&str, Was> = keys.iter().map(|k| (k.as_str(), Was::Absent)).collect();
        was.extend(
            rows.iter()
                .map(|(key, count, start)| (key.as_str(), Was::Held(*count, *start))),
        );
        let mut counters = Counters::new();
        counters.read(rows.iter().cloned());
        let states = plan_hits(&mut counters, asks);
        let writes = counter_rows(&counters);
        let swapped = in_transaction_if!(pooling, conn, |c| swap_counters(c, &writes, |key| {
            was.get(key).copied().unwrap_or(Was::Any)
        }));
        match swapped {
            Ok(()) => {
                remembered.write(writes.into_iter().map(|w| (w.key, w.count, w.window_start)));
                return Ok(Some(states));
            }
            Err(e) => {
                remembered.forget(&keys);
                if !moved(&e) {
                    return Err(e);
                }
                tracing::debug!(
                    counters = keys.len(),
                    "hits: a counter moved since it was read; planning again"
                );
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::{REMEMBERED, Remembered};

    fn keys(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("k{i}")).collect()
    }

    #[test]
    fn remembers_what_was_written_and_forgets_on_request() {
        let r = Remembered::default();
        r.write([("a".to_owned(), 3, 10), ("b".to_owned(), 1, 20)]);
        let (rows, missing) = r.known(&["a".to_owned(), "c".to_owned()]);
        assert_eq!(rows, vec![("a".to_owned(), 3, 10)]);
        assert_eq!(missing, vec!["c".to_owned()]);
        r.forget(&["a".to_owned()]);
        assert_eq!(r.known(&["a".to_owned()]).1, vec!["a".to_owned()]);
    }

    #[test]
    fn never_holds_more_than_its_bound() {
        let r = Remembered::default();
        r.write(keys(0..REMEMBERED).into_iter().map(|k| (k, 1, 0)));
        assert_eq!(r.map().len(), REMEMBERED);
        // Rewriting a known key keeps everything; a new one starts afresh.
        r.write([("k0".to_owned(), 2, 0)]);
        assert_eq!(r.map().len(), REMEMBERED);
        r.write([("new".to_owned(), 1, 0)]);
        assert_eq!(r.map().len(), 1);
    }
}
