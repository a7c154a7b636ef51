//! Identifiers compare exactly on every backend: a username or address differing in case,
//! accent or width finds nothing (MySQL's default collations are case- and accent-insensitive;
//! ours are `utf8mb4_bin`). Lookups always come normalised from `AccountLookup` (NFKC, trimmed,
//! lower-cased), so what reaches the store differs from a stored identifier in exactly these
//! ways or not at all. (Trailing spaces never reach it: `utf8mb4_bin` is a PAD SPACE collation
//! on MySQL and MariaDB, so the trimming in `reset_core::identity` is what keeps them apart;
//! account ids are compared byte for byte by the store itself.)

#![allow(clippy::unwrap_used)]

use reset_core::store::NewUser;
use reset_core::{AccountLookup, UserDirectory as _};
use reset_diesel::{DieselStore, PoolOptions};
use reset_testkit::TestDb;

async fn exact(db: TestDb) {
    let store = DieselStore::connect(db.url(), PoolOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let user = NewUser {
        username: "alice".into(),
        emails: vec!["alice@example.com".into()],
        ..NewUser::default()
    };
    let alice = store
        .create_user(reset_testkit::server::start_time(), user)
        .await
        .unwrap();
    let by = |username: Option<&str>, email: Option<&str>| AccountLookup {
        username: username.map(str::to_owned),
        email: email.map(str::to_owned),
    };
    let found = store.find(&by(Some("alice"), None)).await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(alice.id.clone()));
    let found = store
        .find(&by(None, Some("alice@example.com")))
        .await
        .unwrap();
    assert_eq!(found.map(|u| u.id), Some(alice.id.clone()));
    // An account id, or the decoy's, with a trailing space finds nothing either (MySQL's
    // collations pad spaces; the store compares ids byte for byte).
    let padded = format!("{} ", alice.id);
    assert!(store.by_id(&padded).await.unwrap().is_none(), "{padded:?}");
    let decoy = "00000000-0000-0000-0000-000000000000 ";
    assert!(store.by_id(decoy).await.unwrap().is_none(), "the decoy");
    assert!(store.by_id(&alice.id).await.unwrap().is_some());
    for other in ["Alice", "ALICE", "alicé", "álice", "ａｌｉｃｅ"] {
        assert!(
            store.find(&by(Some(other), None)).await.unwrap().is_none(),
            "{other:?} must not find alice"
        );
        let address = format!("{other}@example.com");
        assert!(
            store
                .find(&by(None, Some(&address)))
                .await
                .unwrap()
                .is_none(),
            "{address:?} must not find alice"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_compares_identifiers_exactly() {
    exact(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_compares_identifiers_exactly() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    exact(db).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_compares_identifiers_exactly() {
    let Some(db) = TestDb::mysql().await else {
        return;
    };
    exact(db).await;
}
