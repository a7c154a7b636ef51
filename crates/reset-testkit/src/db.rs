//! A database per test: a fresh SQLite file, or a fresh PostgreSQL or MySQL database dropped
//! afterwards.

use std::io::Write as _;

use diesel_async::{
    AsyncConnection, AsyncMysqlConnection, AsyncPgConnection, SimpleAsyncConnection,
};

/// The PostgreSQL server tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("RESET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The MySQL or MariaDB server tests use.
pub fn mysql_admin_url() -> String {
    std::env::var("RESET_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

pub use crate::process::strict;

/// A database that exists for one test.
pub enum TestDb {
    /// A SQLite file in a temporary folder, deleted with it.
    Sqlite {
        /// The temporary folder holding the file.
        _dir: tempfile::TempDir,
        /// The `sqlite://` URL of the file.
        url: String,
    },
    /// A database of its own on the test PostgreSQL server, dropped afterwards.
    Postgres {
        /// The server's URL, to drop the database from.
        admin: String,
        /// The database's name.
        name: String,
        /// The database's URL.
        url: String,
    },
    /// A database of its own on the test MySQL/MariaDB server, dropped afterwards.
    Mysql {
        /// The server's URL, to drop the database from.
        admin: String,
        /// The database's name.
        name: String,
        /// The database's URL.
        url: String,
    },
}

/// Says loudly that a test is skipped because its database server is unreachable, or panics
/// under `CI=true`.
fn unreachable(what: &str, env: &str, admin: &str, e: &dyn std::fmt::Display) {
    assert!(
        !strict(),
        "{what} at {admin} is unreachable and CI=true: {e}"
    );
    // Written to the real stderr, past the test harness's capture, so it is seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED a {what} test: {admin} is unreachable ({e}); set {env}, or CI=true to fail ***\n"
    );
}

/// `admin` with its path replaced by the database `name`.
fn with_database(admin: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin).expect("the test database URL is a URL");
    url.set_path(name);
    url.to_string()
}

impl TestDb {
    /// A fresh SQLite database in a temporary folder.
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
                unreachable("PostgreSQL", "RESET_TEST_POSTGRES_URL", &admin, &e);
                return None;
            }
        };
        let name = format!("reset_test_{}", uuid::Uuid::new_v4().simple());
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        let url = with_database(&admin, &name);
        Some(Self::Postgres { admin, name, url })
    }

    /// A fresh database on the test MySQL/MariaDB server (`RESET_TEST_MYSQL_URL`, default
    /// `mysql://root@127.0.0.1:3306`); `None` (loudly) when unreachable, unless `CI=true`.
    pub async fn mysql() -> Option<Self> {
        let admin = mysql_admin_url();
        let mut conn = match AsyncMysqlConnection::establish(&admin).await {
            Ok(c) => c,
            Err(e) => {
                unreachable("MySQL", "RESET_TEST_MYSQL_URL", &admin, &e);
                return None;
            }
        };
        let name = format!("reset_test_{}", uuid::Uuid::new_v4().simple());
        conn.batch_execute(&format!(
            "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ))
        .await
        .expect("create database");
        let url = with_database(&admin, &name);
        Some(Self::Mysql { admin, name, url })
    }

    /// The URL the store connects to.
    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } | Self::Mysql { url, .. } => url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, statement) = match self {
            Self::Sqlite { .. } => return,
            Self::Postgres { admin, name, .. } => (
                admin.clone(),
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ),
            Self::Mysql { admin, name, .. } => {
                (admin.clone(), format!("DROP DATABASE IF EXISTS {name}"))
            }
        };
        let mysql = matches!(self, Self::Mysql { .. });
        // Drop runs inside the test's runtime; a thread of its own may block on another.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if mysql {
                    if let Ok(mut conn) = AsyncMysqlConnection::establish(&admin).await {
                        let _ = conn.batch_execute(&statement).await;
                    }
                } else if let Ok(mut conn) = AsyncPgConnection::establish(&admin).await {
                    let _ = conn.batch_execute(&statement).await;
                }
            });
        })
        .join();
    }
}

/// One test per store (modules `sqlite`, `postgres`, `mysql`) for each scenario named, each an
/// `async fn(TestDb)` beside the call, on a multi-threaded runtime. PostgreSQL and MySQL follow
/// [`TestDb::postgres`]: skipped loudly when unreachable, failing under `CI=true`.
#[macro_export]
macro_rules! on_every_store {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario($crate::db::TestDb::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    let Some(db) = $crate::db::TestDb::postgres().await else { return };
                    super::$scenario(db).await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    let Some(db) = $crate::db::TestDb::mysql().await else { return };
                    super::$scenario(db).await;
                }
            )*
        }
    };
}
