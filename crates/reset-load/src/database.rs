//! The database a run measures: a fresh SQLite file by default, or the one `--database-url`
//! names. A PostgreSQL database that does not exist yet is created for the run and dropped at
//! its end; one that exists is used as it is and kept.

use anyhow::Context as _;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

pub struct Database {
    url: String,
    /// Holds the fresh SQLite file.
    _dir: Option<tempfile::TempDir>,
    /// The maintenance URL and name of a PostgreSQL database this run created.
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
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Ok(db);
        }
        if AsyncPgConnection::establish(url).await.is_ok() {
            return Ok(db);
        }
        let mut admin = url::Url::parse(url).context("--database-url is not a URL")?;
        let name = admin.path().trim_start_matches('/').to_owned();
        anyhow::ensure!(
            !name.is_empty(),
            "--database-url names no database: postgres://…/NAME"
        );
        admin.set_path("/postgres");
        let admin = admin.to_string();
        let mut conn = AsyncPgConnection::establish(&admin)
            .await
            .with_context(|| format!("connecting to {admin} to create {name}"))?;
        conn.batch_execute(&format!("CREATE DATABASE {}", quoted(&name)))
            .await
            .with_context(|| format!("creating database {name}"))?;
        db.created = Some((admin, name));
        Ok(db)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// `SQLite` or `PostgreSQL`, for the report.
    pub fn kind(&self) -> &'static str {
        if self.url.starts_with("sqlite") {
            "SQLite"
        } else {
            "PostgreSQL"
        }
    }

    /// Drops the PostgreSQL database this run created (the SQLite file goes with `self`).
    pub async fn close(self) -> anyhow::Result<()> {
        if let Some((admin, name)) = &self.created {
            let mut conn = AsyncPgConnection::establish(admin).await?;
            conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quoted(name)
            ))
            .await
            .with_context(|| format!("dropping database {name}"))?;
        }
        Ok(())
    }
}

/// A PostgreSQL identifier, quoted.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
