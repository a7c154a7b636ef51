//! The server over an application's own table (`RESET_DIRECTORY=sql`): a Django-shaped
//! `auth_user` in the application's SQLite file, written and read here with Python's sqlite3
//! and hashlib (implementations of their own). The HTTP conformance scenarios pass with the
//! accounts there, and the suite's login check is Django's: the stored `pbkdf2_sha256` value
//! must verify the new password.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use async_trait::async_trait;
use common::{Server, command};
use reset_testkit::http_suite::{self, Host};
use reset_testkit::process::free_port;

/// Runs a Python snippet with `args`; its standard output.
fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn create_table(app_db: &Path) {
    python(
        "import sqlite3, sys\n\
         c = sqlite3.connect(sys.argv[1])\n\
         c.execute('CREATE TABLE auth_user (id INTEGER PRIMARY KEY AUTOINCREMENT, username VARCHAR(150) NOT NULL UNIQUE, email VARCHAR(254) NOT NULL, password VARCHAR(128) NOT NULL DEFAULT \\'\\')')\n\
         c.commit()",
        &[&app_db.display().to_string()],
    );
}

struct OverSql {
    base: String,
    dir: PathBuf,
    app_db: PathBuf,
}

#[async_trait]
impl Host for OverSql {
    fn base_url(&self) -> String {
        self.base.clone()
    }

    async fn create_account(&self, username: &str, email: &str) {
        python(
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             c.execute('INSERT INTO auth_user (username, email) VALUES (?, ?)', (sys.argv[2], sys.argv[3]))\n\
             c.commit()",
            &[&self.app_db.display().to_string(), username, email],
        );
    }

    async fn messages_to(&self, email: &str) -> Vec<String> {
        http_suite::eml_messages_to(&self.dir.join("data/mail"), email)
    }

    /// Django's check of the stored value, in Python.
    async fn logs_in(&self, username: &str, password: &str) -> Option<bool> {
        let verdict = python(
            "import base64, hashlib, sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             (encoded,) = c.execute('SELECT password FROM auth_user WHERE username = ?', (sys.argv[2],)).fetchone()\n\
             if not encoded: print('none'); sys.exit(0)\n\
             algo, iterations, salt, digest = encoded.split('$')\n\
             key = hashlib.pbkdf2_hmac('sha256', sys.argv[3].encode(), salt.encode(), int(iterations))\n\
             print('yes' if algo == 'pbkdf2_sha256' and base64.b64encode(key).decode() == digest else 'no')",
            &[&self.app_db.display().to_string(), username, password],
        );
        match verdict.trim() {
            "none" => None,
            v => Some(v == "yes"),
        }
    }

    async fn account_id(&self, username: &str) -> Option<String> {
        let id = python(
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             print(c.execute('SELECT id FROM auth_user WHERE username = ?', (sys.argv[2],)).fetchone()[0])",
            &[&self.app_db.display().to_string(), username],
        );
        Some(id.trim().to_owned())
    }
}

/// `reset-server` in `dir` with its accounts in `app_db`'s Django-shaped `auth_user`.
fn over_sql(dir: &Path, app_db: &Path, port: u16) -> std::process::Command {
    let select = "SELECT CAST(id AS TEXT) AS id, username, email FROM auth_user";
    let mut c = command(dir, None, port);
    c.env("RESET_DIRECTORY", "sql")
        .env(
            "RESET_SQL_DIRECTORY_URL",
            format!("sqlite://{}", app_db.display()),
        )
        .env(
            "RESET_SQL_FIND_BY_USERNAME",
            format!("{select} WHERE lower(username) = :username"),
        )
        .env(
            "RESET_SQL_FIND_BY_EMAIL",
            format!("{select} WHERE lower(email) = :email"),
        )
        .env(
            "RESET_SQL_FIND_BY_ID",
            format!("{select} WHERE CAST(id AS TEXT) = :id"),
        )
        .env(
            "RESET_SQL_SET_PASSWORD",
            "UPDATE auth_user SET password = :password WHERE CAST(id AS TEXT) = :id",
        )
        .env("RESET_SQL_PASSWORD_SCHEME", "pbkdf2_sha256:10000");
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_resets_passwords_in_the_applications_table() {
    let dir = tempfile::tempdir().unwrap();
    let app_db = dir.path().join("app.db");
    create_table(&app_db);
    let port = free_port();
    let c = over_sql(dir.path(), &app_db, port);
    let server = Server::start(c, dir.path(), "sql-directory", port).await;
    let host = OverSql {
        base: format!("http://127.0.0.1:{port}"),
        dir: dir.path().to_owned(),
        app_db,
    };
    http_suite::run(&host).await;
    let admin = common::password_admin(over_sql(dir.path(), &host.app_db, free_port()));
    reset_testkit::dialect_suite::run(&host, &admin).await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_statement_with_a_foreign_parameter_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path(), None, free_port())
        .env("RESET_DIRECTORY", "sql")
        .env("RESET_SQL_DIRECTORY_URL", "sqlite://app.db")
        .env(
            "RESET_SQL_FIND_BY_USERNAME",
            "SELECT id, username, email FROM t WHERE username = :name",
        )
        .env(
            "RESET_SQL_FIND_BY_EMAIL",
            "SELECT id, username, email FROM t WHERE email = :email",
        )
        .env(
            "RESET_SQL_FIND_BY_ID",
            "SELECT id, username, email FROM t WHERE id = :id",
        )
        .env(
            "RESET_SQL_SET_PASSWORD",
            "UPDATE t SET password = :password WHERE id = :id",
        )
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(":name"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
