//! The plan: what each request of a batch does, decided without I/O from the loaded facts.

use std::collections::{BTreeMap, HashMap};

use super::{Ask, CounterWrite, Facts, Window};
use crate::store::{IssueOutcome, Target};

/// What one request of a batch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// An earlier attempt of the request committed before its answer was lost: nothing is
    /// written or counted again, for a known account or an unknown one. `issued`: that attempt
    /// stored secrets.
    DoneBefore {
        /// The earlier attempt stored secrets.
        issued: bool,
    },
    /// The request's `reset_requested` audit event is written, then what [`Decision`] says.
    Decided(Decision),
}

/// What a request that is not a repeat does after its audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing can be issued (see [`Ask::holder`]).
    Nothing,
    /// A newer request of the account already issued: requests take effect in the order of
    /// their ids, not of their transactions.
    Newer,
    /// The holder's guess budget is spent: no new code, and the account's live codes die (a
    /// spent budget must not let anyone kill the links already sent). Audited for a known
    /// account.
    BudgetSpent,
    /// Send cap `cap` (its index in the request's send caps) would be passed: nothing is
    /// issued or queued, and the secrets already sent stay usable. Audited for a known account.
    CapReached {
        /// The cap's index in [`crate::store::IssueRequest::send_caps`].
        cap: usize,
    },
    /// Issued: the send caps counted; for a known account its older secrets superseded, the
    /// new ones stored and its messages queued; for a stand-in, the decoys queued.
    Issue,
}

/// When secrets die, by kind: a code at `codes_at`, any other secret at `others_at` (each
/// `None`: it stays). A code dies whenever the others do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Kill {
    /// When the live codes die.
    pub codes_at: Option<i64>,
    /// When the live links and cancel tokens die.
    pub others_at: Option<i64>,
}

impl Kill {
    /// When a secret of this kind dies (`code`: it is a code).
    pub fn at(&self, code: bool) -> Option<i64> {
        if code { self.codes_at } else { self.others_at }
    }

    fn codes(&mut self, now: i64) {
        self.codes_at.get_or_insert(now);
    }

    fn all(&mut self, now: i64) {
        self.codes_at.get_or_insert(now);
        self.others_at.get_or_insert(now);
    }
}

/// What a batch writes besides each request's own rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Each request's step, in order.
    pub steps: Vec<Step>,
    /// For each request that issues to a known account: when later requests of the same batch
    /// kill the secrets it stores (default for every other request).
    pub later: Vec<Kill>,
    /// The live secrets stored before the batch that it kills, per known account.
    pub kills: Vec<(String, Kill)>,
    /// The counters the batch counted, with their values after it.
    pub counters: Vec<CounterWrite>,
}

/// Whose secrets a later request of the batch kills: those stored before the batch, or those
/// of an earlier request of it.
#[derive(Debug, Clone, Copy)]
enum Open {
    Before,
    Step(usize),
}

/// Decides a batch: each of `asks`, in order, against `facts`, which it updates as it goes.
pub fn plan(facts: &mut Facts, asks: &[Ask]) -> Plan {
    let mut steps = Vec::with_capacity(asks.len());
    let mut later = vec![Kill::default(); asks.len()];
    let mut before: BTreeMap<String, Kill> = BTreeMap::new();
    let mut open: HashMap<String, Vec<Open>> = HashMap::new();
    for (n, ask) in asks.iter().enumerate() {
        let step = decide(facts, ask);
        steps.push(step);
        let Some(holder) = ask.holder.as_ref().filter(|h| h.known) else {
            if step == Step::Decided(Decision::Issue) {
                count(facts, ask);
            }
            continue;
        };
        let kill: fn(&mut Kill, i64) = match step {
            Step::Decided(Decision::BudgetSpent) => Kill::codes,
            Step::Decided(Decision::Issue) => Kill::all,
            _ => continue,
        };
        let secrets = open
            .entry(holder.id.clone())
            .or_insert_with(|| vec![Open::Before]);
        for o in secrets.iter() {
            match *o {
                Open::Before => kill(before.entry(holder.id.clone()).or_default(), ask.now),
                Open::Step(i) => {
                    if let Some(k) = later.get_mut(i) {
                        kill(k, ask.now);
                    }
                }
            }
        }
        if step == Step::Decided(Decision::Issue) {
            count(facts, ask);
            secrets.push(Open::Step(n));
            facts.issued.insert(ask.request_id.clone());
            let newest = facts.newest.entry(holder.id.clone()).or_default();
            if *newest < ask.request_id {
                newest.clone_from(&ask.request_id);
            }
        }
    }
    Plan {
        steps,
        later,
        kills: before.into_iter().collect(),
        counters: facts.counters.take_writes(),
    }
}

/// One request's step, from the facts as the requests before it left them.
fn decide(facts: &mut Facts, ask: &Ask) -> Step {
    if facts.audited.contains(&ask.request_id) {
        let known = ask.holder.as_ref().is_some_and(|h| h.known);
        return Step::DoneBefore {
            issued: known && facts.issued.contains(&ask.request_id),
        };
    }
    facts.audited.insert(ask.request_id.clone());
    let Some(holder) = &ask.holder else {
        return Step::Decided(Decision::Nothing);
    };
    if holder.known
        && facts
            .newest
            .get(&holder.id)
            .is_some_and(|newest| *newest > ask.request_id)
    {
        return Step::Decided(Decision::Newer);
    }
    let current = |key: &str, len: i64| Window::count_at(facts.counters.get(key), ask.now, len);
    if let Some(b) = &ask.budget
        && current(&b.key, b.window_ms) >= b.max
    {
        return Step::Decided(Decision::BudgetSpent);
    }
    for (i, cap) in &ask.caps {
        if current(&cap.key, cap.window_ms).saturating_add(ask.needed) > cap.max {
            return Step::Decided(Decision::CapReached { cap: *i });
        }
    }
    Step::Decided(Decision::Issue)
}

/// Counts an issuing request's messages in each of its send caps (two caps with the same
/// window share a key, and count it twice, as each holds its own messages back).
fn count(facts: &mut Facts, ask: &Ask) {
    if ask.needed == 0 {
        return;
    }
    for (_, cap) in &ask.caps {
        facts
            .counters
            .add(ask.now, &cap.key, cap.window_ms, ask.needed);
    }
}

impl Step {
    /// What the request did (for the log, and an administrator's issue), and whether it left
    /// something for the outbox worker. A repeat reports something queued whatever it did, so
    /// that a worker never woken for the earlier attempt is, and the wake-up tells nothing.
    pub fn outcome(&self, target: &Target) -> (IssueOutcome, bool) {
        let issued = |yes: bool| match target.known() {
            Some(t) if yes => IssueOutcome::Issued {
                user_id: t.user_id.clone(),
            },
            _ => IssueOutcome::NotIssued,
        };
        match self {
            Self::DoneBefore { issued: yes } => (issued(*yes), true),
            Self::Decided(Decision::Issue) => (issued(true), true),
            Self::Decided(_) => (IssueOutcome::NotIssued, false),
        }
    }
}
