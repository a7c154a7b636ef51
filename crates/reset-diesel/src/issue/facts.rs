//! [`reset_core::issue_plan::Facts`] from the rows a backend's load read.

use reset_core::issue_plan::{Facts, Window};

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
        counters: counters
            .into_iter()
            .map(|(key, count, start)| {
                let count = u32::try_from(count).unwrap_or(0);
                (key, Window { count, start })
            })
            .collect(),
    }
}
