//! Account lookups on MySQL, several at once (`mysql_batches.rs` sends the lookups that queue
//! together): three statements for a batch where each lookup cost two or three. The same reads
//! as `find_user` (`queries/users.rs`) and PostgreSQL's `reset_find`: for every lookup one
//! account row, the named account's or the decoy's when the names match nothing (see
//! [`crate::DECOY_ID`]), whether the email belongs to it when both names are given, and the
//! addresses of the rows found.

use std::collections::HashMap;

use diesel::result::QueryResult;
use diesel::sql_types::{Bool, Integer, Nullable, Text};
use diesel::{ExpressionMethods as _, QueryDsl as _, SelectableHelper as _};
use diesel_async::{AsyncMysqlConnection as Conn, RunQueryDsl as _};
use reset_core::identity::AccountLookup;
use reset_core::store::User;

use super::mysql_script::values_table;
use crate::DECOY_ID;
use crate::rows::UserRow;
use crate::schema::{user_emails, users};

#[derive(diesel::QueryableByName)]
struct Found {
    #[diesel(sql_type = Integer)]
    ord: i32,
    #[diesel(sql_type = Nullable<Text>)]
    id: Option<String>,
    #[diesel(sql_type = Bool)]
    owns: bool,
}

/// The accounts several lookups name, in order.
pub async fn find_all(
    conn: &mut Conn,
    lookups: &[AccountLookup],
) -> QueryResult<Vec<Option<User>>> {
    let mut found: Vec<Option<User>> = lookups.iter().map(|_| None).collect();
    let asked: Vec<(i32, &AccountLookup)> = (0..)
        .zip(lookups)
        .filter(|(_, l)| l.username.is_some() || l.email.is_some())
        .collect();
    if asked.is_empty() {
        return Ok(found);
    }
    // A name is looked up by username, else the email by address, one unique-index probe
    // each; the decoy answers when nothing matches, and the next statement reads the row of
    // every lookup, the decoy's included, so every lookup reads a row. (Not `username = ? OR
    // id = decoy`, as `find_user` has it: inside this statement MariaDB answered that OR with a
    // scan of `users` per lookup, ~1,000 rows each at 1,000 accounts.)
    let sql = format!(
        "SELECT f.ord, f.id,
                (f.name IS NULL OR f.email IS NULL OR
                 (SELECT COUNT(*) FROM user_emails AS e
                  WHERE e.address = f.email AND e.user_id = f.id) > 0) AS owns
         FROM (SELECT l.ord, l.name, l.email,
                      CASE WHEN l.name IS NOT NULL
                        THEN COALESCE((SELECT u.id FROM users AS u WHERE u.username = l.name), ?)
                        ELSE COALESCE((SELECT e.user_id FROM user_emails AS e
                                       WHERE e.address = l.email), ?)
                      END AS id
               FROM ({}) AS l) AS f",
        values_table(&["ord", "name", "email"], asked.len())
    );
    let mut q = diesel::sql_query(sql)
        .into_boxed::<diesel::mysql::Mysql>()
        .bind::<Text, _>(DECOY_ID)
        .bind::<Text, _>(DECOY_ID);
    for (ord, l) in &asked {
        q = q
            .bind::<Integer, _>(*ord)
            .bind::<Nullable<Text>, _>(l.username.clone())
            .bind::<Nullable<Text>, _>(l.email.clone());
    }
    let rows: Vec<Found> = q.load(conn).await?;
    let ids: Vec<String> = rows.iter().filter_map(|r| r.id.clone()).collect();
    let accounts: Vec<UserRow> = users::table
        .filter(users::id.eq_any(&ids))
        .select(UserRow::as_select())
        .load(conn)
        .await?;
    let addresses: Vec<(String, String)> = user_emails::table
        .filter(user_emails::user_id.eq_any(&ids))
        .order((user_emails::user_id, user_emails::position))
        .select((user_emails::user_id, user_emails::address))
        .load(conn)
        .await?;
    let mut emails: HashMap<String, Vec<String>> = HashMap::new();
    for (user, address) in addresses {
        emails.entry(user).or_default().push(address);
    }
    let accounts: HashMap<String, UserRow> =
        accounts.into_iter().map(|r| (r.id.clone(), r)).collect();
    for row in rows {
        let Some(id) = row.id.filter(|id| row.owns && id != DECOY_ID) else {
            continue;
        };
        // A row may answer two lookups of the batch: each gets its own copy.
        let Some(account) = accounts.get(&id).cloned() else {
            continue;
        };
        let slot = usize::try_from(row.ord).ok().and_then(|i| found.get_mut(i));
        if let Some(slot) = slot {
            *slot = Some(account.into_user(emails.get(&id).cloned().unwrap_or_default()));
        }
    }
    Ok(found)
}
