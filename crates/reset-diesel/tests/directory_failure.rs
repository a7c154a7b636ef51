//! When the user directory cannot store the new password, the reset fails and the secret
//! stays usable; once it can, the same secret completes the reset.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reset_core::store::User;
use reset_core::{
    AccountLookup, ClientContext, Outbox as _, Ports, RequestInput, ResetConfig, ResetError,
    ResetService, SecretInput, SecretKey, StoreError, UserDirectory, UserInput,
};
use reset_diesel::{DieselStore, PoolOptions};
use reset_testkit::TestDb;

/// The built-in directory, with password writes that fail while `broken` is set.
struct Flaky {
    inner: Arc<DieselStore>,
    broken: AtomicBool,
}

#[async_trait]
impl UserDirectory for Flaky {
    async fn find(&self, lookup: &AccountLookup) -> Result<Option<User>, StoreError> {
        self.inner.find(lookup).await
    }
    async fn by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.inner.by_id(id).await
    }
    async fn set_password(
        &self,
        id: &str,
        change: &reset_core::PasswordChange<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if self.broken.load(Ordering::SeqCst) {
            // A refused write (the change surely did not land), not a lost connection (after
            // which the secret stays used: the change may have landed).
            return Err(StoreError::Query("the directory refused the write".into()));
        }
        self.inner.set_password(id, change, at).await
    }

    async fn revoke_sessions(&self, id: &str) -> Result<reset_core::SessionsEnded, StoreError> {
        self.inner.revoke_sessions(id).await
    }
}

async fn scenario(db: TestDb) {
    let store = Arc::new(
        DieselStore::connect(db.url(), PoolOptions::default())
            .await
            .unwrap(),
    );
    store.migrate().await.unwrap();
    let directory = Arc::new(Flaky {
        inner: store.clone(),
        broken: AtomicBool::new(true),
    });
    let ports = Ports::new(store.clone(), directory.clone());
    let service = ResetService::new(
        ports,
        SecretKey::new(vec![1; 32]).unwrap(),
        ResetConfig::default(),
    )
    .unwrap();
    let new = service
        .prepare_user(UserInput {
            username: "ann".into(),
            emails: vec!["ann@example.com".into()],
            ..UserInput::default()
        })
        .await
        .unwrap();
    store.create_user(service.now(), new).await.unwrap();
    let ctx = ClientContext::default();
    service
        .request(
            RequestInput {
                username: Some("ann".into()),
                ..RequestInput::default()
            },
            &ctx,
        )
        .await
        .unwrap();
    service.settle().await;
    let message = store
        .claim_outbox(Utc::now() + chrono::Duration::days(1), 10, 60)
        .await
        .unwrap()
        .pop()
        .unwrap();
    let token = message.payload.link_token().unwrap().to_owned();

    let password = "violet tractor melts quietly";
    let failed = service
        .complete(SecretInput::Token(token.clone()), password, &ctx)
        .await;
    assert!(matches!(failed, Err(ResetError::Store(_))), "{failed:?}");
    assert!(
        service
            .verify(SecretInput::Token(token.clone()), &ctx)
            .await
            .is_ok(),
        "the secret was given back"
    );

    directory.broken.store(false, Ordering::SeqCst);
    service
        .complete(SecretInput::Token(token.clone()), password, &ctx)
        .await
        .unwrap();
    let user = store
        .by_id(&message_user(&store).await)
        .await
        .unwrap()
        .unwrap();
    assert!(reset_core::password::verify_password(
        password,
        user.password_hash.as_deref().unwrap()
    ));
    assert!(matches!(
        service.verify(SecretInput::Token(token), &ctx).await,
        Err(ResetError::InvalidToken)
    ));
}

async fn message_user(store: &DieselStore) -> String {
    store.list_users().await.unwrap().pop().unwrap().id
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite() {
    scenario(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    scenario(db).await;
}
