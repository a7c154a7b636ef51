//! Property tests of the counter plans (`reset_core::counters`), without a database: every
//! store moves rate-limit counters and a code try's counters by these, so these are the
//! semantics every store has (the store contract and the differential replay in reset-diesel
//! check that the stores apply them alike).

use std::collections::BTreeMap;

use proptest::prelude::*;
use reset_core::counters::{Counters, HitAsk, TryAsk, Window, hit_keys, plan_hits};
use reset_core::rate_limit::{CounterHit, Limit};
use reset_core::store::{SecretKind, SecretRecord};

const SECOND: i64 = 1_000;

fn hit(key: &str, max: u32, window_secs: u64) -> CounterHit {
    CounterHit {
        key: key.to_owned(),
        limit: Limit::new(max, window_secs),
    }
}

/// A generated request: which of four counters it bumps (3 per 60 s each), whether it restarts
/// a fifth, and how far the clock moved before it.
fn ask() -> impl Strategy<Value = (Vec<usize>, bool, i64)> {
    (
        proptest::collection::vec(0..4usize, 0..3),
        any::<bool>(),
        0..40i64,
    )
}

fn asks(generated: &[(Vec<usize>, bool, i64)]) -> Vec<HitAsk> {
    let mut now = 1_700_000_000_000;
    generated
        .iter()
        .map(|(keys, restart, dt)| {
            now += dt * SECOND;
            let mut hits: Vec<CounterHit> =
                keys.iter().map(|k| hit(&format!("k{k}"), 3, 60)).collect();
            hits.dedup_by(|a, b| a.key == b.key);
            HitAsk {
                now,
                hits,
                then_restart: if *restart {
                    vec![hit("tries", 5, 600)]
                } else {
                    vec![]
                },
            }
        })
        .collect()
}

/// Replays a batch's writes as a store would store them: the rows the next batch reads.
fn stored(counters: &Counters, into: &mut BTreeMap<String, (i32, i64)>) {
    for w in counters.writes() {
        let count = i32::try_from(w.window.count).unwrap_or(i32::MAX);
        into.insert(w.key, (count, w.window.start));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// One batch decides what the same requests decide one transaction each: batching (on
    /// PostgreSQL and MySQL) changes no answer and no row.
    #[test]
    fn a_batch_decides_as_its_requests_alone(generated in proptest::collection::vec(ask(), 1..24), cut in 0..24usize) {
        let asks = asks(&generated);
        let mut rows: BTreeMap<String, (i32, i64)> = BTreeMap::new();
        let mut alone = Vec::new();
        for a in &asks {
            let mut c = Counters::new();
            c.read(rows.iter().map(|(k, (n, s))| (k.clone(), *n, *s)));
            alone.extend(plan_hits(&mut c, std::slice::from_ref(a)));
            stored(&c, &mut rows);
        }
        let mut batched_rows: BTreeMap<String, (i32, i64)> = BTreeMap::new();
        let mut batched = Vec::new();
        let cut = cut.min(asks.len());
        for part in [&asks[..cut], &asks[cut..]] {
            let mut c = Counters::new();
            let keys = hit_keys(part);
            c.read(batched_rows.iter().filter(|(k, _)| keys.contains(k)).map(|(k, (n, s))| (k.clone(), *n, *s)));
            batched.extend(plan_hits(&mut c, part));
            stored(&c, &mut batched_rows);
        }
        prop_assert_eq!(alone, batched);
        prop_assert_eq!(rows, batched_rows);
    }

    /// A counter never counts more hits than were made in the last window's length, and the
    /// restarted counter holds the last restart of a request none of whose hits went over.
    #[test]
    fn counts_are_hits_in_the_window(generated in proptest::collection::vec(ask(), 1..40)) {
        let asks = asks(&generated);
        let mut c = Counters::new();
        let states = plan_hits(&mut c, &asks);
        let mut history: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut restarted_at: Option<i64> = None;
        for (a, s) in asks.iter().zip(&states) {
            for (h, st) in a.hits.iter().zip(s) {
                let times = history.entry(h.key.clone()).or_default();
                times.push(a.now);
                let in_window = times.iter().filter(|t| **t > a.now - 60 * SECOND).count();
                prop_assert!(st.count as usize <= in_window, "count {} of {}", st.count, in_window);
                prop_assert!(st.resets_in_secs <= 60);
            }
            let over = s.iter().zip(&a.hits).any(|(st, h)| st.exceeds(&h.limit));
            if !over && !a.then_restart.is_empty() {
                restarted_at = Some(a.now);
            }
        }
        let tries = c.writes().into_iter().find(|w| w.key == "tries");
        prop_assert_eq!(tries.map(|w| w.window), restarted_at.map(|start| Window { count: 0, start }));
    }

    /// A code try locks and writes the same number of counters whether or not the account has
    /// a live code and whether or not the guessing address's share is spent, and hands out a
    /// code only within the share and while the code has tries left.
    #[test]
    fn a_try_costs_the_same_whatever_it_finds(tries in 0..8i32, share_used in 0..6i32, code in any::<bool>()) {
        let now = 1_700_000_000_000;
        let ask = TryAsk {
            now,
            counter: hit("tryid:alice|ip", 5, 600),
            user_id: "u1".to_owned(),
            budget: Limit::new(20, 86_400),
            share: hit("share:u1|ip", 4, 86_400),
        };
        let record = code.then(|| SecretRecord {
            id: "s1".to_owned(),
            request_id: "r1".to_owned(),
            user_id: "u1".to_owned(),
            kind: SecretKind::Code,
            hash: "h".to_owned(),
            expires_at: chrono::DateTime::from_timestamp_millis(now + 600 * SECOND).unwrap_or_default(),
            used_at: None,
            superseded_at: None,
            attempts: 0,
            max_attempts: 5,
        });
        let mut c = Counters::new();
        let first = ask.first_keys();
        c.read([
            ("share:u1|ip".to_owned(), share_used, now - SECOND),
            ("codetry:s1".to_owned(), tries, now - SECOND),
        ].into_iter().filter(|(k, _, _)| first.contains(k)));
        let tally = ask.tally(&mut c);
        let then = tally.then_keys(&ask, record.as_ref());
        prop_assert_eq!(first.len(), 2);
        prop_assert_eq!(then.len(), 2);
        prop_assert!(then.iter().all(|k| !first.contains(k)));
        c.read([("codetry:s1".to_owned(), tries, now - SECOND)].into_iter().filter(|(k, _, _)| then.contains(k)));
        let done = tally.finish(&ask, &mut c, record);
        prop_assert_eq!(c.writes().len(), 4);
        let within = share_used < 4;
        prop_assert_eq!(tally.within_share, within);
        match done.code {
            Some(found) => {
                prop_assert!(code && within && tries < 5);
                prop_assert_eq!(found.attempts, u32::try_from(tries + 1).unwrap_or(0));
            }
            None => prop_assert!(!code || !within || tries >= 5),
        }
    }
}

/// A placeholder row (created only to be locked) reads as no counter at all.
#[test]
fn a_placeholder_is_no_counter() {
    let now = 5 * SECOND;
    let mut c = Counters::new();
    c.read([("k".to_owned(), 0, reset_core::counters::PLACEHOLDER_START)]);
    let state = c.hit(now, &hit("k", 3, 60));
    assert_eq!(state.count, 1);
    assert_eq!(
        c.writes()[0].window,
        Window {
            count: 1,
            start: now
        }
    );
}
