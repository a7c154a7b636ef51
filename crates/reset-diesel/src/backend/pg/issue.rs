//! The issue transactions of a batch on PostgreSQL (see [`crate::issue`]): one call to
//! `reset_issue_load` (the holders' locks and the facts), the plan, one call to
//! `reset_issue_apply` (the plan's rows), in one transaction. The account's lock is held for
//! two calls, not for ~15 round trips.

use diesel::result::QueryResult;
use diesel::sql_types::{Array, Jsonb, Text};
use diesel_async::RunQueryDsl as _;
use reset_core::issue_plan::{Ask, Needs, plan};
use reset_core::store::{IssueOutcome, IssueRequest};

use super::conn::Conn;
use crate::issue::facts::facts;
use crate::issue::writes::Writes;

diesel::define_sql_function! {
    /// `migrations/postgres-functions.sql`: a batch's locks and facts.
    fn reset_issue_load(
        holders: Array<Text>,
        request_ids: Array<Text>,
        accounts: Array<Text>,
        keys: Array<Text>,
    ) -> diesel::pg::sql_types::Record<(
        Array<Text>, Array<Text>, Array<Text>, Array<Text>, Array<Text>, Array<Integer>,
        Array<BigInt>,
    )>;
}

diesel::define_sql_function! {
    /// `migrations/postgres-functions.sql`: a batch's rows, written as they are.
    fn reset_issue_apply(writes: Jsonb) -> Integer;
}

/// A row of `reset_issue_load`.
type Loaded = (
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Vec<i32>,
    Vec<i64>,
);

/// The issue transactions of several requests, in order, inside the caller's transaction:
/// what each did, and whether it queued anything for the outbox worker.
pub async fn issue_all(
    conn: &mut Conn,
    requests: &[IssueRequest],
) -> QueryResult<Vec<(IssueOutcome, bool)>> {
    let asks: Vec<Ask> = requests.iter().map(Ask::of).collect();
    let needs = Needs::of(&asks);
    let (audited, issued, accounts, newest, keys, counts, starts): Loaded =
        diesel::select(reset_issue_load(
            &needs.holders,
            &needs.request_ids,
            &needs.accounts,
            &needs.keys,
        ))
        .get_result(conn)
        .await?;
    let newest = accounts.into_iter().zip(newest).collect();
    let counters = keys
        .into_iter()
        .zip(counts)
        .zip(starts)
        .map(|((k, c), s)| (k, c, s))
        .collect();
    let mut facts = facts(audited, issued, newest, counters);
    let plan = plan(&mut facts, &asks);
    let writes = serde_json::to_value(Writes::of(requests, &plan))
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::select(reset_issue_apply(writes))
        .execute(conn)
        .await?;
    Ok(plan
        .steps
        .iter()
        .zip(requests)
        .map(|(step, req)| step.outcome(&req.target))
        .collect())
}
