//! The embedded migrations, one set per backend.

use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

pub const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
pub const MYSQL: EmbeddedMigrations = embed_migrations!("../../migrations/mysql");
pub const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// The versions a fully migrated database of this backend has applied.
pub fn versions<DB: diesel::backend::Backend>(source: &EmbeddedMigrations) -> Vec<String>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    MigrationSource::<DB>::migrations(source)
        .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect())
        .unwrap_or_default()
}
