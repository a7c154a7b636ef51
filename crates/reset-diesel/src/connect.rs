//! Database URLs and connection pools.

use std::path::PathBuf;

#[cfg(any(feature = "postgres", feature = "mysql"))]
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use diesel_async::pooled_connection::ManagerConfig;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use diesel_async::pooled_connection::RecyclingMethod;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use diesel_async::pooled_connection::deadpool::Pool;

#[cfg(feature = "postgres")]
use crate::backend::pg;
#[cfg(feature = "sqlite")]
use crate::backend::sqlite;
#[cfg(feature = "mysql")]
use crate::backend::{mysql, mysql_target};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// MySQL 8.0+ or MariaDB 10.6+.
    Mysql,
    /// SQLite, in a file.
    Sqlite,
}

impl Backend {
    /// The database's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Mysql => "MySQL/MariaDB",
            Self::Sqlite => "SQLite",
        }
    }

    /// reset-diesel's Cargo feature for it.
    pub fn feature(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
            Self::Sqlite => "sqlite",
        }
    }
}

/// `url` with the password of its user info (`scheme://user:PASSWORD@host…`) replaced by `***`,
/// for messages and logs. Works on strings no URL parser accepts too (a mistyped URL is exactly
/// what an error message shows).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://…` or `postgresql://…`, passed to tokio-postgres as is.
    Postgres(String),
    /// `mysql://…` (MySQL 8.0+ or MariaDB 10.6+), passed to mysql_async as is.
    Mysql(String),
    /// `sqlite://relative/path.db`, `sqlite:///absolute/path.db` or `sqlite:path.db`.
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// Reads a `postgres://`, `postgresql://`, `mysql://`, `mariadb://` or `sqlite:` URL;
    /// `BadUrl` for any other.
    pub fn parse(url: &str) -> Result<Self, ConnectError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            // mysql_async knows only the `mysql` scheme.
            Ok(Self::Mysql(format!(
                "mysql://{}",
                url.split_once("://").map_or("", |(_, rest)| rest)
            )))
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

    /// Which database the URL names.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Mysql(_) => Backend::Mysql,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Pool sizing (PostgreSQL and MySQL), and where PostgreSQL's session work goes. SQLite always
/// uses one connection (one writer at a time is all SQLite allows, and one connection avoids
/// `SQLITE_BUSY` on lock upgrades).
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// PostgreSQL connections (default 16).
    pub max_connections: usize,
    /// PostgreSQL: the URL of what needs a session of its own, the `LISTEN` connection that
    /// wakes delivery and the migrations; `None` is the store's URL. Behind a pooler in
    /// transaction mode (`pgbouncer=true`), point it at PostgreSQL itself or at a session-mode
    /// pool.
    pub listen_url: Option<String>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            listen_url: None,
        }
    }
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL names no database this crate knows (shown with its password redacted).
    #[error("unsupported database URL {:?}: use postgres://…, mysql://… or sqlite://path", redact_url(.0))]
    BadUrl(String),
    /// The SQLite database's folder could not be created.
    #[error("cannot create the database folder {0}: {1}")]
    Folder(PathBuf, std::io::Error),
    /// The connection pool could not be set up.
    #[error("cannot build the connection pool: {0}")]
    Pool(String),
    /// The first connection failed.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// A PostgreSQL URL with an option this store cannot use (`sslmode`, `sslrootcert`,
    /// `pgbouncer`, or one tokio-postgres refuses).
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL URL: {0}")]
    Postgres(#[from] pg::TargetError),
    /// A MySQL URL with an option this store cannot use (`ssl-mode`, `ssl-ca`, or one
    /// mysql_async refuses).
    #[cfg(feature = "mysql")]
    #[error("MySQL URL: {0}")]
    Mysql(#[from] mysql_target::TargetError),
    /// The URL names a backend whose Cargo feature is off in this build.
    #[error(
        "this build has no {} support (Cargo feature `{}` is off): set RESET_DATABASE_URL to a database it has, or build with that feature",
        .0.name(),
        .0.feature()
    )]
    NotBuilt(Backend),
}

pub(crate) enum Pools {
    /// The pool, the calls sent in batches over it (their tasks start with the pool), and how
    /// its connections may be used.
    #[cfg(feature = "postgres")]
    Pg(Pool<pg::Conn>, pg::Batches, pg::Pooling),
    /// The pool, and the calls sent in batches over it.
    #[cfg(feature = "mysql")]
    Mysql(Pool<mysql::Conn>, crate::backend::mysql_batches::Batches),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::Writer),
}

/// A way to open one connection of type `C`: what a pool does for each connection it adds.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) trait Establish<C>: Clone + Send + Sync + 'static {
    /// A new connection.
    fn establish(&self) -> impl std::future::Future<Output = diesel::ConnectionResult<C>> + Send;
}

#[cfg(feature = "postgres")]
impl Establish<pg::Conn> for pg::Target {
    fn establish(
        &self,
    ) -> impl std::future::Future<Output = diesel::ConnectionResult<pg::Conn>> + Send {
        pg::Target::establish(self)
    }
}

#[cfg(feature = "mysql")]
impl Establish<mysql::Conn> for mysql_target::Target {
    fn establish(
        &self,
    ) -> impl std::future::Future<Output = diesel::ConnectionResult<mysql::Conn>> + Send {
        mysql_target::Target::establish(self)
    }
}

/// A pool of up to `max_connections` connections that `target` opens (for `url`, which the
/// manager keeps only as a label), recycled as `recycling` says.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn pool<C, T>(
    url: &str,
    target: T,
    max_connections: usize,
    recycling: RecyclingMethod<C>,
) -> Result<Pool<C>, ConnectError>
where
    C: diesel_async::pooled_connection::PoolableConnection + 'static,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager,
    T: Establish<C>,
{
    let mut config = ManagerConfig::default();
    config.recycling_method = recycling;
    config.custom_setup = Box::new(move |_url| {
        let target = target.clone();
        Box::pin(async move { target.establish().await })
    });
    let manager = AsyncDieselConnectionManager::<C>::new_with_config(url.to_owned(), config);
    Pool::builder(manager)
        .max_size(max_connections.max(1))
        .build()
        .map_err(|e| ConnectError::Pool(e.to_string()))
}

#[allow(unused_variables)] // `options` with SQLite alone
pub(crate) fn pools(url: &DatabaseUrl, options: &PoolOptions) -> Result<Pools, ConnectError> {
    match url {
        #[cfg(feature = "postgres")]
        DatabaseUrl::Postgres(u) => {
            let target = pg::Target::parse(u)?;
            let pooling = target.pooling();
            // No `SELECT 1` before every checkout (deadpool's default check), which cost a
            // round trip per store call: a PostgreSQL connection that closed is known as such
            // (`is_broken` asks the client) and is dropped instead of handed out; one that dies
            // while handed out fails its query, which is `Unavailable` (a 503, or a retry).
            let pool = pool(u, target, options.max_connections, RecyclingMethod::Fast)?;
            let batches = pg::Batches::start(&pool, pooling);
            Ok(Pools::Pg(pool, batches, pooling))
        }
        #[cfg(feature = "mysql")]
        DatabaseUrl::Mysql(u) => {
            let target = mysql_target::Target::parse(u)?;
            let pool = pool(
                u,
                target,
                options.max_connections,
                RecyclingMethod::Verified,
            )?;
            let batches = crate::backend::mysql_batches::Batches::start(&pool);
            Ok(Pools::Mysql(pool, batches))
        }
        #[cfg(feature = "sqlite")]
        DatabaseUrl::Sqlite(path) => {
            // The database holds secrets' hashes and queued messages' links: folder and file
            // (and so SQLite's -wal and -shm, which take the file's mode) are owner-only.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                reset_core::private_fs::create_dir_all(dir)
                    .map_err(|e| ConnectError::Folder(dir.to_owned(), e))?;
            }
            if path.as_os_str() != ":memory:" {
                reset_core::private_fs::touch(path)
                    .map_err(|e| ConnectError::Folder(path.clone(), e))?;
            }
            let writer = sqlite::Writer::open(&path.to_string_lossy())
                .map_err(|e| ConnectError::Connect(e.to_string()))?;
            Ok(Pools::Sqlite(writer))
        }
        #[allow(unreachable_patterns)]
        other => Err(ConnectError::NotBuilt(other.backend())),
    }
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
        assert_eq!(
            DatabaseUrl::parse("mariadb://root@127.0.0.1:3306/reset").ok(),
            Some(DatabaseUrl::Mysql(
                "mysql://root@127.0.0.1:3306/reset".into()
            ))
        );
        assert!(DatabaseUrl::parse("mssql://x").is_err());
        let typo =
            DatabaseUrl::parse("postgress://u:hunter2@db/x").expect_err("not a database URL");
        assert!(!typo.to_string().contains("hunter2"), "{typo}");
        assert!(
            typo.to_string().contains("postgress://u:***@db/x"),
            "{typo}"
        );
        assert!(
            ConnectError::NotBuilt(Backend::Mysql)
                .to_string()
                .contains("feature `mysql`")
        );
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/reset?sslmode=require"),
            "postgres://app:***@db:5432/reset?sslmode=require"
        );
        assert_eq!(
            redact_url("sqlite://data/reset.db"),
            "sqlite://data/reset.db"
        );
    }
}
