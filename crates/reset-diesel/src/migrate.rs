//! The embedded migrations, one set per backend.

use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// PostgreSQL's migrations (`migrations/postgres`).
#[cfg(feature = "postgres")]
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// MySQL's and MariaDB's migrations (`migrations/mysql`).
#[cfg(feature = "mysql")]
pub const MYSQL: EmbeddedMigrations = embed_migrations!("migrations/mysql");
/// SQLite's migrations (`migrations/sqlite`).
#[cfg(feature = "sqlite")]
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// The versions a fully migrated database of this backend has applied.
pub fn versions<DB: diesel::backend::Backend>(source: &EmbeddedMigrations) -> Vec<String>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    MigrationSource::<DB>::migrations(source)
        .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect())
        .unwrap_or_default()
}
