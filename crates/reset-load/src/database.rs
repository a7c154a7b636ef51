//! The database a run measures: a fresh SQLite file by default, or the one `--database-url`
//! names. A PostgreSQL or MySQL database that does not exist yet is created for the run and
//! dropped at its end; one that exists is used as it is and kept.

use anyhow::Context as _;
use diesel_async::{
    AsyncConnection, AsyncMysqlConnection, AsyncPgConnection, SimpleAsyncConnection,
};

pub struct Database {
    url: String,
    /// Holds the fresh SQLite file.
    _dir: Option<tempfile::TempDir>,
    /// The maintenance URL and name of a PostgreSQL or MySQL database this run created.
    created: Option<(String, String)>,
}

impl Database {
    pub async fn open(url: Option<&str>) -> anyhow::Result<Self> {
        let Some(url) = url else {
            let dir = tempfile::tempdir()?;
            return Ok(Self {
                url: format!("sqlite://{}", dir.path().join("load.db").display()),
                _dir: Some(dir),
                created: None,
            });
        };
        let mut db = Self {
            url: url.to_owned(),
            _dir: None,
            created: None,
        };
        let mysql = url.starts_with("mysql://") || url.starts_with("mariadb://");
        if !mysql && !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Ok(db);
        }
        let exists = if mysql {
            AsyncMysqlConnection::establish(url).await.is_ok()
        } else {
            AsyncPgConnection::establish(url).await.is_ok()
        };
        if exists {
            return Ok(db);
        }
        let mut admin = url::Url::parse(url).context("--database-url is not a URL")?;
        let name = admin.path().trim_start_matches('/').to_owned();
        anyhow::ensure!(!name.is_empty(), "--database-url names no database: …/NAME");
        admin.set_path(if mysql { "" } else { "/postgres" });
        let admin = admin.to_string();
        let create = format!("CREATE DATABASE {}", quoted(&name, mysql));
        if mysql {
            let mut conn = AsyncMysqlConnection::establish(&admin)
                .await
                .with_context(|| format!("connecting to {admin} to create {name}"))?;
            conn.batch_execute(&format!(
                "{create} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            ))
            .await
        } else {
            let mut conn = AsyncPgConnection::establish(&admin)
                .await
                .with_context(|| format!("connecting to {admin} to create {name}"))?;
            conn.batch_execute(&create).await
        }
        .with_context(|| format!("creating database {name}"))?;
        db.created = Some((admin, name));
        Ok(db)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// `SQLite`, `PostgreSQL` or `MySQL`, for the report.
    pub fn kind(&self) -> &'static str {
        if self.url.starts_with("sqlite") {
            "SQLite"
        } else if self.url.starts_with("mysql") || self.url.starts_with("mariadb") {
            "MySQL"
        } else {
            "PostgreSQL"
        }
    }

    /// The database server's process name, for its CPU (`None`: SQLite, in this process).
    pub fn process_name(&self) -> Option<String> {
        match self.kind() {
            "PostgreSQL" => Some("postgres".into()),
            "MySQL" => Some("mariadbd".into()),
            _ => None,
        }
    }

    /// Drops the database this run created (the SQLite file goes with `self`).
    pub async fn close(self) -> anyhow::Result<()> {
        let Some((admin, name)) = &self.created else {
            return Ok(());
        };
        if self.kind() == "MySQL" {
            let mut conn = AsyncMysqlConnection::establish(admin).await?;
            conn.batch_execute(&format!("DROP DATABASE IF EXISTS {}", quoted(name, true)))
                .await
        } else {
            let mut conn = AsyncPgConnection::establish(admin).await?;
            conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quoted(name, false)
            ))
            .await
        }
        .with_context(|| format!("dropping database {name}"))
    }
}

/// A database name, quoted for PostgreSQL (`"…"`) or MySQL (`` `…` ``).
fn quoted(name: &str, mysql: bool) -> String {
    if mysql {
        format!("`{}`", name.replace('`', "``"))
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}
