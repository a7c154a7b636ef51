//! Account lookups made at the same time each get their own answer. On PostgreSQL lookups that
//! queue together are sent as one call (`reset_find`), so a batch mixes every form: by name, by
//! address, by both (of one account, or of two), and names nobody has.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use reset_core::store::NewUser;
use reset_core::{AccountLookup, UserDirectory as _};
use reset_diesel::{DieselStore, PoolOptions};
use reset_testkit::TestDb;

async fn parallel(db: TestDb) {
    let store = DieselStore::connect(db.url(), PoolOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut ids = vec![];
    for i in 0..8 {
        let user = NewUser {
            username: format!("user{i}"),
            emails: vec![
                format!("user{i}@example.com"),
                format!("alt{i}@example.com"),
            ],
            ..NewUser::default()
        };
        let user = store
            .create_user(reset_testkit::server::start_time(), user)
            .await
            .unwrap();
        ids.push(user.id);
    }
    let store = Arc::new(store);
    let by = |username: Option<String>, email: Option<String>| AccountLookup { username, email };
    // (lookup, the account it must find)
    let mut cases: Vec<(AccountLookup, Option<usize>)> = vec![];
    for i in 0..8 {
        let (name, mail, alt) = (
            format!("user{i}"),
            format!("user{i}@example.com"),
            format!("alt{i}@example.com"),
        );
        let other = format!("user{}@example.com", (i + 1) % 8);
        cases.push((by(Some(name.clone()), None), Some(i)));
        cases.push((by(None, Some(alt.clone())), Some(i)));
        cases.push((by(Some(name.clone()), Some(mail)), Some(i)));
        cases.push((by(Some(name), Some(other)), None));
        cases.push((by(Some(format!("ghost{i}")), Some(alt)), None));
        cases.push((by(None, Some(format!("ghost{i}@example.com"))), None));
        cases.push((by(Some(format!("ghost{i}")), None), None));
        // The decoy's own (empty) address and name name nobody.
        cases.push((by(None, Some(String::new())), None));
        cases.push((by(Some(String::new()), None), None));
    }
    let tasks: Vec<_> = cases
        .into_iter()
        .map(|(lookup, want)| {
            let store = store.clone();
            tokio::spawn(async move { (store.find(&lookup).await.unwrap(), lookup, want) })
        })
        .collect();
    for task in tasks {
        let (found, lookup, want) = task.await.unwrap();
        match want {
            Some(i) => {
                let user = found.unwrap_or_else(|| panic!("{lookup:?} finds nobody"));
                assert_eq!(user.id, ids[i], "{lookup:?}");
                assert_eq!(
                    user.emails,
                    [
                        format!("user{i}@example.com"),
                        format!("alt{i}@example.com")
                    ],
                    "{lookup:?}: the account's addresses, in order"
                );
            }
            None => assert!(found.is_none(), "{lookup:?} finds {found:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_parallel_lookups_each_get_their_own() {
    parallel(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_parallel_lookups_each_get_their_own() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    parallel(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_parallel_lookups_each_get_their_own() {
    let Some(db) = TestDb::mysql().await else {
        return;
    };
    parallel(db).await;
}
