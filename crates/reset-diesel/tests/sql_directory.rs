//! The SQL directory over a table shaped like Django's `auth_user`, in each database: the
//! statements find accounts by username, email, both and id; an identifier carrying SQL finds
//! nothing (it is bound, never spliced); a new password is stored as Django's `pbkdf2_sha256`
//! (verified here by Python's hashlib, an implementation of its own) or as bcrypt.

use diesel_async::SimpleAsyncConnection as _;
use reset_core::password::NewPassword;
use reset_core::{AccountLookup, PasswordChange, PasswordScheme, UserDirectory};
use reset_diesel::{SqlDirectory, SqlStatements};
use reset_testkit::TestDb;

const PASSWORD: &str = "violet tractor melts quietly 42";

/// Runs `sql` (several statements) on the test database; returns the one text column of the
/// last statement's first row when it is a query.
async fn run(db: &TestDb, sql: &str, read: Option<&str>) -> Option<String> {
    use diesel::sql_types::Text;
    #[derive(diesel::QueryableByName)]
    struct One {
        #[diesel(sql_type = Text)]
        value: String,
    }
    match db {
        TestDb::Postgres { url, .. } => {
            use diesel_async::RunQueryDsl as _;
            let mut c = reset_diesel::PgTarget::parse(url)
                .ok()?
                .establish()
                .await
                .ok()?;
            c.batch_execute(sql).await.expect("setup");
            match read {
                Some(q) => diesel::sql_query(q)
                    .get_result::<One>(&mut c)
                    .await
                    .ok()
                    .map(|o| o.value),
                None => None,
            }
        }
        TestDb::Mysql { url, .. } => {
            use diesel_async::RunQueryDsl as _;
            let mut c = reset_diesel::MysqlTarget::parse(url)
                .ok()?
                .establish()
                .await
                .ok()?;
            c.batch_execute(sql).await.expect("setup");
            match read {
                Some(q) => diesel::sql_query(q)
                    .get_result::<One>(&mut c)
                    .await
                    .ok()
                    .map(|o| o.value),
                None => None,
            }
        }
        TestDb::Sqlite { url, .. } => {
            use diesel::{Connection as _, RunQueryDsl as _};
            let path = url.trim_start_matches("sqlite://").to_owned();
            let mut c = diesel::SqliteConnection::establish(&path).expect("sqlite");
            diesel::connection::SimpleConnection::batch_execute(&mut c, sql).expect("setup");
            read.and_then(|q| {
                diesel::sql_query(q)
                    .get_result::<One>(&mut c)
                    .ok()
                    .map(|o| o.value)
            })
        }
    }
}

/// Python's own PBKDF2 over Django's encoded value: whether `password` matches it.
fn django_checks(encoded: &str, password: &str) -> bool {
    let script = "import base64, hashlib, sys\n\
        algo, iterations, salt, digest = sys.argv[1].split('$')\n\
        key = hashlib.pbkdf2_hmac('sha256', sys.argv[2].encode(), salt.encode(), int(iterations))\n\
        sys.exit(0 if algo == 'pbkdf2_sha256' and base64.b64encode(key).decode() == digest else 1)";
    std::process::Command::new("python3")
        .args(["-c", script, encoded, password])
        .status()
        .is_ok_and(|s| s.success())
}

async fn scenario(db: TestDb) {
    let (autoincrement, text) = match db {
        TestDb::Postgres { .. } => ("SERIAL PRIMARY KEY", "TEXT"),
        TestDb::Mysql { .. } => ("INT AUTO_INCREMENT PRIMARY KEY", "CHAR"),
        TestDb::Sqlite { .. } => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT"),
    };
    run(
        &db,
        &format!(
            "CREATE TABLE auth_user (id {autoincrement}, username VARCHAR(150) NOT NULL UNIQUE, \
             email VARCHAR(254) NOT NULL, password VARCHAR(128) NOT NULL DEFAULT ''); \
             INSERT INTO auth_user (username, email) VALUES ('alice', 'Alice@Example.com'); \
             INSERT INTO auth_user (username, email) VALUES ('bob', 'bob@example.com')"
        ),
        None,
    )
    .await;
    let select = format!("SELECT CAST(id AS {text}) AS id, username, email FROM auth_user");
    let statements = SqlStatements {
        find_by_username: format!("{select} WHERE lower(username) = :username"),
        find_by_email: format!("{select} WHERE lower(email) = :email"),
        find_by_id: format!("{select} WHERE CAST(id AS {text}) = :id"),
        set_password: format!(
            "UPDATE auth_user SET password = :password WHERE CAST(id AS {text}) = :id"
        ),
    };
    let lookup = |u: Option<&str>, e: Option<&str>| AccountLookup {
        username: u.map(str::to_owned),
        email: e.map(str::to_owned),
    };
    let django = SqlDirectory::new(
        db.url(),
        &statements,
        PasswordScheme::Pbkdf2Sha256 { iterations: 1000 },
        2,
    )
    .expect("a directory");
    let alice = django
        .find(&lookup(Some("alice"), None))
        .await
        .expect("a query")
        .expect("alice");
    assert_eq!(alice.emails, ["alice@example.com"]);
    for (u, e) in [
        (None, Some("alice@example.com")),
        (Some("alice"), Some("alice@example.com")),
    ] {
        assert_eq!(
            django
                .find(&lookup(u, e))
                .await
                .expect("a query")
                .map(|a| a.id),
            Some(alice.id.clone())
        );
    }
    assert!(
        django
            .find(&lookup(Some("alice"), Some("bob@example.com")))
            .await
            .expect("a query")
            .is_none()
    );
    for evil in ["' OR '1'='1", "alice' --", "%", "alice\\"] {
        assert!(
            django
                .find(&lookup(Some(evil), None))
                .await
                .expect("a query")
                .is_none(),
            "{evil}"
        );
        assert!(
            django
                .find(&lookup(None, Some(evil)))
                .await
                .expect("a query")
                .is_none(),
            "{evil}"
        );
        assert!(
            django.by_id(evil).await.expect("a query").is_none(),
            "{evil}"
        );
    }
    assert_eq!(
        django
            .by_id(&alice.id)
            .await
            .expect("a query")
            .map(|a| a.username),
        Some("alice".to_owned())
    );
    assert_eq!((alice.locale.clone(), alice.phone.clone()), (None, None));
    // A statement may select the language and phone number too (a column it leaves out reads
    // as NULL, as above).
    let with_details = SqlStatements {
        find_by_username: format!(
            "SELECT CAST(id AS {text}) AS id, username, email, 'de' AS locale, \
             '+15550100' AS phone FROM auth_user WHERE lower(username) = :username"
        ),
        ..statements.clone()
    };
    let detailed = SqlDirectory::new(
        db.url(),
        &with_details,
        PasswordScheme::Pbkdf2Sha256 { iterations: 1000 },
        2,
    )
    .expect("a directory")
    .find(&lookup(Some("alice"), None))
    .await
    .expect("a query")
    .expect("alice");
    assert_eq!(detailed.locale.as_deref(), Some("de"));
    assert_eq!(detailed.phone.as_deref(), Some("+15550100"));

    let password = NewPassword::from_typed(PASSWORD);
    let change = PasswordChange::new(&password, "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA");
    django
        .set_password(&alice.id, &change, chrono::Utc::now())
        .await
        .expect("set");
    let stored = run(
        &db,
        "SELECT 1",
        Some("SELECT password AS value FROM auth_user WHERE username = 'alice'"),
    )
    .await
    .expect("alice's password");
    assert!(django_checks(&stored, PASSWORD), "Django checks {stored}");
    assert!(!django_checks(&stored, "something else"));

    let bob = django
        .find(&lookup(Some("bob"), None))
        .await
        .expect("a query")
        .expect("bob");
    let bcrypt_table =
        SqlDirectory::new(db.url(), &statements, PasswordScheme::Bcrypt { cost: 4 }, 2)
            .expect("a directory");
    bcrypt_table
        .set_password(&bob.id, &change, chrono::Utc::now())
        .await
        .expect("set");
    let stored = run(
        &db,
        "SELECT 1",
        Some("SELECT password AS value FROM auth_user WHERE username = 'bob'"),
    )
    .await
    .expect("bob's password");
    assert!(
        bcrypt::verify(PASSWORD, &stored).unwrap_or(false),
        "bcrypt checks {stored}"
    );
    // Unchanged: alice keeps her PBKDF2 value.
    let again = run(
        &db,
        "SELECT 1",
        Some("SELECT password AS value FROM auth_user WHERE username = 'alice'"),
    )
    .await;
    assert!(again.is_some_and(|v| v.starts_with("pbkdf2_sha256$")));
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_table() {
    scenario(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_table() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    scenario(db).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_table() {
    let Some(db) = TestDb::mysql().await else {
        return;
    };
    scenario(db).await;
}

#[test]
fn statements_with_foreign_parameters_are_refused() {
    let statements = SqlStatements {
        find_by_username: "SELECT id, username, email FROM t WHERE username = :user".into(),
        find_by_email: "SELECT id, username, email FROM t WHERE email = :email".into(),
        find_by_id: "SELECT id, username, email FROM t WHERE id = :id".into(),
        set_password: "UPDATE t SET password = :password WHERE id = :id".into(),
    };
    let e = SqlDirectory::new("sqlite://x.db", &statements, PasswordScheme::Argon2id, 1)
        .expect_err("a foreign parameter");
    assert!(e.to_string().contains(":user"), "{e}");
}
