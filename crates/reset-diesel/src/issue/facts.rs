//! [`reset_core::issue_plan::Facts`] from the rows a backend's load read.

use reset_core::counters::Counters;
use reset_core::issue_plan::Facts;

/// What a batch's load read (SQLite and MySQL; see the hook `Statements::read_facts` in
/// `queries/hooks.rs`). PostgreSQL reads its facts in `reset_issue_load`.
#[cfg_attr(not(any(feature = "sqlite", feature = "mysql")), allow(dead_code))]
#[derive(Debug, Default)]
pub struct Read {
    /// The requests whose audit event exists.
    pub audited: Vec<String>,
    /// The requests that stored secrets.
    pub issued: Vec<String>,
    /// Each account's newest request that stored secrets (account, request id).
    pub newest: Vec<(String, String)>,
    /// The counters (key, count, window start).
    pub counters: Vec<(String, i32, i64)>,
}

#[cfg_attr(not(any(feature = "sqlite", feature = "mysql")), allow(dead_code))]
impl Read {
    /// The facts the plan starts from.
    pub fn facts(self) -> Facts {
        facts(self.audited, self.issued, self.newest, self.counters)
    }
}

/// The facts from what the load read: the requests whose audit event exists, those that
/// stored secrets, each account's newest request (account, request id), and the counters
/// (key, count, window start).
pub fn facts(
    audited: Vec<String>,
    issued: Vec<String>,
    newest: Vec<(String, String)>,
    counters: Vec<(String, i32, i64)>,
) -> Facts {
    Facts {
        audited: audited.into_iter().collect(),
        issued: issued.into_iter().collect(),
        newest: newest.into_iter().collect(),
        counters: {
            let mut read = Counters::new();
            read.read(counters);
            read
        },
    }
}
