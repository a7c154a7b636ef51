//! Rate-limit hits without locks, on the stores several instances share (PostgreSQL, MySQL): a
//! batch is planned on the counters as this instance last wrote them (or as read, without a
//! lock, when it does not know them), and written in one autocommit statement that checks each
//! counter still holds what the plan started from ([`SwapHits::swap_counters`]). When one moved
//! (another instance, a code try, a restart), the batch reads and plans again; after [`SWAPS`]
//! misses it takes the counters' locks instead. The hot path is one statement and holds
//! no lock across round trips; the rule itself is [`reset_core::counters::plan_hits`], as on
//! every store.
//!
//! What is remembered depends only on the counters' keys (identifier, address), never on
//! whether an account exists, so the statements a hit costs tell nothing about accounts.

use std::collections::HashMap;
use std::sync::Mutex;

use diesel::result::QueryResult;
use reset_core::counters::{Counters, HitAsk, hit_keys, plan_hits};
use reset_core::rate_limit::CounterState;

use crate::issue::writes::CounterInsert;
use crate::queries::limits::{CounterRows, counter_rows};

/// Counters remembered at most; past it the memory starts empty again (a stranger spraying
/// identifiers only costs the batches their read, as if nothing were remembered).
const REMEMBERED: usize = 4096;

/// Swaps tried before [`hit_batch`] gives up, and takes the counters' locks instead (`hit_all`
/// in a transaction), which always goes through: instances racing on one counter
/// cannot starve each other.
const SWAPS: usize = 3;

/// What a counter held when it was read, for [`SwapHits::swap_counters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Was {
    /// Count and window start.
    Held(i32, i64),
    /// No row.
    Absent,
    /// Anything: not read (a restart), or locked.
    Any,
}

impl Was {
    /// The count and window start that were read, as a swap statement binds them: both `None`
    /// for no row, and for anything (which [`Was::Any`] says apart).
    pub fn held(self) -> (Option<i32>, Option<i64>) {
        match self {
            Was::Held(count, start) => (Some(count), Some(start)),
            Was::Absent | Was::Any => (None, None),
        }
    }
}

/// What a store brings to [`hit_batch`].
pub(crate) trait SwapHits {
    /// The connection underneath, for the fallback under locks.
    type Conn;

    /// That connection (a store may wrap it with how it is pooled).
    fn conn(&mut self) -> &mut Self::Conn;

    /// Counters read without a lock: key, count, window start.
    async fn read_counters(&mut self, keys: &[String]) -> QueryResult<CounterRows>;

    /// Writes counters' values (rows in key order) in one autocommit statement, each only if it
    /// still holds what `was` (one per row) says was read; otherwise writes nothing and fails
    /// with an error [`moved`](Self::moved) recognises. A counter read as present and found gone
    /// was swept, which only a window that is over is: planned on its old window or on none, a
    /// hit gives the same counter ([`reset_core::counters::Window`]), so it is written.
    async fn swap_counters(&mut self, counters: &[CounterInsert], was: &[Was]) -> QueryResult<()>;

    /// Whether `e` is [`swap_counters`](Self::swap_counters) finding a counter moved (nothing
    /// was written).
    fn moved(e: &diesel::result::Error) -> bool;
}

/// The counters this instance last wrote: key → count and window start. Only the hit queue
/// uses it, one batch at a time (`backend/batch.rs`).
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
/// [`crate::queries::limits`]'s `hit_all`); `locked` (the store's `hit_all` in a transaction)
/// when another writer moved a counter every time it tried ([`SWAPS`]).
pub async fn hit_batch<C: SwapHits>(
    conn: &mut C,
    remembered: &Remembered,
    asks: &[HitAsk],
    locked: impl AsyncFnOnce(&mut C::Conn) -> QueryResult<Vec<Vec<CounterState>>>,
) -> QueryResult<Vec<Vec<CounterState>>> {
    let keys = hit_keys(asks);
    for _ in 0..SWAPS {
        let (mut rows, missing) = remembered.known(&keys);
        if !missing.is_empty() {
            rows.extend(conn.read_counters(&missing).await?);
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
        let was: Vec<Was> = writes
            .iter()
            .map(|w| was.get(w.key.as_str()).copied().unwrap_or(Was::Any))
            .collect();
        match conn.swap_counters(&writes, &was).await {
            Ok(()) => {
                remembered.write(writes.into_iter().map(|w| (w.key, w.count, w.window_start)));
                return Ok(states);
            }
            Err(e) => {
                remembered.forget(&keys);
                if !C::moved(&e) {
                    return Err(e);
                }
                tracing::debug!(
                    counters = keys.len(),
                    "hits: a counter moved since it was read; planning again"
                );
            }
        }
    }
    locked(conn.conn()).await
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
