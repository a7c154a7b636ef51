//! Property tests of the issue plan (`reset_core::issue_plan`), without a database: arbitrary
//! sequences of requests for known accounts and unknown identifiers, in batches, with retries,
//! late arrivals, guesses and clock steps. Every store decides by this plan, so these are the
//! semantics every store has (the store contract and the differential replay in reset-diesel
//! check that the stores apply it alike).

use std::collections::HashMap;

use proptest::prelude::*;
use reset_core::issue_plan::{Ask, Decision, Facts, Holder, Kill, Plan, Rule, Step, Window, plan};

const MINUTE: i64 = 60_000;

/// The caps every request carries: 3 per 10 minutes account-wide, 2 per 10 minutes per address.
fn caps(holder: &str) -> Vec<(usize, Rule)> {
    let rule = |key: String, max| Rule {
        key,
        window_ms: 10 * MINUTE,
        max,
    };
    vec![
        (0, rule(format!("send:600:{holder}"), 3)),
        (1, rule(format!("sendip:600:{holder}|ip"), 2)),
    ]
}

fn budget(holder: &str) -> Rule {
    Rule {
        key: format!("guess:{holder}"),
        window_ms: 60 * MINUTE,
        max: 4,
    }
}

/// One generated event.
#[derive(Debug, Clone)]
enum Event {
    /// A request about holder `who` (0..3 known accounts, 3..6 unknown identifiers), with a
    /// guess budget (a code) or not, for `needed` messages.
    Request { who: usize, code: bool, needed: u32 },
    /// The request `back` places earlier is tried again (its answer was lost).
    Retry { back: usize },
    /// A request that took its id before the last one's but reaches the store after it.
    Late { who: usize },
    /// Guesses at holder `who`'s code spend its budget.
    Guess { who: usize, n: u32 },
    /// The clock moves on.
    Tick { minutes: i64 },
    /// The batch so far is sent.
    Flush,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        6 => (0..6usize, any::<bool>(), 0..3u32)
            .prop_map(|(who, code, needed)| Event::Request { who, code, needed }),
        1 => (0..8usize).prop_map(|back| Event::Retry { back }),
        1 => (0..3usize).prop_map(|who| Event::Late { who }),
        1 => (0..6usize, 1..4u32).prop_map(|(who, n)| Event::Guess { who, n }),
        2 => (0..15i64).prop_map(|minutes| Event::Tick { minutes }),
        2 => Just(Event::Flush),
    ]
}

/// Holder `who`: known below 3, unknown above (the other way round when `flipped`).
fn holder(who: usize, flipped: bool) -> Holder {
    Holder {
        id: format!("h{who}"),
        known: (who < 3) != flipped,
    }
}

/// A secret stored by the model: the request that issued it, whether it is a code, and when
/// it died.
#[derive(Debug, Clone)]
struct Secret {
    account: String,
    request_id: String,
    code: bool,
    dead: Option<i64>,
}

/// A sequence run against one `Facts`, as a store applies it: the model's secrets, each
/// request's step (by id, in order), and the issuing requests (holder, clock, messages).
#[derive(Default)]
struct Run {
    facts: Facts,
    secrets: Vec<Secret>,
    steps: Vec<(String, Step)>,
    issued: Vec<(String, i64, u32)>,
}

impl Run {
    fn flush(&mut self, batch: &mut Vec<Ask>) {
        let asks = std::mem::take(batch);
        let p = plan(&mut self.facts, &asks);
        self.apply(&asks, &p);
    }

    /// Applies a plan to the model as the stores do: the kills first, then each issuing
    /// request's secrets (a link, and a code for a code request), dead when a later request
    /// of the batch killed them.
    fn apply(&mut self, asks: &[Ask], p: &Plan) {
        assert_eq!(p.steps.len(), asks.len());
        for (account, kill) in &p.kills {
            let live = self
                .secrets
                .iter_mut()
                .filter(|s| &s.account == account && s.dead.is_none());
            for s in live {
                s.dead = kill.at(s.code);
            }
        }
        for ((ask, step), later) in asks.iter().zip(&p.steps).zip(&p.later) {
            self.steps.push((ask.request_id.clone(), *step));
            if *step != Step::Decided(Decision::Issue) {
                continue;
            }
            let h = ask
                .holder
                .as_ref()
                .expect("an issuing request has a holder");
            self.issued.push((h.id.clone(), ask.now, ask.needed));
            if !h.known {
                continue;
            }
            let kinds: &[bool] = if ask.budget.is_some() {
                &[false, true]
            } else {
                &[false]
            };
            for code in kinds {
                self.secrets.push(Secret {
                    account: h.id.clone(),
                    request_id: ask.request_id.clone(),
                    code: *code,
                    dead: later.at(*code),
                });
            }
        }
    }
}

fn run(events: &[Event], flipped: bool) -> Run {
    let mut r = Run::default();
    let (mut now, mut next_id) = (1_000_000i64, 1000u32);
    let (mut batch, mut sent) = (Vec::<Ask>::new(), Vec::<Ask>::new());
    for e in events {
        match e {
            Event::Request { .. } | Event::Late { .. } => {
                let (who, code, needed, id) = match *e {
                    Event::Request { who, code, needed } => {
                        next_id += 2;
                        (who, code, needed, next_id)
                    }
                    Event::Late { who } => (who, false, 1, next_id - 1),
                    _ => unreachable!(),
                };
                let h = holder(who, flipped);
                let ask = Ask {
                    request_id: format!("r{id:08}"),
                    now,
                    budget: code.then(|| budget(&h.id)),
                    caps: caps(&h.id),
                    holder: Some(h),
                    needed,
                };
                sent.push(ask.clone());
                batch.push(ask);
            }
            Event::Retry { back } => {
                if let Some(ask) = sent.iter().rev().nth(*back).cloned() {
                    batch.push(Ask { now, ..ask });
                }
            }
            Event::Guess { who, n } => {
                r.flush(&mut batch);
                let b = budget(&holder(*who, flipped).id);
                let stored = r.facts.counters.get(&b.key);
                let guessed = Window::add(stored, now, b.window_ms, *n);
                r.facts.counters.put(b.key.clone(), guessed);
            }
            Event::Tick { minutes } => now += minutes * MINUTE,
            Event::Flush => r.flush(&mut batch),
        }
    }
    r.flush(&mut batch);
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// No counter passes its cap, and each counts exactly the messages of the requests that
    /// issued in its window.
    #[test]
    fn caps_are_never_exceeded(events in prop::collection::vec(event(), 1..60)) {
        let r = run(&events, false);
        for who in 0..6 {
            let h = holder(who, false);
            for (_, cap) in caps(&h.id) {
                let Some(w) = r.facts.counters.get(&cap.key) else { continue };
                prop_assert!(w.count <= cap.max, "{} counted {} over {}", cap.key, w.count, cap.max);
                let counted: u32 = r.issued.iter()
                    .filter(|(id, at, _)| *id == h.id && *at >= w.start && *at < w.start + cap.window_ms)
                    .map(|(_, _, n)| *n)
                    .sum();
                prop_assert_eq!(counted, w.count, "{}", cap.key);
            }
        }
    }

    /// An unknown identifier's decoys are held back exactly when a known account's messages
    /// would be: the same sequence with every holder's kind flipped decides the same (ids in
    /// arrival order: a late request is the known accounts' own case).
    #[test]
    fn decoys_are_held_back_as_messages_are(
        events in prop::collection::vec(event(), 1..60)
            .prop_filter("ids in order", |e| !e.iter().any(|e| matches!(e, Event::Late { .. }))),
    ) {
        let shape = |r: Run| r.steps.into_iter().map(|(id, s)| match s {
            Step::DoneBefore { .. } => (id, None),
            Step::Decided(d) => (id, Some(d)),
        }).collect::<Vec<_>>();
        prop_assert_eq!(shape(run(&events, false)), shape(run(&events, true)));
    }

    /// A retried request writes nothing twice: each request is decided once, and a repeat says
    /// whether the first attempt stored secrets.
    #[test]
    fn a_retried_request_is_written_once(events in prop::collection::vec(event(), 1..60)) {
        let r = run(&events, false);
        let mut decided: HashMap<&str, Step> = HashMap::new();
        for (id, step) in &r.steps {
            match step {
                Step::Decided(_) => prop_assert!(decided.insert(id, *step).is_none(), "{id} decided twice"),
                Step::DoneBefore { issued } => {
                    prop_assert!(decided.contains_key(id.as_str()), "{id} repeated before it was decided");
                    let stored = r.secrets.iter().any(|s| &s.request_id == id);
                    prop_assert_eq!(*issued, stored, "{}", id);
                }
            }
        }
    }

    /// An account has the secrets of one request live at most: its newest that issued.
    #[test]
    fn one_request_is_live_per_account(events in prop::collection::vec(event(), 1..60)) {
        let r = run(&events, false);
        for who in 0..3 {
            let account = holder(who, false).id;
            let mut live: Vec<&str> = r.secrets.iter()
                .filter(|s| s.account == account && s.dead.is_none())
                .map(|s| s.request_id.as_str())
                .collect();
            live.dedup();
            prop_assert!(live.len() <= 1, "{account}: {live:?} live");
            if let Some(live) = live.first() {
                prop_assert_eq!(Some(*live), r.facts.newest.get(&account).map(String::as_str));
            }
        }
    }
}

/// A request of known account `a` for one message.
fn account_a(id: &str, now: i64, budget: Option<Rule>, caps: Vec<(usize, Rule)>) -> Ask {
    Ask {
        request_id: id.into(),
        now,
        holder: Some(Holder {
            id: "a".into(),
            known: true,
        }),
        needed: 1,
        budget,
        caps,
    }
}

/// A budget spent between two requests kills the first's code, not its link; a request after
/// the budget's window issues again.
#[test]
fn a_spent_budget_kills_codes_only() {
    let ask = |id: &str, now: i64| account_a(id, now, Some(budget("a")), vec![]);
    let mut facts = Facts::default();
    let first = plan(&mut facts, &[ask("r1", 0)]);
    assert_eq!(first.steps, vec![Step::Decided(Decision::Issue)]);
    facts
        .counters
        .put(budget("a").key, Window { count: 4, start: 0 });
    let spent = plan(&mut facts, &[ask("r2", MINUTE), ask("r3", 2 * MINUTE)]);
    assert_eq!(spent.steps, vec![Step::Decided(Decision::BudgetSpent); 2]);
    let kill = Kill {
        codes_at: Some(MINUTE),
        others_at: None,
    };
    assert_eq!(spent.kills, vec![("a".to_owned(), kill)]);
    let later = plan(&mut facts, &[ask("r4", 61 * MINUTE)]);
    assert_eq!(later.steps, vec![Step::Decided(Decision::Issue)]);
}

/// Two requests of one account in one batch: the second supersedes what the first stored.
#[test]
fn a_later_request_of_the_batch_supersedes_the_earlier() {
    let ask = |id: &str, now: i64| account_a(id, now, None, caps("a"));
    let mut facts = Facts::default();
    let p = plan(&mut facts, &[ask("r1", 5), ask("r2", 7)]);
    assert_eq!(p.steps, vec![Step::Decided(Decision::Issue); 2]);
    let all = |at| Kill {
        codes_at: Some(at),
        others_at: Some(at),
    };
    assert_eq!(p.later, vec![all(7), Kill::default()]);
    assert_eq!(p.kills, vec![("a".to_owned(), all(5))]);
    assert_eq!(p.counters.len(), 2);
    assert!(
        p.counters
            .iter()
            .all(|c| c.window.count == 2 && c.expires_at == 5 + 10 * MINUTE)
    );
}
