//! The embedded migrations, one set per backend, and PostgreSQL's replaceable functions file.

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

/// PostgreSQL's functions (`migrations/postgres-functions.sql`, reached through the crate's
/// `migrations` link): not a migration but one replaceable file, run again whenever it changes
/// (see [`apply_postgres_functions`] and migrations/README.md).
#[cfg(feature = "postgres")]
pub const POSTGRES_FUNCTIONS: &str = include_str!("../migrations/postgres-functions.sql");

/// The advisory lock (PostgreSQL's one-`bigint` key space, apart from the two-`int` keys
/// `reset_issue_load` locks accounts with) held while the functions file is checked and applied.
#[cfg(feature = "postgres")]
const FUNCTIONS_LOCK: i64 = 0x7265_7365_7466_6e73; // "resetfns"

/// Applies [`POSTGRES_FUNCTIONS`] when its SHA-256 differs from the one recorded in
/// `reset_schema_functions` (a single row, id 1), and records the new one; returns whether it
/// ran. One transaction: the file (a `DROP FUNCTION` in it included) commits whole or not at
/// all. Under an advisory lock, so instances starting together apply it once, one after the
/// other: the second finds the hash recorded and does nothing.
///
/// The record table is created here (`IF NOT EXISTS`), not in the init migration: it belongs
/// to this mechanism, which must also work on a database whose init was applied before the
/// table existed. It is created after the lock is taken, because two sessions creating the
/// same table at once may fail rather than wait. The init's down.sql drops it with the
/// functions, so a reverted and re-applied database gets the functions again.
#[cfg(feature = "postgres")]
pub async fn apply_postgres_functions(
    conn: &mut diesel_async::AsyncPgConnection,
) -> diesel::QueryResult<bool> {
    use diesel::sql_types::{BigInt, Nullable, Text};
    use diesel_async::{AsyncConnection as _, RunQueryDsl as _, SimpleAsyncConnection as _};
    use sha2::{Digest as _, Sha256};

    let wanted: String = Sha256::digest(POSTGRES_FUNCTIONS.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    conn.transaction(async |conn| {
        conn.batch_execute(&format!(
            "SELECT pg_advisory_xact_lock({FUNCTIONS_LOCK});
             CREATE TABLE IF NOT EXISTS reset_schema_functions (
                 id INTEGER PRIMARY KEY,
                 sha256 TEXT NOT NULL,
                 applied_at BIGINT NOT NULL
             );"
        ))
        .await?;
        let recorded: Option<String> = diesel::select(diesel::dsl::sql::<Nullable<Text>>(
            "(SELECT sha256 FROM reset_schema_functions WHERE id = 1)",
        ))
        .get_result(conn)
        .await?;
        if recorded.as_deref() == Some(wanted.as_str()) {
            return Ok(false);
        }
        conn.batch_execute(POSTGRES_FUNCTIONS).await?;
        diesel::sql_query(
            "INSERT INTO reset_schema_functions (id, sha256, applied_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE
             SET sha256 = excluded.sha256, applied_at = excluded.applied_at",
        )
        .bind::<Text, _>(wanted.as_str())
        .bind::<BigInt, _>(chrono::Utc::now().timestamp_millis())
        .execute(conn)
        .await?;
        Ok(true)
    })
    .await
}

/// Runs `source`'s pending migrations on `conn`; hands the connection back, with how many ran.
///
/// On a blocking thread of its own: diesel-async's harness blocks its thread
/// (`block_in_place`, then `Handle::block_on`). Called on a `Runtime::block_on` thread (a
/// `#[tokio::main]` body, a test), that inner `block_on` parks the same thread as the outer one
/// and can swallow the wake-up meant for a future beside it (two instances migrating under one
/// `join!`): the outer future then sleeps forever. A thread of its own has its own parker.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub async fn run_pending<C>(
    conn: C,
    source: EmbeddedMigrations,
) -> Result<(C, usize), Box<dyn std::error::Error + Send + Sync>>
where
    C: diesel_async::AsyncConnection + Send + 'static,
    diesel_async::AsyncMigrationHarness<C>: diesel_migrations::MigrationHarness<C::Backend>,
    EmbeddedMigrations: MigrationSource<C::Backend>,
{
    use diesel_migrations::MigrationHarness as _;

    tokio::task::spawn_blocking(move || {
        let mut harness = diesel_async::AsyncMigrationHarness::new(conn);
        let applied = harness.run_pending_migrations(source)?.len();
        Ok((harness.into_inner(), applied))
    })
    .await?
}

/// The versions a fully migrated database of this backend has applied.
pub fn versions<DB: diesel::backend::Backend>(source: &EmbeddedMigrations) -> Vec<String>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    MigrationSource::<DB>::migrations(source)
        .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect())
        .unwrap_or_default()
}
