//! The built-in directory's administration (`reset_core::Accounts`) on every store: a batch is
//! written whole or not at all, a dry run writes nothing, names are unique, a change ends live
//! secrets when it should, a deletion takes the addresses and history with it, pages follow ids.

#![allow(clippy::unwrap_used)]

use reset_core::store::{AccountChange, Accounts as _, NewUser};
use reset_core::{StoreError, UserDirectory as _};
use reset_diesel::{DieselStore, PoolOptions};
use reset_testkit::TestDb;
use reset_testkit::server::start_time;

fn new(name: &str, emails: &[&str]) -> NewUser {
    NewUser {
        username: name.to_owned(),
        emails: emails.iter().map(|e| (*e).to_owned()).collect(),
        ..NewUser::default()
    }
}

async fn accounts(db: TestDb) {
    let store = DieselStore::connect(db.url(), PoolOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let now = start_time();

    // A dry run answers what it would write, and writes nothing.
    let dry = store
        .create_accounts(now, vec![new("ann", &["ann@example.com"])], "test", true)
        .await
        .unwrap();
    assert_eq!(dry[0].username, "ann");
    assert!(store.list_accounts(None, 10).await.unwrap().is_empty());

    // A batch with a clash inside is written not at all.
    let clash = store
        .create_accounts(
            now,
            vec![
                new("ann", &["ann@example.com"]),
                new("ben", &["ann@example.com"]),
            ],
            "test",
            false,
        )
        .await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    assert!(store.list_accounts(None, 10).await.unwrap().is_empty());

    // Many at once (more than one chunk of rows), all written.
    let many: Vec<NewUser> = (0..450)
        .map(|i| {
            let mut u = new(
                &format!("user{i:03}"),
                &[&format!("user{i:03}@example.com")],
            );
            u.disabled = i % 2 == 1;
            u.password_hash = (i == 0)
                .then(|| "$2b$04$abcdefghijklmnopqrstuu5Jxh1fJ0hEN2u7lF7UYtZc7y2OpG/9i".to_owned());
            u
        })
        .collect();
    let written = store
        .create_accounts(now, many, "test", false)
        .await
        .unwrap();
    assert_eq!(written.len(), 450);
    let first = &written[0];
    let stored = store.account(&first.id).await.unwrap().unwrap();
    assert_eq!(&stored, first);
    assert!(stored.password_changed_at.is_some());
    assert!(
        store
            .account(&written[1].id)
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    // The directory port reads the flag too (the service leaves disabled accounts out).
    assert!(store.by_id(&written[1].id).await.unwrap().unwrap().disabled);

    // Taken names, with their owners.
    let mut taken = store
        .taken(
            &["user000".into(), "nobody".into()],
            &["user001@example.com".into(), "none@example.com".into()],
        )
        .await
        .unwrap();
    taken.sort();
    assert_eq!(
        taken,
        [
            ("user000".to_owned(), written[0].id.clone()),
            ("user001@example.com".to_owned(), written[1].id.clone()),
        ]
    );

    // Pages by id, every account once.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_accounts(after.as_deref(), 100).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|u| u.id.clone());
        seen.extend(page);
    }
    assert_eq!(seen, written);

    // A change: addresses replaced, phone set, locale removed, switched on; counted once.
    let change = AccountChange {
        emails: Some(vec!["u1a@example.com".into(), "u1b@example.com".into()]),
        phone: Some(Some("+15550100".into())),
        locale: Some(None),
        disabled: Some(false),
    };
    let changed = store
        .update_account(now, &written[1].id, &change, "test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.emails, ["u1a@example.com", "u1b@example.com"]);
    assert_eq!(changed.phone.as_deref(), Some("+15550100"));
    assert!(!changed.disabled);
    assert_eq!(changed.sequence, written[1].sequence + 1);
    // The old address is free; a taken one is a conflict that changes nothing.
    assert!(
        store
            .taken(&[], &["user001@example.com".into()])
            .await
            .unwrap()
            .is_empty()
    );
    let steal = AccountChange {
        emails: Some(vec!["user002@example.com".into()]),
        ..AccountChange::default()
    };
    let refused = store
        .update_account(now, &written[1].id, &steal, "test")
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        store.account(&written[1].id).await.unwrap().unwrap(),
        changed
    );
    assert!(
        store
            .update_account(now, "nobody", &change, "test")
            .await
            .unwrap()
            .is_none()
    );

    // Deleted with its addresses: the names are free again, the id unknown.
    assert!(
        store
            .delete_account(now, &written[1].id, "test")
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_account(now, &written[1].id, "test")
            .await
            .unwrap()
    );
    assert!(store.account(&written[1].id).await.unwrap().is_none());
    assert!(
        store
            .taken(&[], &["u1a@example.com".into()])
            .await
            .unwrap()
            .is_empty()
    );
    store
        .create_accounts(
            now,
            vec![new("user001", &["u1a@example.com"])],
            "test",
            false,
        )
        .await
        .unwrap();
    let kinds = store.audit_kinds(&written[1].id).await.unwrap();
    assert_eq!(kinds, ["user_created", "user_updated", "user_deleted"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_sqlite() {
    accounts(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    accounts(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_mysql() {
    let Some(db) = TestDb::mysql().await else {
        return;
    };
    accounts(db).await;
}
