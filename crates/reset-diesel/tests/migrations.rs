//! Every migration applies to a fresh database, reverts, and applies again, on every backend;
//! the store is not ready until they are applied.

#![allow(clippy::unwrap_used)]

use diesel_async::AsyncMigrationHarness;
use diesel_migrations::MigrationHarness as _;
use reset_core::store::ResetState as _;
use reset_diesel::{Backend, DieselStore, PoolOptions};
use reset_testkit::TestDb;

async fn round_trip(db: TestDb) {
    let store = DieselStore::connect(db.url(), PoolOptions::default())
        .await
        .unwrap();
    assert!(store.ready().await.is_err(), "ready before migrating");
    let applied = store.migrate().await.unwrap();
    assert!(applied >= 1);
    store.ready().await.unwrap();
    assert_eq!(store.migrate().await.unwrap(), 0, "migrate is idempotent");

    // Down and up again, on a connection of the same backend.
    match store.backend() {
        Backend::Postgres => {
            let conn =
                <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(
                    db.url(),
                )
                .await
                .unwrap();
            let mut h = AsyncMigrationHarness::new(conn);
            h.revert_all_migrations(reset_diesel::POSTGRES_MIGRATIONS)
                .unwrap();
            h.run_pending_migrations(reset_diesel::POSTGRES_MIGRATIONS)
                .unwrap();
        }
        Backend::Mysql => {
            let conn =
                <diesel_async::AsyncMysqlConnection as diesel_async::AsyncConnection>::establish(
                    db.url(),
                )
                .await
                .unwrap();
            let mut h = AsyncMigrationHarness::new(conn);
            h.revert_all_migrations(reset_diesel::MYSQL_MIGRATIONS)
                .unwrap();
            h.run_pending_migrations(reset_diesel::MYSQL_MIGRATIONS)
                .unwrap();
        }
        Backend::Sqlite => {
            let path = db.url().trim_start_matches("sqlite://").to_owned();
            use diesel::Connection as _;
            let mut conn = diesel::SqliteConnection::establish(&path).unwrap();
            conn.revert_all_migrations(reset_diesel::SQLITE_MIGRATIONS)
                .unwrap();
            conn.run_pending_migrations(reset_diesel::SQLITE_MIGRATIONS)
                .unwrap();
        }
    }
    store.ready().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_migrations_round_trip() {
    round_trip(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_migrations_round_trip() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    round_trip(db).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_migrations_round_trip() {
    let Some(db) = TestDb::mysql().await else {
        return;
    };
    round_trip(db).await;
}

/// MySQL's rate-limit hits rely on the check `rate_limits_swap` refusing a moved counter's −1:
/// `migrate` refuses a database (or a server) without it, instead of letting hits write −1.
#[tokio::test(flavor = "multi_thread")]
async fn mysql_migrate_refuses_a_database_without_the_swap_check() {
    use diesel_async::{AsyncConnection as _, SimpleAsyncConnection as _};
    let Some(db) = TestDb::mysql().await else {
        return;
    };
    let store = DieselStore::connect(db.url(), PoolOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut conn = diesel_async::AsyncMysqlConnection::establish(db.url())
        .await
        .unwrap();
    conn.batch_execute("ALTER TABLE rate_limits DROP CONSTRAINT rate_limits_swap")
        .await
        .unwrap();
    let refused = store.migrate().await.unwrap_err().to_string();
    assert!(refused.contains("rate_limits_swap"), "{refused}");
    // Nothing was written by the probe.
    let rows: i64 = {
        use diesel_async::RunQueryDsl as _;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query("SELECT COUNT(*) AS n FROM rate_limits")
            .get_result::<N>(&mut conn)
            .await
            .unwrap()
            .n
    };
    assert_eq!(rows, 0);
}

/// PostgreSQL's functions file is applied again when the recorded hash is not its own (a new
/// release changed a function body): a function gone missing comes back, and two instances
/// starting together both succeed (the advisory lock makes one wait for the other).
#[tokio::test(flavor = "multi_thread")]
async fn postgres_functions_are_replaced_when_they_change() {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::{AsyncConnection as _, RunQueryDsl as _, SimpleAsyncConnection as _};

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    #[derive(diesel::QueryableByName)]
    struct Hash {
        #[diesel(sql_type = Text)]
        sha256: String,
    }

    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let store = DieselStore::connect(db.url(), PoolOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut conn = diesel_async::AsyncPgConnection::establish(db.url())
        .await
        .unwrap();
    let hash = || diesel::sql_query("SELECT sha256 FROM reset_schema_functions WHERE id = 1");
    let applied = hash().get_result::<Hash>(&mut conn).await.unwrap().sha256;
    conn.batch_execute(
        "UPDATE reset_schema_functions SET sha256 = 'an older release';
         DROP FUNCTION reset_find(TEXT, TEXT[], TEXT[]);",
    )
    .await
    .unwrap();
    let found =
        || diesel::sql_query("SELECT count(*) AS n FROM pg_proc WHERE proname = 'reset_find'");
    assert_eq!(found().get_result::<Count>(&mut conn).await.unwrap().n, 0);

    let other = DieselStore::connect(db.url(), PoolOptions::default())
        .await
        .unwrap();
    let (a, b) = tokio::join!(store.migrate(), other.migrate());
    a.unwrap();
    b.unwrap();
    assert_eq!(found().get_result::<Count>(&mut conn).await.unwrap().n, 1);
    assert_eq!(
        hash().get_result::<Hash>(&mut conn).await.unwrap().sha256,
        applied
    );
    store.ready().await.unwrap();
}
