//! Counters decided once, for every store: rate-limit hits ([`plan_hits`]), a code try's
//! counters ([`TryAsk`]) and the issue transaction's caps ([`crate::issue_plan`]) all move a
//! counter by the one fixed-window rule, [`Window`].
//!
//! A store locks and reads the rows a call names (creating a missing one as a window long
//! over, so that it can be locked), [`Counters`] applies the rule hit by hit in arrival order,
//! and the store writes [`Counters::writes`] as they are. No store decides a window, a restart
//! or a try in SQL.

mod hits;
mod tries;
mod window;

use std::collections::BTreeMap;

pub use hits::{HitAsk, hit_keys, plan_hits};
pub use tries::{TryAsk, TryTally};
pub use window::Window;

use crate::rate_limit::{CounterHit, CounterState};

/// The window start of a row a store creates only to lock it (count 0): a window long over,
/// which reads as no counter at all. Every such row is written before its transaction ends.
pub const PLACEHOLDER_START: i64 = i64::MIN;

/// A counter's value after a plan, to be written as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterWrite {
    /// The counter's key.
    pub key: String,
    /// Its count and window start.
    pub window: Window,
    /// When its window ends (for the retention sweep).
    pub expires_at: i64,
}

/// Counters as a store read them, then as the plans on them (hits, tries, an issue batch's
/// send caps) leave them, with the ones they moved to be written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    windows: BTreeMap<String, Window>,
    written: BTreeMap<String, i64>,
}

impl Counters {
    /// No counter read yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the rows a store read: key, count, window start (ms). A key without a row holds
    /// nothing, as does a row created only to be locked ([`PLACEHOLDER_START`]); a negative
    /// count reads as 0.
    pub fn read(&mut self, rows: impl IntoIterator<Item = (String, i32, i64)>) {
        for (key, count, start) in rows {
            let count = u32::try_from(count).unwrap_or(0);
            // A counter read before is locked: what it holds now is what a hit left there.
            self.windows.entry(key).or_insert(Window { count, start });
        }
    }

    /// What `key` holds now: as read, or as a plan moved it.
    pub fn get(&self, key: &str) -> Option<Window> {
        self.windows.get(key).copied()
    }

    /// Sets what `key` holds as stored (not to be written): a store's own read, or a change
    /// made outside the plans (a test's).
    pub fn put(&mut self, key: impl Into<String>, window: Window) {
        self.windows.insert(key.into(), window);
    }

    /// `n` more at `now` (ms) on `key`, a window of `len` ms, by the one rule
    /// ([`Window::add`]): the counter after them, to be written.
    pub fn add(&mut self, now: i64, key: &str, len: i64, n: u32) -> Window {
        let next = Window::add(self.get(key), now, len, n);
        self.set(key, next, len);
        next
    }

    /// One hit of `hit` at `now` (ms): the counter's state after it.
    pub fn hit(&mut self, now: i64, hit: &CounterHit) -> CounterState {
        let len = len_ms(hit);
        let next = self.add(now, &hit.key, len, 1);
        state(next, now, len)
    }

    /// Starts `counter` afresh at `now`: count 0, a window of its limit.
    pub fn restart(&mut self, now: i64, counter: &CounterHit) {
        let fresh = Window {
            count: 0,
            start: now,
        };
        self.set(&counter.key, fresh, len_ms(counter));
    }

    fn set(&mut self, key: &str, window: Window, len: i64) {
        self.windows.insert(key.to_owned(), window);
        self.written
            .insert(key.to_owned(), window.start.saturating_add(len));
    }

    /// Every counter moved since the last [`take_writes`](Self::take_writes), in key order
    /// (the order stores lock rows in), which from now on holds as stored.
    pub fn take_writes(&mut self) -> Vec<CounterWrite> {
        let writes = self.writes();
        self.written.clear();
        writes
    }

    /// Every counter a plan moved, in key order (the order stores lock rows in).
    pub fn writes(&self) -> Vec<CounterWrite> {
        self.written
            .iter()
            .filter_map(|(key, expires_at)| {
                self.windows.get(key).map(|window| CounterWrite {
                    key: key.clone(),
                    window: *window,
                    expires_at: *expires_at,
                })
            })
            .collect()
    }
}

/// A counter's window in milliseconds.
pub fn len_ms(counter: &CounterHit) -> i64 {
    counter.limit.window().num_milliseconds()
}

/// What a caller sees of `window` at `now`: its count, and the whole seconds until it ends.
pub fn state(window: Window, now: i64, len: i64) -> CounterState {
    let left_ms = window.start.saturating_add(len).saturating_sub(now).max(0);
    CounterState {
        count: window.count,
        resets_in_secs: u64::try_from(left_ms.saturating_add(999) / 1000).unwrap_or(0),
    }
}

/// The keys of `counters`, sorted and once each: the order stores lock rows in, so two
/// transactions never wait on each other in a cycle.
pub fn sorted_keys<'a>(counters: impl IntoIterator<Item = &'a CounterHit>) -> Vec<String> {
    let mut keys: Vec<String> = counters.into_iter().map(|c| c.key.clone()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}
