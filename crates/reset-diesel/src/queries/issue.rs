//! The issue transaction as statements (SQLite, MySQL): load, plan, apply (see
//! [`crate::issue`]). PostgreSQL loads and applies a batch in one function call each
//! (`backend/pg/issue.rs`); all three plan with the same function. Each backend's connection
//! brings the statements it writes differently ([`crate::queries::hooks`]: `lock_holders`,
//! `newest_of`, `write_plan`): one per row on SQLite (`backend/sqlite.rs`), one per batch on
//! MySQL, whose writes are one script of text (`backend/mysql.rs`, `backend/mysql_issue.rs`).

#[cfg(any(feature = "sqlite", feature = "mysql"))]
macro_rules! issue_by_plan {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        use reset_core::issue_plan::{Ask, Facts, Needs};
        use reset_core::store::{IssueOutcome, IssueRequest};
        use crate::issue::writes::Writes;

        /// The issue transactions of several requests, in order, in one transaction: load,
        /// plan, apply (see [`crate::issue`]). What each did, and whether it queued anything
        /// for the outbox worker (messages, events, decoys).
        ///
        /// An unknown identifier's request that would have issued, or been held back, is also
        /// rehearsed: what a known account's request writes, written for the decoy account
        /// (see [`crate::DECOY_ID`]) in a savepoint that is rolled back, so that the work done
        /// after the answer costs about the same whether or not the account exists
        /// (`docs/anti-enumeration.md`).
        pub $($async)* fn issue_all(conn: &mut $C, requests: Vec<IssueRequest>) -> QueryResult<Vec<(IssueOutcome, bool)>> {
            conn.transaction($($async)* move |conn| {
                let asks: Vec<Ask> = requests.iter().map(Ask::of).collect();
                let needs = Needs::of(&asks);
                // An unknown identifier's load reads the decoy's newest request as a known
                // account's reads its own: the same statements either way.
                let decoy = requests.iter().zip(&asks).any(|(r, a)| r.target.unknown().is_some() && a.holder.is_some());
                let mut facts = load(conn, &needs, decoy)$($aw)*?;
                let plan = reset_core::issue_plan::plan(&mut facts, &asks);
                // The batch's rehearsals together, as its known accounts' rows are written
                // together.
                let mut rehearsal = Writes::default();
                for (req, step) in requests.iter().zip(&plan.steps) {
                    if let Some(w) = Writes::rehearsal(req, *step) {
                        rehearsal.append(w);
                    }
                }
                conn.write_plan(&Writes::of(&requests, &plan), &rehearsal)$($aw)*?;
                Ok(plan.steps.iter().zip(&requests).map(|(step, req)| step.outcome(&req.target)).collect())
            })
            $($aw)*
        }

        /// The facts of a batch, under its holders' locks (`decoy`: read the decoy's newest
        /// request too).
        $($async)* fn load(conn: &mut $C, needs: &Needs, decoy: bool) -> QueryResult<Facts> {
            conn.lock_holders(&needs.holders)$($aw)*?;
            let audited: Vec<String> = audit_events::table
                .filter(audit_events::id.eq_any(&needs.request_ids))
                .select(audit_events::id)
                .load(conn)
                $($aw)*?;
            let issued: Vec<String> = reset_secrets::table
                .filter(reset_secrets::request_id.eq_any(&needs.request_ids))
                .select(reset_secrets::request_id)
                .distinct()
                .load(conn)
                $($aw)*?;
            let mut accounts = needs.accounts.clone();
            if decoy {
                accounts.push(DECOY_ID.to_owned());
            }
            let mut newest = conn.newest_of(&accounts)$($aw)*?;
            let counters: Vec<(String, i32, i64)> = if needs.keys.is_empty() {
                Vec::new()
            } else {
                rate_limits::table
                    .filter(rate_limits::key.eq_any(&needs.keys))
                    .select((rate_limits::key, rate_limits::count, rate_limits::window_start))
                    .load(conn)
                    $($aw)*?
            };
            newest.retain(|(account, _)| account != DECOY_ID);
            Ok(crate::issue::facts::facts(audited, issued, newest, counters))
        }
    };
}
