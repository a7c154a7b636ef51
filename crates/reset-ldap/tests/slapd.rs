//! The LDAP directory against a real OpenLDAP (Debian's `slapd`, started here with a
//! certificate made here): lookups by username, email and both; identifiers that try to widen
//! the filter find nothing; a new password set with Password Modify or a `userPassword`
//! replace lets the user bind with it; LDAPS and StartTLS; a server that is down is
//! `Unavailable` (the API's 503), never "no such account".

use std::time::Duration;

use reset_core::password::NewPassword;
use reset_core::{AccountLookup, PasswordChange, PasswordScheme, StoreError, UserDirectory};
use reset_ldap::{LdapDirectory, LdapOptions, PasswordWrite, Tls};
use reset_testkit::process::free_port;
use reset_testkit::slapd::{ADMIN, ADMIN_PASSWORD, BASE, Slapd};

fn options(slapd: &Slapd) -> LdapOptions {
    LdapOptions {
        url: slapd.url(),
        bind_dn: ADMIN.into(),
        bind_password: ADMIN_PASSWORD.into(),
        base_dn: format!("ou=people,{BASE}"),
        ..LdapOptions::default()
    }
}

fn lookup(username: Option<&str>, email: Option<&str>) -> AccountLookup {
    AccountLookup {
        username: username.map(str::to_owned),
        email: email.map(str::to_owned),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn finds_accounts_and_nothing_more() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    let directory = LdapDirectory::new(options(&slapd)).expect("options");
    let alice = directory
        .find(&lookup(Some("alice"), None))
        .await
        .expect("a search")
        .expect("alice");
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.emails, ["alice@example.com"]);
    assert_eq!(alice.locale.as_deref(), Some("de"));
    let by_email = directory
        .find(&lookup(None, Some("alice@example.com")))
        .await
        .expect("a search")
        .expect("alice by email");
    assert_eq!(by_email.id, alice.id);
    let by_id = directory
        .by_id(&alice.id)
        .await
        .expect("a search")
        .expect("alice by id");
    assert_eq!(by_id.username, "alice");
    assert!(
        directory
            .find(&lookup(Some("alice"), Some("bob@example.com")))
            .await
            .expect("a search")
            .is_none(),
        "both names must belong to one account"
    );
    // Identifiers that would widen the filter if they were not escaped.
    for evil in ["*", "a*", "alice)(uid=*", "*)(|(uid=*", "\\2a", "alice\0"] {
        for l in [lookup(Some(evil), None), lookup(None, Some(evil))] {
            assert!(
                directory.find(&l).await.expect("a search").is_none(),
                "{evil:?} found an account"
            );
        }
        assert!(directory.by_id(evil).await.expect("a search").is_none());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_password_binds() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    let new = NewPassword::from_typed("violet tractor melts quietly 42");
    let change = PasswordChange::new(&new, "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA");
    for (uid, write) in [
        ("alice", PasswordWrite::PasswordModify),
        (
            "bob",
            PasswordWrite::Replace(PasswordScheme::Bcrypt { cost: 4 }),
        ),
        ("carol", PasswordWrite::Replace(PasswordScheme::Plaintext)),
    ] {
        let directory = LdapDirectory::new(LdapOptions {
            password_write: write,
            ..options(&slapd)
        })
        .expect("options");
        let user = directory
            .find(&lookup(Some(uid), None))
            .await
            .expect("a search")
            .expect("the account");
        assert!(slapd.binds(uid, &format!("old password of {uid}")));
        directory
            .set_password(&user.id, &change, chrono::Utc::now())
            .await
            .unwrap_or_else(|e| panic!("{uid} ({write:?}): {e}"));
        assert!(
            slapd.binds(uid, change.password()),
            "{uid} binds with the new password ({write:?})"
        );
        assert!(
            !slapd.binds(uid, &format!("old password of {uid}")),
            "{uid}'s old password no longer binds"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ldaps_and_starttls_with_the_ca() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    let ca = slapd.dir.join("ca.pem");
    for (url, tls) in [
        (format!("ldaps://localhost:{}", slapd.tls_port), Tls::Url),
        (format!("ldap://localhost:{}", slapd.port), Tls::StartTls),
    ] {
        let directory = LdapDirectory::new(LdapOptions {
            url: url.clone(),
            tls: tls.clone(),
            ca_file: Some(ca.clone()),
            ..options(&slapd)
        })
        .expect("options");
        assert!(
            directory
                .find(&lookup(Some("alice"), None))
                .await
                .unwrap_or_else(|e| panic!("{url} {tls:?}: {e}"))
                .is_some()
        );
        // Without the CA (the public roots only), the certificate is refused.
        let untrusting = LdapDirectory::new(LdapOptions {
            url: url.clone(),
            tls: tls.clone(),
            ..options(&slapd)
        })
        .expect("options");
        assert!(matches!(
            untrusting.find(&lookup(Some("alice"), None)).await,
            Err(StoreError::Unavailable(_))
        ));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_is_down_is_unavailable() {
    let directory = LdapDirectory::new(LdapOptions {
        url: format!("ldap://127.0.0.1:{}", free_port()),
        bind_dn: ADMIN.into(),
        bind_password: ADMIN_PASSWORD.into(),
        base_dn: BASE.into(),
        timeout: Duration::from_secs(1),
        ..LdapOptions::default()
    })
    .expect("options");
    for result in [
        directory.find(&lookup(Some("alice"), None)).await,
        directory.by_id("x").await,
    ] {
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "{result:?}"
        );
    }
}
