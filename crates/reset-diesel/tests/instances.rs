//! Instances sharing one database move the same counters: a hit counts once whichever instance
//! makes it, and no instance plans on a counter another one moved since. PostgreSQL's and MySQL's
//! hits plan on what the instance last wrote and check it as they write (`backend/swap.rs`);
//! these cases race that memory against the other instances, on every store.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use reset_core::rate_limit::{CounterHit, Limit};
use reset_core::store::ResetState as _;
use reset_diesel::{DieselStore, PoolOptions};
use reset_testkit::TestDb;

fn counter(key: &str) -> CounterHit {
    CounterHit {
        key: key.to_owned(),
        limit: Limit::new(1_000, 60),
    }
}

fn now() -> DateTime<Utc> {
    reset_testkit::server::start_time()
}

async fn instances(db: &TestDb, n: usize) -> Vec<Arc<DieselStore>> {
    let mut stores = Vec::new();
    for _ in 0..n {
        let store = DieselStore::connect(db.url(), PoolOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        stores.push(Arc::new(store));
    }
    stores
}

async fn count(store: &DieselStore, at: DateTime<Utc>, c: &CounterHit) -> u32 {
    store.hit(at, std::slice::from_ref(c), &[]).await.unwrap()[0].count
}

/// Three instances, each remembering the counter, hit it 60 times at once: 60 distinct counts.
async fn parallel_hits_from_instances_count_once(db: TestDb) {
    let stores = instances(&db, 3).await;
    let c = counter("instances:parallel");
    for (i, store) in stores.iter().enumerate() {
        assert_eq!(count(store, now(), &c).await as usize, i + 1);
    }
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let (store, c) = (stores[i % stores.len()].clone(), c.clone());
            tokio::spawn(async move { count(&store, now(), &c).await })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (4..=63).collect::<Vec<u32>>());
}

/// A counter one instance remembers, moved by another (a hit, a restart, a hit's
/// `then_restart`), is read again: the next count follows the other instance's write.
async fn a_counter_moved_elsewhere_is_read_again(db: TestDb) {
    let stores = instances(&db, 2).await;
    let (a, b) = (&stores[0], &stores[1]);
    let c = counter("instances:moved");
    for expected in 1..=3 {
        assert_eq!(count(a, now(), &c).await, expected);
    }
    assert_eq!(count(b, now(), &c).await, 4, "b reads what a wrote");
    assert_eq!(count(a, now(), &c).await, 5, "a reads what b wrote");
    b.restart(now(), std::slice::from_ref(&c)).await.unwrap();
    assert_eq!(count(a, now(), &c).await, 1, "a sees b's restart");
    let other = counter("instances:other");
    b.hit(
        now(),
        std::slice::from_ref(&other),
        std::slice::from_ref(&c),
    )
    .await
    .unwrap();
    assert_eq!(count(a, now(), &c).await, 1, "a sees b's then_restart");
    let later = now() + Duration::seconds(61);
    assert_eq!(count(a, later, &c).await, 1, "a new window");
    assert_eq!(count(b, later, &c).await, 2);
}

/// A hit of two counters, one of which another instance moved, writes neither until both are
/// read again: each counts the hit once (a swap that wrote the unmoved one and then planned
/// again would count it twice).
async fn a_swap_writes_all_its_counters_or_none(db: TestDb) {
    let stores = instances(&db, 2).await;
    let (a, b) = (&stores[0], &stores[1]);
    let (one, two) = (counter("instances:one"), counter("instances:two"));
    let both = [one.clone(), two.clone()];
    let counts = |states: Vec<reset_core::rate_limit::CounterState>| {
        states.iter().map(|s| s.count).collect::<Vec<_>>()
    };
    assert_eq!(counts(a.hit(now(), &both, &[]).await.unwrap()), [1, 1]);
    assert_eq!(count(b, now(), &two).await, 2, "b moves the second");
    assert_eq!(counts(a.hit(now(), &both, &[]).await.unwrap()), [2, 3]);
    assert_eq!(count(b, now(), &one).await, 3);
    assert_eq!(count(b, now(), &two).await, 4);
}

reset_testkit::on_every_store!(
    parallel_hits_from_instances_count_once,
    a_counter_moved_elsewhere_is_read_again,
    a_swap_writes_all_its_counters_or_none,
);
