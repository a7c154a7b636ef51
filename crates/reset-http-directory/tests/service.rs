//! The HTTP directory against a real account service on loopback (reset_testkit's): signed
//! calls find, get and set; a wrong secret, a failing, hanging or absent service are each
//! `Unavailable` (the API's 503), never "no such account".

use std::time::Duration;

use reset_core::password::NewPassword;
use reset_core::{AccountLookup, PasswordChange, PasswordScheme, StoreError, UserDirectory};
use reset_http_directory::{HttpDirectory, HttpDirectoryOptions};
use reset_mail::Signer;
use reset_testkit::account_service::{AccountService, Mode};

const SECRET: &str = "whsec_c2VjcmV0LWZvci10aGUtYWNjb3VudC1zZXJ2aWNl";

fn directory(url: &str, secret: &str, scheme: PasswordScheme) -> HttpDirectory {
    HttpDirectory::new(HttpDirectoryOptions {
        base_url: url.to_owned(),
        signer: Signer::new(secret).expect("a secret"),
        scheme,
        timeout: Duration::from_millis(500),
    })
    .expect("options")
}

fn lookup(username: Option<&str>, email: Option<&str>) -> AccountLookup {
    AccountLookup {
        username: username.map(str::to_owned),
        email: email.map(str::to_owned),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_calls_find_get_and_set() {
    let service = AccountService::start(SECRET).await;
    let id = service.add("alice", "alice@example.com");
    service.add("bob", "bob@example.com");
    let users = directory(&service.url, SECRET, PasswordScheme::Argon2id);
    let alice = users
        .find(&lookup(Some("alice"), None))
        .await
        .expect("a call")
        .expect("alice");
    assert_eq!(
        (alice.id.as_str(), alice.emails.as_slice()),
        (id.as_str(), &["alice@example.com".to_owned()][..])
    );
    assert!(
        users
            .find(&lookup(Some("alice"), Some("bob@example.com")))
            .await
            .expect("a call")
            .is_none()
    );
    assert!(
        users
            .find(&lookup(Some("nobody"), None))
            .await
            .expect("a call")
            .is_none()
    );
    assert_eq!(
        users.by_id(&id).await.expect("a call").map(|u| u.username),
        Some("alice".to_owned())
    );
    let password = NewPassword::from_typed("violet tractor melts quietly 42");
    let change = PasswordChange::new(&password, "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA");
    users
        .set_password(&id, &change, chrono::Utc::now())
        .await
        .expect("set");
    assert_eq!(
        service.account("alice").and_then(|a| a.password),
        Some(("argon2id".to_owned(), change.argon2id().to_owned()))
    );
    let django = directory(
        &service.url,
        SECRET,
        PasswordScheme::Pbkdf2Sha256 { iterations: 1000 },
    );
    django
        .set_password(&id, &change, chrono::Utc::now())
        .await
        .expect("set");
    let (scheme, stored) = service
        .account("alice")
        .and_then(|a| a.password)
        .expect("a password");
    assert_eq!(scheme, "pbkdf2_sha256");
    assert!(stored.starts_with("pbkdf2_sha256$1000$"), "{stored}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_failure_is_unavailable() {
    let service = AccountService::start(SECRET).await;
    let id = service.add("alice", "alice@example.com");
    let wrong_secret = directory(
        &service.url,
        "whsec_YW5vdGhlci1zZWNyZXQtYWx0b2dldGhlcg==",
        PasswordScheme::Argon2id,
    );
    let users = directory(&service.url, SECRET, PasswordScheme::Argon2id);
    let unavailable = |r: Result<Option<reset_core::store::User>, StoreError>| {
        matches!(r, Err(StoreError::Unavailable(_)))
    };
    assert!(
        unavailable(wrong_secret.find(&lookup(Some("alice"), None)).await),
        "a refused signature"
    );
    for mode in [Mode::Failing, Mode::Hanging] {
        service.set_mode(mode);
        assert!(
            unavailable(users.find(&lookup(Some("alice"), None)).await),
            "{mode:?}"
        );
        assert!(unavailable(users.by_id(&id).await), "{mode:?}");
    }
    let url = service.url.clone();
    drop(service);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let gone = directory(&url, SECRET, PasswordScheme::Argon2id);
    assert!(
        unavailable(gone.find(&lookup(Some("alice"), None)).await),
        "no service"
    );
}
