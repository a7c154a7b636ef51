//! The issue transaction's set-based statements on MySQL (`queries/issue.rs` runs them): a
//! batch's newest requests and kills in one statement each (its counters:
//! `mysql_counters::write_counters`), where SQLite runs one per row. A MySQL statement costs the server far more than such a row does.

use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel_async::{AsyncMysqlConnection as Conn, RunQueryDsl as _};

use crate::issue::writes::KillRow;

/// `SELECT ? AS a, ? AS b … UNION ALL SELECT ?, ? …`: `rows` rows of the named columns, as a
/// derived table of bound values.
pub fn values_table(columns: &[&str], rows: usize) -> String {
    let first: Vec<String> = columns.iter().map(|c| format!("? AS {c}")).collect();
    let rest = vec!["?"; columns.len()].join(", ");
    let mut sql = format!("SELECT {}", first.join(", "));
    for _ in 1..rows {
        sql.push_str(" UNION ALL SELECT ");
        sql.push_str(&rest);
    }
    sql
}

#[derive(diesel::QueryableByName)]
struct Newest {
    #[diesel(sql_type = Text)]
    account: String,
    #[diesel(sql_type = Nullable<Text>)]
    newest: Option<String>,
}

/// Each account's newest request that stored secrets, in one statement: one index seek per
/// account (an aggregate would read every secret a busy account ever had).
pub async fn newest_of(conn: &mut Conn, accounts: &[String]) -> QueryResult<Vec<(String, String)>> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT a.account,
                (SELECT s.request_id FROM reset_secrets AS s WHERE s.user_id = a.account
                 ORDER BY s.request_id DESC LIMIT 1) AS newest
         FROM ({}) AS a",
        values_table(&["account"], accounts.len())
    );
    let mut q = diesel::sql_query(sql).into_boxed::<diesel::mysql::Mysql>();
    for a in accounts {
        q = q.bind::<Text, _>(a.clone());
    }
    let rows: Vec<Newest> = q.load(conn).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.newest.map(|n| (r.account, n)))
        .collect())
}

/// Kills accounts' live codes, or their other live secrets, each at its row's time, in one
/// statement.
pub async fn kill_all(conn: &mut Conn, kills: &[KillRow]) -> QueryResult<()> {
    if kills.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE reset_secrets AS s JOIN ({}) AS k
           ON s.user_id = k.account AND (s.kind = 'code') = k.code
         SET s.superseded_at = k.at
         WHERE s.used_at IS NULL AND s.superseded_at IS NULL",
        values_table(&["account", "code", "at"], kills.len())
    );
    let mut q = diesel::sql_query(sql).into_boxed::<diesel::mysql::Mysql>();
    for k in kills {
        q = q
            .bind::<Text, _>(k.account.clone())
            .bind::<Bool, _>(k.code)
            .bind::<BigInt, _>(k.at);
    }
    q.execute(conn).await.map(|_| ())
}
