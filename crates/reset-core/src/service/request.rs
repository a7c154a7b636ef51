//! `request`: issue a secret and queue its message, answering the same whether or not the
//! account exists.

use chrono::{DateTime, Duration, Utc};
use tracing::Instrument as _;

use super::{ClientContext, RequestInput, ResetService};
use crate::error::ResetError;
use crate::identity::{AccountLookup, normalize_email};
use crate::message::Channel;
use crate::message::{Delivery, EventDelivery, EventType, MessageKind, MessagePayload};
use crate::rate_limit::{CounterHit, SendCap, ip_key};
use crate::secret::{new_code, new_token};
use crate::store::{IssueRequest, IssueTarget, NewSecret, SecretKind, Target, UnknownTarget, User};

/// Longest accepted locale tag (BCP 47 allows 35).
const MAX_LOCALE_CHARS: usize = 35;

impl ResetService {
    /// Counts the rate limits (the only part the answer depends on), then, after answering,
    /// issues a link or a code for the account the identifiers name, supersedes its older
    /// secrets and queues the message, in one transaction. Unknown accounts take the same path
    /// (the secret is generated and hashed either way) and get the same `Ok(())`.
    pub async fn request(
        &self,
        input: RequestInput,
        ctx: &ClientContext,
    ) -> Result<(), ResetError> {
        let lookup = AccountLookup::parse(input.username.as_deref(), input.email.as_deref())
            .map_err(|e| ResetError::InvalidRequest(e.into()))?;
        let locale = input.locale.as_deref().map(validate_locale).transpose()?;
        let now = self.clock.now();
        let request_id = uuid::Uuid::now_v7().to_string();
        let rl = self.config.rate_limits;

        let mut limits: Vec<CounterHit> = lookup
            .identifier_keys()
            .into_iter()
            .map(|k| CounterHit {
                key: format!("req:{k}"),
                limit: rl.request_per_identifier,
            })
            .collect();
        if let Some(ip) = ctx.ip {
            limits.push(CounterHit {
                key: format!("req:ip:{}", ip_key(ip)),
                limit: rl.request_per_ip,
            });
        }
        // Every accepted request, known account or not and whatever its delivery, starts the
        // named identifiers' try counters afresh, as a new code starts with all its tries (or a
        // link kills the code): later answers depend on these counters alone. Done in the rate
        // limits' own transaction, only when they let the request through.
        let counters: Vec<CounterHit> = lookup
            .no_code_keys()
            .into_iter()
            .map(|key| self.try_counter(&key, ctx.ip))
            .collect();
        self.enforce(now, limits, &counters).await?;

        let (secrets, payload, kind, guess_budget) = match input.delivery {
            Delivery::Link => {
                let (secrets, payload) = self.mint_link(now);
                (secrets, payload, MessageKind::ResetLink, None)
            }
            Delivery::Code => {
                let (secrets, code, mut payload) = self.mint_code(now, &request_id);
                payload.code = Some(code);
                (
                    secrets,
                    payload,
                    MessageKind::ResetCode,
                    Some(self.config.guess_budget),
                )
            }
        };

        let channel_enabled = input.channel == Channel::Email || self.config.sms_enabled;
        let issue = IssueRequest {
            now,
            // Set per attempt, once the directory has answered.
            target: Target::Unknown(UnknownTarget::new(&lookup.no_code_key(), "en".to_owned())),
            request_id: request_id.clone(),
            secrets,
            guess_budget,
            // The caps per client address bind first, so that a stranger's requests cannot
            // spend the account-wide ones on their own (see docs/api.md, "Abuse and lockout").
            send_caps: vec![
                SendCap::from_ip(rl.send_per_account_from_ip, ctx.ip),
                SendCap::from_ip(rl.send_per_account_from_ip_per_day, ctx.ip),
                SendCap::account(rl.send_per_account),
                SendCap::account(rl.send_per_account_per_day),
            ],
            channel: input.channel,
            message_kind: kind,
            payload,
            ip: ctx.ip.map(|ip| ip.to_string()),
            via: ctx.via.clone(),
            events: Vec::new(),
            deliver: true,
            retried: false,
        };
        let hooks = self.config.webhook_urls.clone();
        // The account-dependent work runs after the answer, so no timing can tell a known
        // account from an unknown one. The permit bounds the work in flight: under overload
        // callers wait here, for a permit, never for their account's transaction.
        let permit = self
            .pending
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ResetError::Hashing(e.to_string()))?;
        let (store, directory) = (self.store.clone(), self.directory.clone());
        let synchronous = input.synchronous;
        let retry_for = std::time::Duration::from_secs(self.config.issue_retry_secs);
        let work = async move {
            // An unreachable database is waited for, with backoff, up to `issue_retry_secs`:
            // the request was answered 202, so it must not be lost to a restart or a failover.
            // Requests of one account still take effect in arrival order (by request id).
            let deadline = tokio::time::Instant::now() + retry_for;
            let mut wait = std::time::Duration::from_millis(100);
            let mut retried = false;
            let outcome = loop {
                let attempt = async {
                    let user = directory.find(&lookup).await?;
                    let target =
                        user.map(|u| target(&u, &lookup, &input, channel_enabled, locale.clone()));
                    let events_for = |user_id: &str| {
                        EventDelivery::for_each(
                            &hooks,
                            EventType::ResetRequested,
                            issue.now,
                            user_id,
                            Some(&issue.request_id),
                            &issue.via,
                        )
                    };
                    let (target, events) = match target {
                        Some(t) => {
                            let events = events_for(&t.user_id);
                            (Target::Known(t), events)
                        }
                        // Webhooks carry events, never a secret; a channel that is off sends
                        // nothing, and issues nothing.
                        None => {
                            let locale = locale.clone().unwrap_or_else(|| "en".to_owned());
                            let mut unknown = UnknownTarget::new(&lookup.no_code_key(), locale);
                            unknown.recipients =
                                usize::from(channel_enabled && input.channel != Channel::Webhook);
                            if unknown.recipients > 0 {
                                unknown.events = events_for("");
                            }
                            (Target::Unknown(unknown), Vec::new())
                        }
                    };
                    // The same span, and the same attributes, whether the account exists.
                    let span = tracing::info_span!(
                        "store issue",
                        db.operation.name = "issue",
                        db.operation.batch.size = tracing::field::Empty
                    );
                    store
                        .issue(IssueRequest {
                            target,
                            events,
                            retried,
                            ..issue.clone()
                        })
                        .instrument(span)
                        .await
                };
                match attempt.await {
                    Err(e) if e.is_transient() && tokio::time::Instant::now() + wait < deadline => {
                        metrics::counter!("reset_issue_retries_total").increment(1);
                        tracing::warn!(%request_id, error = %e, retry_in_ms = wait.as_millis(), "reset request waits for the database");
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(std::time::Duration::from_secs(5));
                        retried = true;
                    }
                    other => break other,
                }
            };
            match &outcome {
                // One line, whatever was written: whether a secret was issued tells whether the
                // account exists (or is over a cap), and no log file may tell that. The audit
                // table and the outbox keep what happened, for those allowed to read them.
                Ok(_) => tracing::info!(%request_id, "reset request written"),
                Err(e) => {
                    metrics::counter!("reset_issue_dropped_total").increment(1);
                    tracing::error!(%request_id, error = %e, "reset request dropped: the store failed (after retrying while it was unreachable)")
                }
            }
            drop(permit);
            outcome
        };
        // A child of the request's span, which it outlives: the trace shows the answer, then
        // the write it promised.
        let work = work.instrument(tracing::info_span!("reset issue"));
        if synchronous {
            // The caller promised its client that the secret exists once it answers.
            work.await?;
        } else {
            self.spawn_home(async move {
                let _ = work.await;
            });
        }
        Ok(())
    }

    /// A link token's secret and its cancel-only secret, and the message payload carrying the
    /// link and the cancel link. The cancel link never carries the reset token: a user who
    /// forwards "this wasn't me" to their IT desk must not hand over a working reset.
    pub(super) fn mint_link(&self, now: DateTime<Utc>) -> (Vec<NewSecret>, MessagePayload) {
        let ttl = Duration::seconds(secs(self.config.link_ttl_secs));
        let token = new_token(self.rng.as_ref());
        let cancel = new_token(self.rng.as_ref());
        let secrets = vec![
            NewSecret {
                kind: SecretKind::Link,
                hash: self.token_hash(token.expose()),
                expires_at: now + ttl,
                max_attempts: 0,
            },
            NewSecret {
                kind: SecretKind::Cancel,
                hash: self.token_hash(cancel.expose()),
                expires_at: now + ttl,
                max_attempts: 0,
            },
        ];
        let payload = MessagePayload {
            link: Some(self.config.reset_link(token.expose())),
            cancel_link: Some(self.config.cancel_link(cancel.expose())),
            valid_minutes: Some(ttl.num_minutes()),
            traceparent: crate::trace_context::current(),
            ..MessagePayload::default()
        };
        (secrets, payload)
    }

    /// A code's secret and its cancel-only secret, the code itself, and a payload with the
    /// cancel link (the caller decides where the code goes).
    pub(super) fn mint_code(
        &self,
        now: DateTime<Utc>,
        request_id: &str,
    ) -> (Vec<NewSecret>, String, MessagePayload) {
        let ttl = Duration::seconds(secs(self.config.code_ttl_secs));
        let code = new_code(self.rng.as_ref(), self.config.code_digits);
        let cancel = new_token(self.rng.as_ref());
        let secrets = vec![
            NewSecret {
                kind: SecretKind::Code,
                hash: self.code_hash(request_id, code.expose()),
                expires_at: now + ttl,
                max_attempts: self.config.code_max_attempts,
            },
            NewSecret {
                kind: SecretKind::Cancel,
                hash: self.token_hash(cancel.expose()),
                expires_at: now
                    + Duration::seconds(secs(
                        self.config.link_ttl_secs.max(self.config.code_ttl_secs),
                    )),
                max_attempts: 0,
            },
        ];
        let payload = MessagePayload {
            cancel_link: Some(self.config.cancel_link(cancel.expose())),
            valid_minutes: Some(ttl.num_minutes()),
            traceparent: crate::trace_context::current(),
            ..MessagePayload::default()
        };
        (secrets, code.expose().to_owned(), payload)
    }

    /// The stored hash of a link or cancel token.
    pub(crate) fn token_hash(&self, token: &str) -> String {
        self.key.hash("token", token).0
    }

    /// The stored hash of a code, bound to its request so equal codes hash differently.
    pub(crate) fn code_hash(&self, request_id: &str, code: &str) -> String {
        self.key.hash("code", &code_secret(request_id, code)).0
    }

    /// Whether `stored` is the hash of `code` for `request_id`, under the key that made it.
    pub(crate) fn code_matches(&self, request_id: &str, code: &str, stored: &str) -> bool {
        self.key
            .verify("code", &code_secret(request_id, code), stored)
    }
}

/// What a code's hash is made of: the code bound to its request.
fn code_secret(request_id: &str, code: &str) -> String {
    format!("{request_id}:{code}")
}

/// Where a known account's message goes: the account's stored address equal to the one the
/// request named, else the account's first stored one (never the string as typed: a host
/// directory that matches addresses loosely must not mail a look-alike); every stored one with
/// `all_addresses`; or its phone for SMS. The request's language, else the account's, else English.
fn target(
    user: &User,
    lookup: &AccountLookup,
    input: &RequestInput,
    enabled: bool,
    locale: Option<String>,
) -> IssueTarget {
    let recipients = match input.channel {
        _ if !enabled => Vec::new(),
        Channel::Email if input.all_addresses => user.emails.clone(),
        Channel::Email => lookup
            .email
            .as_ref()
            .and_then(|named| {
                user.emails
                    .iter()
                    .find(|stored| normalize_email(stored).is_ok_and(|s| &s == named))
            })
            .or_else(|| user.emails.first())
            .cloned()
            .into_iter()
            .collect(),
        Channel::Sms => user.phone.clone().into_iter().collect(),
        // Webhooks carry events, never a user's secret.
        Channel::Webhook => Vec::new(),
    };
    IssueTarget {
        user_id: user.id.clone(),
        recipients,
        locale: locale
            .or_else(|| user.locale.clone())
            .unwrap_or_else(|| "en".to_owned()),
        username: user.username.clone(),
    }
}

/// Seconds as the `i64` chrono wants, saturating.
pub(crate) fn secs(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX / 1000)
}

fn validate_locale(l: &str) -> Result<String, ResetError> {
    let ok = !l.is_empty()
        && l.chars().count() <= MAX_LOCALE_CHARS
        && l.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(l.to_owned())
    } else {
        Err(ResetError::InvalidRequest(
            "`locale` must be a language tag such as `en` or `ja-JP`".into(),
        ))
    }
}
