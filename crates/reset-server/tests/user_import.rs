//! `reset-server user import` as an operator runs it, on SQLite, PostgreSQL and MariaDB: a file
//! with refusals writes nothing and names every refused line; a dry run writes nothing; the
//! import is all or none; existing bcrypt and argon2id hashes are kept as they are (and still
//! check the old password); an imported account resets like any other.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Output;

use reset_core::password::verify_password;
use reset_core::store::Accounts as _;
use reset_diesel::{DieselStore, PoolOptions};
use reset_testkit::process::{free_port, newest_mail, token_after};

mod common;
use common::{Server, command, post};

const ALICE_OLD: &str = "alice's old password";
const BOB_OLD: &str = "bob's old password";

fn run(dir: &Path, url: Option<&str>, args: &[&str]) -> Output {
    command(dir, url, free_port()).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn listed(dir: &Path, url: Option<&str>) -> Vec<String> {
    let out = run(dir, url, &["user", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap().to_owned())
        .collect()
}

async fn import(url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // bcrypt as another application stored it (cost 4 keeps the test quick).
    let bcrypt = reset_core::PasswordScheme::Bcrypt { cost: 4 }
        .encode(&reset_core::PasswordChange::new(
            &reset_core::password::NewPassword::from_typed(ALICE_OLD),
            "",
        ))
        .unwrap();
    let argon = reset_core::PasswordHasher::new(
        reset_core::HasherConfig::default(),
        std::sync::Arc::new(reset_core::OsSecretRng),
    )
    .unwrap()
    .hash(BOB_OLD)
    .await
    .unwrap();
    let good = format!(
        "username,emails,phone,locale,password_hash,disabled\n\
         Alice,alice@example.com,,en,{bcrypt},\n\
         bob,bob@example.com b2@example.com,+15550100,,\"{argon}\",\n\
         carol,carol@example.com,,,,true\n"
    );
    let bad = format!(
        "{good}\
         alice,other@example.com,,,,\n\
         dave,not an address,,,,\n\
         erin,erin@example.com,,,5f4dcc3b5aa765d61d8327deb882cf99,\n\
         frank,frank@example.com,,,,maybe\n"
    );
    std::fs::write(d.join("good.csv"), &good).unwrap();
    std::fs::write(d.join("bad.csv"), &bad).unwrap();

    // Refusals: every one named with its line, nothing written, a failing exit.
    let out = run(d, url, &["user", "import", "bad.csv"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    for line in [
        "line 5: alice is also on line 2",
        "line 6:",
        "line 7: password_hash",
        "line 8: disabled",
    ] {
        assert!(err.contains(line), "{line:?} in {err}");
    }
    assert!(
        err.contains("nothing imported: 4 record(s) refused"),
        "{err}"
    );
    assert!(listed(d, url).is_empty());

    // A dry run of what would pass writes nothing either.
    let out = run(
        d,
        url,
        &["user", "import", "bad.csv", "--skip-refused", "--dry-run"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("dry run: 3 account(s) would be imported, 4 refused"));
    assert!(listed(d, url).is_empty());

    // The real import; the same file again is refused whole (every name is taken now).
    let out = run(d, url, &["user", "import", "good.csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("3 account(s) imported, 0 refused"));
    assert_eq!(listed(d, url), ["alice", "bob", "carol"]);
    let out = run(d, url, &["user", "import", "good.csv"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("line 2: alice belongs to an existing account"));
    // JSON lines, told by --format; a name taken in the database is refused with its line.
    std::fs::write(
        d.join("more.txt"),
        "{\"username\":\"dora\",\"emails\":[\"dora@example.com\"]}\n\
         {\"username\":\"carol\"}\n",
    )
    .unwrap();
    let out = run(d, url, &["user", "import", "more.txt"]);
    assert!(
        text(&out.stderr).contains("--format"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        d,
        url,
        &[
            "user",
            "import",
            "more.txt",
            "--format",
            "jsonl",
            "--skip-refused",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("line 2: carol belongs to an existing account"));
    assert_eq!(listed(d, url), ["alice", "bob", "carol", "dora"]);

    // The hashes are kept as they were, and check the old passwords; carol is switched off.
    let store_url = url.map_or_else(
        || format!("sqlite://{}/data/reset.db", d.display()),
        str::to_owned,
    );
    let store = DieselStore::connect(&store_url, PoolOptions::default())
        .await
        .unwrap();
    let users = store.list_accounts(None, 10).await.unwrap();
    let by_name = |n: &str| users.iter().find(|u| u.username == n).unwrap().clone();
    let alice = by_name("alice");
    assert_eq!(alice.password_hash.as_deref(), Some(bcrypt.as_str()));
    assert!(verify_password(ALICE_OLD, &bcrypt));
    assert_eq!(
        by_name("bob").password_hash.as_deref(),
        Some(argon.as_str())
    );
    assert_eq!(by_name("bob").emails, ["bob@example.com", "b2@example.com"]);
    assert!(by_name("carol").disabled);
    drop(store);

    // An imported account resets like any other.
    let port = free_port();
    let _server = Server::start(command(d, url, port), d, "server", port).await;
    let base = format!("http://127.0.0.1:{port}");
    let status = post(
        &base,
        "/v1/password-reset/request",
        serde_json::json!({"email": "alice@example.com"}),
    )
    .await;
    assert_eq!(status.as_u16(), 202);
    let mail = newest_mail(&d.join("data/mail")).await;
    assert!(mail.contains("Hello alice"), "{mail}");
    let token = token_after(&mail, "http://127.0.0.1:8080/reset-password?token=");
    let status = post(
        &base,
        "/v1/password-reset/complete",
        serde_json::json!({"token": token, "new_password": "violet tractor melts quietly"}),
    )
    .await;
    assert_eq!(status.as_u16(), 204);
}

#[tokio::test(flavor = "multi_thread")]
async fn import_sqlite() {
    import(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn import_postgres() {
    let Some(db) = reset_testkit::TestDb::postgres().await else {
        return;
    };
    import(Some(db.url())).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn import_mysql() {
    let Some(db) = reset_testkit::TestDb::mysql().await else {
        return;
    };
    import(Some(db.url())).await;
}
