//! A database per test: a fresh SQLite file, or a fresh PostgreSQL database dropped afterwards.

use std::io::Write as _;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

/// The PostgreSQL server tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("RESET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Whether unreachable services must fail the run (CI) instead of skipping.
pub fn strict() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A database that exists for one test.
pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("reset.db").display());
        Self::Sqlite { _dir: dir, url }
    }

    /// A fresh database on the test PostgreSQL server; `None` (with a loud message) when the
    /// server cannot be reached, unless `CI=true`, where that panics.
    pub async fn postgres() -> Option<Self> {
        let admin = postgres_admin_url();
        let mut conn = match AsyncPgConnection::establish(&admin).await {
            Ok(c) => c,
            Err(e) => {
                assert!(
                    !strict(),
                    "PostgreSQL at {admin} is unreachable and CI=true: {e}"
                );
                // Written to the real stderr, past the test harness's capture, so it is seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "
*** SKIPPED a PostgreSQL test: {admin} is unreachable ({e}); set RESET_TEST_POSTGRES_URL, or CI=true to fail ***
"
                );
                return None;
            }
        };
        let name = format!("reset_test_{}", uuid::Uuid::new_v4().simple());
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        let mut url = url::Url::parse(&admin).expect("RESET_TEST_POSTGRES_URL is a URL");
        url.set_path(&name);
        let url = url.to_string();
        Some(Self::Postgres { admin, name, url })
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres { admin, name, .. } = self {
            let (admin, name) = (admin.clone(), name.clone());
            // Drop runs inside the test's runtime; a thread of its own may block on another.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    if let Ok(mut conn) = AsyncPgConnection::establish(&admin).await {
                        let _ = conn
                            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}
