//! Database URLs and connection pools.

use std::path::PathBuf;

use diesel::ConnectionError;
use diesel_async::SimpleAsyncConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use futures_util::FutureExt;

use crate::backend::{pg, sqlite};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://…` or `postgresql://…`, passed to tokio-postgres as is.
    Postgres(String),
    /// `sqlite://relative/path.db`, `sqlite:///absolute/path.db` or `sqlite:path.db`.
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, ConnectError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(ConnectError::BadUrl(url.to_owned()));
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else {
            Err(ConnectError::BadUrl(url.to_owned()))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Pool sizing. SQLite always uses one connection (one writer at a time is all SQLite allows,
/// and one connection avoids `SQLITE_BUSY` on lock upgrades).
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// PostgreSQL connections (default 16).
    pub max_connections: usize,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
        }
    }
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL {0:?}: use postgres://… or sqlite://path")]
    BadUrl(String),
    #[error("cannot create the database folder {0}: {1}")]
    Folder(PathBuf, std::io::Error),
    #[error("cannot build the connection pool: {0}")]
    Pool(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
}

pub(crate) enum Pools {
    Pg(Pool<pg::Conn>),
    Sqlite(Pool<sqlite::Pooled>),
}

pub(crate) fn pools(url: &DatabaseUrl, options: PoolOptions) -> Result<Pools, ConnectError> {
    match url {
        DatabaseUrl::Postgres(u) => {
            let manager = AsyncDieselConnectionManager::<pg::Conn>::new(u.clone());
            let pool = Pool::builder(manager)
                .max_size(options.max_connections.max(1))
                .build()
                .map_err(|e| ConnectError::Pool(e.to_string()))?;
            Ok(Pools::Pg(pool))
        }
        DatabaseUrl::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| ConnectError::Folder(dir.to_owned(), e))?;
            }
            let mut config = ManagerConfig::<sqlite::Pooled>::default();
            // A local file does not drop connections: skip the test query on every checkout.
            config.recycling_method = RecyclingMethod::Fast;
            config.custom_setup = Box::new(|path| open_sqlite(path.to_owned()).boxed());
            let manager = AsyncDieselConnectionManager::<sqlite::Pooled>::new_with_config(
                path.to_string_lossy().into_owned(),
                config,
            );
            let pool = Pool::builder(manager)
                .max_size(1)
                .build()
                .map_err(|e| ConnectError::Pool(e.to_string()))?;
            Ok(Pools::Sqlite(pool))
        }
    }
}

/// Opens a SQLite file with WAL, a busy timeout and foreign keys on.
async fn open_sqlite(path: String) -> Result<sqlite::Pooled, ConnectionError> {
    use diesel_async::AsyncConnection as _;
    let mut conn = sqlite::Pooled::establish(&path).await?;
    conn.batch_execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
    )
    .await
    .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/reset.db").ok(),
            Some(DatabaseUrl::Sqlite("data/reset.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db").ok(),
            Some(DatabaseUrl::Sqlite("/tmp/x.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db")
                .map(|u| u.backend())
                .ok(),
            Some(Backend::Postgres)
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }
}
