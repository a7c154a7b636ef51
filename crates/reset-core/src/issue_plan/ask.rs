//! A reset request as the plan sees it: whom it would issue for and which counters hold it back.

use crate::rate_limit::{Limit, guess_budget_key, send_cap_key};
use crate::store::{IssueRequest, Target};

/// A counter the plan checks (and, for a send cap, counts): its key, window and maximum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The counter's key.
    pub key: String,
    /// The window's length in milliseconds.
    pub window_ms: i64,
    /// Hits allowed per window (never 0: a rule that is off is left out).
    pub max: u32,
}

impl Rule {
    fn of(key: String, limit: Limit) -> Option<Self> {
        (!limit.is_off()).then(|| Self {
            key,
            window_ms: limit.window().num_milliseconds(),
            max: limit.max,
        })
    }
}

/// Whom a request would issue for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The account's id, or an unknown identifier's stand-in account (see
    /// [`crate::store::UnknownTarget::account`]). Its lock serialises the requests about it.
    pub id: String,
    /// A known account (its secrets are stored), or a stand-in (its decoys are queued).
    pub known: bool,
}

/// One request of a batch, reduced to what the plan decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// The request's id: it orders an account's requests, and keys its audit event.
    pub request_id: String,
    /// When the request was accepted (ms since the epoch).
    pub now: i64,
    /// Whom it would issue for; `None` when nothing can be issued whatever the database holds
    /// (a known account with no recipient for the channel; an unknown identifier whose
    /// request queues no decoy): only its audit event is written.
    pub holder: Option<Holder>,
    /// Messages it would queue: counted against each send cap.
    pub needed: u32,
    /// The holder's guess budget, when the request carries one that is on.
    pub budget: Option<Rule>,
    /// The holder's send caps that are on, each with its index in
    /// [`IssueRequest::send_caps`] (for the audit event that names it).
    pub caps: Vec<(usize, Rule)>,
}

impl Ask {
    /// The request as the plan sees it.
    pub fn of(req: &IssueRequest) -> Self {
        let (holder, needed) = match &req.target {
            Target::Known(t) => {
                let messages = if req.deliver { t.recipients.len() } else { 0 };
                let acting = !(req.deliver && messages == 0);
                let holder = acting.then(|| Holder {
                    id: t.user_id.clone(),
                    known: true,
                });
                (holder, messages)
            }
            Target::Unknown(u) => {
                let holder = (u.recipients > 0).then(|| Holder {
                    id: u.account().to_owned(),
                    known: false,
                });
                (holder, u.recipients)
            }
        };
        let (budget, caps) = match &holder {
            Some(h) => (
                req.guess_budget
                    .and_then(|b| Rule::of(guess_budget_key(&h.id), b)),
                req.send_caps
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| Rule::of(send_cap_key(&h.id, c), c.limit).map(|r| (i, r)))
                    .collect(),
            ),
            None => (None, Vec::new()),
        };
        Self {
            request_id: req.request_id.clone(),
            now: req.now.timestamp_millis(),
            holder,
            needed: u32::try_from(needed).unwrap_or(u32::MAX),
            budget,
            caps,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::Ask;
    use crate::message::{Channel, MessageKind, MessagePayload};
    use crate::rate_limit::{Limit, SendCap, stand_in_account};
    use crate::store::{IssueRequest, IssueTarget, Target, UnknownTarget};

    fn request(target: Target, deliver: bool) -> IssueRequest {
        IssueRequest {
            now: DateTime::<Utc>::from_timestamp(1_790_000_000, 0).expect("time"),
            target,
            request_id: "r1".into(),
            secrets: vec![],
            guess_budget: Some(Limit::new(5, 3600)),
            send_caps: vec![
                SendCap::account(Limit::new(0, 600)),
                SendCap::account(Limit::new(3, 900)),
            ],
            channel: Channel::Email,
            message_kind: MessageKind::ResetCode,
            payload: MessagePayload::default(),
            ip: None,
            via: "test".into(),
            events: vec![],
            deliver,
            retried: false,
        }
    }

    fn known(recipients: usize) -> Target {
        Target::Known(IssueTarget {
            user_id: "u1".into(),
            recipients: vec!["a@example.com".into(); recipients],
            locale: "en".into(),
            username: "a".into(),
        })
    }

    #[test]
    fn a_known_account_holds_its_own_caps_and_budget() {
        let ask = Ask::of(&request(known(2), true));
        let holder = ask.holder.expect("a holder");
        assert_eq!((holder.id.as_str(), holder.known), ("u1", true));
        assert_eq!(ask.needed, 2);
        assert_eq!(ask.now, 1_790_000_000_000);
        assert_eq!(
            ask.budget.map(|b| (b.key, b.max)),
            Some(("guess:u1".into(), 5))
        );
        // The cap that is off is left out; the other keeps its index in the request.
        let caps: Vec<_> = ask
            .caps
            .iter()
            .map(|(i, c)| (*i, c.key.as_str(), c.max))
            .collect();
        assert_eq!(caps, [(1, "send:900:u1", 3)]);
    }

    #[test]
    fn nothing_to_issue_has_no_holder() {
        // A known account with no address for the channel: only the audit event.
        let ask = Ask::of(&request(known(0), true));
        assert!(ask.holder.is_none() && ask.budget.is_none() && ask.caps.is_empty());
        // An administrator's code kept, not sent: the account holds it, no message counted.
        let kept = Ask::of(&request(known(0), false));
        assert_eq!(kept.holder.map(|h| h.known), Some(true));
        assert_eq!(kept.needed, 0);
        // An unknown identifier whose request would queue no decoy.
        let unknown = Target::Unknown(UnknownTarget::new("nocode:u:ghost", "en".into()));
        assert!(Ask::of(&request(unknown, true)).holder.is_none());
    }

    #[test]
    fn an_unknown_identifier_is_held_by_its_stand_in() {
        let mut unknown = UnknownTarget::new("nocode:u:ghost", "en".into());
        unknown.recipients = 1;
        let ask = Ask::of(&request(Target::Unknown(unknown), true));
        let holder = ask.holder.expect("a holder");
        assert_eq!(holder.id, stand_in_account("nocode:u:ghost"));
        assert!(!holder.known);
        assert_eq!(ask.needed, 1);
        let key = format!("guess:{}", holder.id);
        assert_eq!(ask.budget.map(|b| b.key), Some(key));
    }
}
