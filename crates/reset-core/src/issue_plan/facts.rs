//! What the database holds that a batch's plan decides on, and what a store must read for it.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::Ask;
use crate::counters::Counters;

/// The facts a batch's plan reads, loaded by the store under the holders' locks. The plan
/// updates them as it goes, so that each request sees the ones before it (in the batch, and in
/// the batches before it when one `Facts` is kept across them, as the property tests do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Requests whose `reset_requested` audit event exists: an earlier attempt committed.
    pub audited: HashSet<String>,
    /// Requests that stored secrets.
    pub issued: HashSet<String>,
    /// Each account's newest request that stored secrets (request ids order an account's
    /// requests).
    pub newest: HashMap<String, String>,
    /// The counters the batch checks, as stored (absent: never started, or swept), then as
    /// the plan counts them.
    pub counters: Counters,
}

/// What a store reads for a batch (see [`Needs::of`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// The holders to lock, in lock order (sorted, once each).
    pub holders: Vec<String>,
    /// The requests' ids: their audit events and stored secrets.
    pub request_ids: Vec<String>,
    /// The known accounts whose newest request is read.
    pub accounts: Vec<String>,
    /// The counters read: guess budgets and send caps.
    pub keys: Vec<String>,
}

impl Needs {
    /// What the batch `asks` needs read.
    pub fn of(asks: &[Ask]) -> Self {
        let mut holders = BTreeSet::new();
        let mut accounts = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for ask in asks {
            if let Some(h) = &ask.holder {
                holders.insert(h.id.clone());
                if h.known {
                    accounts.insert(h.id.clone());
                }
            }
            keys.extend(ask.budget.iter().map(|b| b.key.clone()));
            keys.extend(ask.caps.iter().map(|(_, c)| c.key.clone()));
        }
        Self {
            holders: holders.into_iter().collect(),
            request_ids: asks.iter().map(|a| a.request_id.clone()).collect(),
            accounts: accounts.into_iter().collect(),
            keys: keys.into_iter().collect(),
        }
    }
}
