//! [`reset_core::issue_plan::Facts`] from the rows a backend's load read.

use reset_core::counters::Counters;
use reset_core::issue_plan::Facts;

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
