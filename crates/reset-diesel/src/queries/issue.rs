//! The issue transaction as statements (SQLite, MySQL): load, plan, apply (see
//! [`crate::issue`]). PostgreSQL loads and applies a batch in one function call each
//! (`backend/pg/issue.rs`); all three plan with the same function. Each backend's connection
//! brings the statements it runs differently ([`crate::queries::hooks`]: `lock_holders`,
//! `read_facts`, `write_plan`): one per table or row on SQLite (`backend/sqlite.rs`); on MySQL
//! one statement for the reads and one script of text for the writes (`backend/mysql.rs`,
//! `backend/mysql_issue.rs`).

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
                let rehearsal = Writes::rehearsals(&requests, &asks, &plan.steps);
                conn.write_plan(&Writes::of(&requests, &plan), &rehearsal)$($aw)*?;
                Ok(plan.steps.iter().zip(&requests).map(|(step, req)| step.outcome(&req.target)).collect())
            })
            $($aw)*
        }

        /// The facts of a batch, under its holders' locks (`decoy`: read the decoy's newest
        /// request too).
        $($async)* fn load(conn: &mut $C, needs: &Needs, decoy: bool) -> QueryResult<Facts> {
            conn.lock_holders(&needs.holders)$($aw)*?;
            let mut accounts = needs.accounts.clone();
            if decoy {
                accounts.push(DECOY_ID.to_owned());
            }
            let mut read = conn.read_facts(&needs.request_ids, &accounts, &needs.keys)$($aw)*?;
            read.newest.retain(|(account, _)| account != DECOY_ID);
            Ok(read.facts())
        }
    };
}
