//! The rows a planned batch writes, built once for every backend: SQLite and MySQL insert them
//! with statements, PostgreSQL hands them to `reset_issue_apply` as one JSON document. Every id,
//! hash, payload and audit detail is computed here; the backends only write.

use diesel::Insertable;
#[cfg(any(feature = "sqlite", feature = "mysql"))]
use std::collections::HashSet;

#[cfg(any(feature = "sqlite", feature = "mysql"))]
use reset_core::issue_plan::Ask;
use reset_core::issue_plan::{Decision, Kill, Plan, Step};
use reset_core::message::{Channel, EventDelivery, MessageKind};
use reset_core::store::{IssueRequest, IssueTarget, SecretKind, Target};
use serde::Serialize;

use crate::rows::{
    cap_details, decoy_payload_text, int, ms, new_id, payload_text, requested_details,
};
use crate::schema::{audit_events, outbox, rate_limits, reset_secrets};

/// An audit event.
#[derive(Debug, Clone, Insertable, Serialize)]
#[diesel(table_name = audit_events)]
pub struct AuditInsert {
    pub id: String,
    pub user_id: Option<String>,
    pub kind: String,
    pub at: i64,
    pub ip: Option<String>,
    pub details: String,
}

/// A stored secret (dead already when a later request of its batch killed it).
#[derive(Debug, Clone, Insertable, Serialize)]
#[diesel(table_name = reset_secrets)]
pub struct SecretInsert {
    pub id: String,
    pub request_id: String,
    pub user_id: String,
    pub kind: String,
    pub secret_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub attempts: i32,
    pub max_attempts: i32,
    pub issued_via: String,
    pub request_ip: Option<String>,
    pub superseded_at: Option<i64>,
}

/// A queued message or webhook event (a decoy: addressed to no one).
#[derive(Debug, Clone, Insertable, Serialize)]
#[diesel(table_name = outbox)]
pub struct OutboxInsert {
    pub id: String,
    pub user_id: Option<String>,
    pub kind: String,
    pub channel: String,
    pub recipient: String,
    pub locale: String,
    pub payload: String,
    pub created_at: i64,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub queued_at: i64,
    pub decoy: bool,
}

/// A counter's value after a plan (an issue batch's caps, rate-limit hits, a code try), written
/// as it is.
#[derive(Debug, Clone, Insertable, Serialize)]
#[diesel(table_name = rate_limits)]
pub struct CounterInsert {
    pub key: String,
    pub window_start: i64,
    pub count: i32,
    pub expires_at: i64,
}

impl From<&reset_core::counters::CounterWrite> for CounterInsert {
    fn from(c: &reset_core::counters::CounterWrite) -> Self {
        Self {
            key: c.key.clone(),
            window_start: c.window.start,
            count: int(c.window.count),
            expires_at: c.expires_at,
        }
    }
}

/// The account's live secrets stored before the batch that die at `at`: its codes (`code`),
/// or its other secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KillRow {
    pub account: String,
    pub code: bool,
    pub at: i64,
}

/// Everything a batch writes, in the order it is written: audit events, kills (before the
/// batch's own secrets, which they must not touch), secrets, counters, outbox rows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Writes {
    pub audits: Vec<AuditInsert>,
    pub kills: Vec<KillRow>,
    pub secrets: Vec<SecretInsert>,
    pub counters: Vec<CounterInsert>,
    pub outbox: Vec<OutboxInsert>,
}

impl Writes {
    /// The rows of a planned batch: `plan` decided `requests`, in order.
    pub fn of(requests: &[IssueRequest], plan: &Plan) -> Self {
        let mut w = Self::default();
        for (account, kill) in &plan.kills {
            w.kill(account, *kill);
        }
        for ((req, step), later) in requests.iter().zip(&plan.steps).zip(&plan.later) {
            let Step::Decided(decision) = *step else {
                continue;
            };
            w.requested(req);
            match (&req.target, decision) {
                (Target::Known(user), Decision::Issue) => {
                    w.known(req, user, decision, *later);
                    w.messages(req, user);
                }
                (Target::Known(user), _) => w.known(req, user, decision, *later),
                (Target::Unknown(_), Decision::Issue) => w.decoys(req),
                (Target::Unknown(_), _) => {}
            }
        }
        w.counters = plan.counters.iter().map(CounterInsert::from).collect();
        w
    }

    /// The rehearsals of a planned batch (see [`Writes::rehearsal`]), together. A known
    /// account's secrets stored before the batch die once per batch, however many of its
    /// requests the batch holds ([`Plan::kills`]); so a stand-in's kills are written once per
    /// batch too, each kind at the first of its requests that kills it, and a batch of one
    /// identifier's requests rehearses the kills of a batch of one account's.
    #[cfg(any(feature = "sqlite", feature = "mysql"))]
    pub fn rehearsals(requests: &[IssueRequest], asks: &[Ask], steps: &[Step]) -> Self {
        let mut all = Self::default();
        let mut killed: HashSet<(&str, bool)> = HashSet::new();
        for ((req, ask), step) in requests.iter().zip(asks).zip(steps) {
            let Some(mut w) = Self::rehearsal(req, *step) else {
                continue;
            };
            if let Some(holder) = &ask.holder {
                w.kills
                    .retain(|k| killed.insert((holder.id.as_str(), k.code)));
            }
            all.append(w);
        }
        all
    }

    /// What an unknown identifier's request would have written for a known account, against
    /// the decoy account (see [`crate::DECOY_ID`]): its secrets, kills and audit events but
    /// neither messages nor counters (those are the decoys', written for real). SQLite and MySQL
    /// write these and roll them back (the rehearsal, `docs/anti-enumeration.md`); `None` for a
    /// request that is not such.
    #[cfg(any(feature = "sqlite", feature = "mysql"))]
    fn rehearsal(req: &IssueRequest, step: Step) -> Option<Self> {
        let Step::Decided(decision) = step else {
            return None;
        };
        if req.target.known().is_some() || matches!(decision, Decision::Nothing | Decision::Newer) {
            return None;
        }
        let decoy = IssueTarget {
            user_id: crate::DECOY_ID.to_owned(),
            recipients: Vec::new(),
            locale: "en".to_owned(),
            username: String::new(),
        };
        let mut w = Self::default();
        let now = ms(req.now);
        let kill = match decision {
            Decision::Issue => Some((Some(now), Some(now))),
            Decision::BudgetSpent => Some((Some(now), None)),
            _ => None,
        };
        if let Some((codes_at, others_at)) = kill {
            w.kill(
                &decoy.user_id,
                Kill {
                    codes_at,
                    others_at,
                },
            );
        }
        w.known(req, &decoy, decision, Kill::default());
        Some(w)
    }

    /// Whether there is nothing to write.
    #[cfg(any(feature = "sqlite", feature = "mysql"))]
    pub fn is_empty(&self) -> bool {
        self.audits.is_empty()
            && self.kills.is_empty()
            && self.secrets.is_empty()
            && self.counters.is_empty()
            && self.outbox.is_empty()
    }

    /// Adds `other`'s rows after this one's.
    #[cfg(any(feature = "sqlite", feature = "mysql"))]
    fn append(&mut self, mut other: Self) {
        self.audits.append(&mut other.audits);
        self.kills.append(&mut other.kills);
        self.secrets.append(&mut other.secrets);
        self.counters.append(&mut other.counters);
        self.outbox.append(&mut other.outbox);
    }

    fn kill(&mut self, account: &str, kill: Kill) {
        for code in [true, false] {
            if let Some(at) = kill.at(code) {
                self.kills.push(KillRow {
                    account: account.to_owned(),
                    code,
                    at,
                });
            }
        }
    }

    /// The request's `reset_requested` event, under the request's id: a later attempt finds it.
    fn requested(&mut self, req: &IssueRequest) {
        self.audits.push(AuditInsert {
            id: req.request_id.clone(),
            user_id: req.target.known().map(|t| t.user_id.clone()),
            kind: "reset_requested".into(),
            at: ms(req.now),
            ip: req.ip.clone(),
            details: requested_details(req).to_string(),
        });
    }

    fn audit(&mut self, req: &IssueRequest, user: &IssueTarget, kind: &str, details: String) {
        self.audits.push(AuditInsert {
            id: new_id(),
            user_id: Some(user.user_id.clone()),
            kind: kind.into(),
            at: ms(req.now),
            ip: req.ip.clone(),
            details,
        });
    }

    /// A known account's writes after its audit event but its messages (see
    /// [`Writes::messages`]): its held-back audit event, or its secrets.
    fn known(&mut self, req: &IssueRequest, user: &IssueTarget, decision: Decision, later: Kill) {
        let now = ms(req.now);
        match decision {
            Decision::Nothing | Decision::Newer => {}
            Decision::BudgetSpent => {
                let kind = "code_not_issued_guess_budget_spent";
                self.audit(req, user, kind, "{}".into());
            }
            Decision::CapReached { cap } => {
                if let Some(cap) = req.send_caps.get(cap) {
                    let details = cap_details(req, cap).to_string();
                    self.audit(req, user, "reset_not_sent_account_cap", details);
                }
            }
            Decision::Issue => {
                for s in &req.secrets {
                    self.secrets.push(SecretInsert {
                        id: new_id(),
                        request_id: req.request_id.clone(),
                        user_id: user.user_id.clone(),
                        kind: s.kind.as_str().into(),
                        secret_hash: s.hash.clone(),
                        created_at: now,
                        expires_at: ms(s.expires_at),
                        attempts: 0,
                        max_attempts: int(s.max_attempts),
                        issued_via: req.via.clone(),
                        request_ip: req.ip.clone(),
                        superseded_at: later.at(s.kind == SecretKind::Code),
                    });
                }
            }
        }
    }

    /// An issuing known account's outbox rows: its message, one per recipient when delivered,
    /// and its webhook events.
    fn messages(&mut self, req: &IssueRequest, user: &IssueTarget) {
        let now = ms(req.now);
        let mut payload = req.payload.clone();
        payload.username = Some(user.username.clone());
        let text = payload_text(&payload);
        let who = Some(user.user_id.as_str());
        for to in user.recipients.iter().filter(|_| req.deliver) {
            let row = message(now, who, req.message_kind, req.channel, to, &user.locale);
            self.outbox.push(row(text.clone(), false));
        }
        self.events(now, who, &req.events, false);
    }

    /// An unknown identifier's decoys (see [`reset_core::store::UnknownTarget`]): the messages
    /// and events a known account's request would queue, marked `decoy` and addressed to no
    /// one.
    fn decoys(&mut self, req: &IssueRequest) {
        let Some(unknown) = req.target.unknown() else {
            return;
        };
        let now = ms(req.now);
        let text = decoy_payload_text(req);
        for _ in 0..unknown.recipients {
            let row = message(
                now,
                None,
                req.message_kind,
                req.channel,
                "",
                &unknown.locale,
            );
            self.outbox.push(row(text.clone(), true));
        }
        self.events(now, None, &unknown.events, true);
    }

    fn events(&mut self, now: i64, user: Option<&str>, events: &[EventDelivery], decoy: bool) {
        for e in events {
            let url = if decoy { "" } else { e.url.as_str() };
            let row = message(now, user, MessageKind::Event, Channel::Webhook, url, "");
            self.outbox.push(row(payload_text(&e.payload()), decoy));
        }
    }
}

/// An outbox row but for its payload and decoy mark.
fn message<'a>(
    now: i64,
    user: Option<&'a str>,
    kind: MessageKind,
    channel: Channel,
    recipient: &'a str,
    locale: &'a str,
) -> impl Fn(String, bool) -> OutboxInsert + 'a {
    move |payload, decoy| OutboxInsert {
        id: new_id(),
        user_id: user.map(str::to_owned),
        kind: kind.as_str().into(),
        channel: channel.as_str().into(),
        recipient: recipient.into(),
        locale: locale.into(),
        payload,
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
        queued_at: now,
        decoy,
    }
}

#[cfg(all(test, any(feature = "sqlite", feature = "mysql")))]
mod tests {
    use chrono::{Duration, TimeZone as _, Utc};
    use reset_core::issue_plan::{Ask, Decision, Step};
    use reset_core::message::{Channel, MessageKind, MessagePayload};
    use reset_core::store::{IssueRequest, NewSecret, SecretKind, Target, UnknownTarget};

    use super::Writes;

    /// An unknown identifier's request (its stand-in account `account`), issuing a code and a
    /// cancel token.
    fn unknown(account: &str, at_ms: i64) -> IssueRequest {
        let now = Utc.timestamp_millis_opt(at_ms).single().expect("a time");
        let secret = |kind| NewSecret {
            kind,
            hash: uuid::Uuid::new_v4().simple().to_string(),
            expires_at: now + Duration::minutes(30),
            max_attempts: 5,
        };
        let mut target = UnknownTarget::new(account, "en".into());
        target.recipients = 1;
        IssueRequest {
            now,
            target: Target::Unknown(target),
            request_id: uuid::Uuid::now_v7().to_string(),
            secrets: vec![secret(SecretKind::Code), secret(SecretKind::Cancel)],
            guess_budget: None,
            send_caps: vec![],
            channel: Channel::Email,
            message_kind: MessageKind::ResetCode,
            payload: MessagePayload::default(),
            ip: None,
            via: "test".into(),
            events: vec![],
            deliver: true,
            retried: false,
        }
    }

    /// Three requests of one identifier and one of another, all issuing: one kill per kind for
    /// each identifier (at its first request's time), as a batch of two accounts' requests
    /// kills, and every request's secrets.
    #[test]
    fn a_stand_in_kills_once_per_batch() {
        let requests = vec![
            unknown("u:one", 1_000),
            unknown("u:one", 2_000),
            unknown("u:two", 3_000),
            unknown("u:one", 4_000),
        ];
        let asks: Vec<Ask> = requests.iter().map(Ask::of).collect();
        let steps = vec![Step::Decided(Decision::Issue); requests.len()];
        let w = Writes::rehearsals(&requests, &asks, &steps);
        let kills: Vec<(bool, i64)> = w.kills.iter().map(|k| (k.code, k.at)).collect();
        assert_eq!(
            kills,
            [(true, 1_000), (false, 1_000), (true, 3_000), (false, 3_000)]
        );
        assert!(w.kills.iter().all(|k| k.account == crate::DECOY_ID));
        assert_eq!(w.secrets.len(), 8, "every request's secrets");
    }
}
