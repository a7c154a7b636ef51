//! `complete`: set the new password, using the secret exactly once.

use super::{ClientContext, ResetService, SecretInput};
use crate::directory::PasswordChange;
use crate::error::{ResetError, Violation};
use crate::message::{EventDelivery, EventType};
use crate::password::NewPassword;
use crate::policy::{PasswordPolicy, PolicySubject};
use crate::rate_limit::{CounterHit, Limit};
use crate::store::{Completion, User};
use chrono::{DateTime, Utc};
use tracing::Instrument as _;

/// Account-free password checks a client IP may make per attempt it may make (see
/// [`ResetService::check_password_without_account`]): 20 × the attempt limit, 2,000 per 15
/// minutes by default.
pub const PASSWORD_CHECKS_PER_ATTEMPT: u32 = 20;

impl ResetService {
    /// Checks the policy first (a weak password leaves the secret usable), hashes off the
    /// runtime, then consumes the secret in one atomic statement (of concurrent calls with one
    /// secret, exactly one goes on; the others get `invalid_token`), sets the password through
    /// the directory, and writes the aftermath (other secrets killed, notice queued, audit) in
    /// one transaction.
    pub async fn complete(
        &self,
        input: SecretInput,
        new_password: &str,
        ctx: &ClientContext,
    ) -> Result<(), ResetError> {
        let now = self.clock.now();
        self.limit_attempt(ctx, now).await?;
        let (record, _) = self.resolve(&input, now, ctx.ip).await?;
        let user = self
            .directory
            .by_id(&record.user_id)
            .await?
            .ok_or(ResetError::InvalidToken)?;

        let new_password = NewPassword::from_typed(new_password);
        self.check_policy(&user, &new_password, ctx).await?;
        let password_hash = self.hasher.hash(new_password.as_str()).await?;
        let consumed_at = self.clock.now();
        if !self
            .store
            .consume(consumed_at, &record.id, &user.id)
            .await?
        {
            return Err(ResetError::InvalidToken);
        }
        if let Err(e) = self
            .directory
            .set_password(
                &user.id,
                &PasswordChange::new(&new_password, &password_hash),
                consumed_at,
            )
            .await
        {
            // The password did not change: give the secret back, so the user can try again.
            // Not when the directory could not be reached: the change may have landed before
            // the connection went away, and a secret must never be usable twice.
            if e.is_transient() {
                return Err(e.into());
            }
            if let Err(release) = self.store.release(&record.id, consumed_at).await {
                tracing::error!(request_id = %record.request_id, error = %release, "could not give back a secret after a failed password change");
            }
            return Err(e.into());
        }
        let events = [EventType::ResetCompleted, EventType::PasswordChanged];
        self.aftermath(
            &user,
            consumed_at,
            ctx,
            Some(&record.request_id),
            &events,
            "password_reset_completed",
        )
        .await;
        tracing::info!(request_id = %record.request_id, via = %ctx.via, "password reset completed");
        Ok(())
    }

    /// The policy's rules that need no account (length and the zxcvbn score), for a password
    /// typed before any account is known: Unleash's reset page asks on every change.
    /// `WeakPassword` with every violation. Not the identity and history rules (no account),
    /// nor the breach check (a remote lookup per keystroke, for an answer `complete` gives
    /// anyway); `complete` still runs all of them. Reads no account, so the answer cannot depend
    /// on one. Counted per client IP, at [`PASSWORD_CHECKS_PER_ATTEMPT`] times the attempt limit
    /// (a page checks on every keystroke). Each check's zxcvbn run waits for the low-priority
    /// estimate thread ([`crate::estimates`]), never for the argon2 permits, so a flood of
    /// checks cannot starve completes; past its queue, 503 with `Retry-After`.
    pub async fn check_password_without_account(
        &self,
        password: &str,
        ctx: &ClientContext,
    ) -> Result<(), ResetError> {
        let limit = self.config.rate_limits.attempt_per_ip;
        let hits = ctx
            .ip
            .map(|ip| CounterHit {
                key: format!("pwcheck:ip:{}", crate::rate_limit::ip_key(ip)),
                limit: Limit::new(
                    limit.max.saturating_mul(PASSWORD_CHECKS_PER_ATTEMPT),
                    limit.window_secs,
                ),
            })
            .into_iter()
            .collect();
        self.enforce(self.clock.now(), hits, &[]).await?;
        let password = NewPassword::from_typed(password);
        let policy = self.policy.clone();
        let violations = self
            .estimates
            .run(move || {
                policy.check(
                    password.as_str(),
                    PolicySubject {
                        username: "",
                        emails: &[],
                    },
                )
            })
            .await?;
        if violations.is_empty() {
            Ok(())
        } else {
            Err(ResetError::WeakPassword { violations })
        }
    }

    /// The password policy, breach check and history included: `WeakPassword` with every
    /// violation. The breach check runs only once the cheap rules pass, before any argon2 work.
    /// Every check sees the one normalised form that is then hashed.
    pub(super) async fn check_policy(
        &self,
        user: &User,
        new_password: &NewPassword,
        ctx: &ClientContext,
    ) -> Result<(), ResetError> {
        let new_password = new_password.as_str();
        let mut violations = {
            let (policy, password) = (self.policy.clone(), new_password.to_owned());
            let (username, emails) = (user.username.clone(), user.emails.clone());
            self.hasher
                .off_runtime(move || {
                    policy.check(
                        &password,
                        PolicySubject {
                            username: &username,
                            emails: &emails,
                        },
                    )
                })
                .await?
        };
        if violations.is_empty() {
            violations.extend(self.check_breach(user, new_password, ctx).await?);
        }
        let history = self.policy.config().history;
        if violations.is_empty() && history > 0 {
            let earlier = self.store.password_history(&user.id, history).await?;
            let recent = user
                .password_hash
                .iter()
                .chain(earlier.iter())
                .take(history as usize);
            for old in recent {
                if self.hasher.verify(new_password, old).await? {
                    violations.push(PasswordPolicy::reused());
                    break;
                }
            }
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(ResetError::WeakPassword { violations })
        }
    }

    /// The breach check's violation, if the password was seen often enough. Unavailable: a 503
    /// when failing closed, else the password passes, with an audit event and a counter.
    async fn check_breach(
        &self,
        user: &User,
        new_password: &str,
        ctx: &ClientContext,
    ) -> Result<Option<Violation>, ResetError> {
        let Some((checker, policy)) = &self.breach else {
            return Ok(None);
        };
        let span =
            tracing::info_span!("breach check", reset.breach.outcome = tracing::field::Empty);
        let seen = checker
            .times_seen(new_password)
            .instrument(span.clone())
            .await;
        let outcome = match &seen {
            Ok(n) if *n >= policy.min_count.max(1) => "breached",
            Ok(_) => "clean",
            Err(_) => "unavailable",
        };
        span.record("reset.breach.outcome", outcome);
        match seen {
            Ok(seen) if seen >= policy.min_count.max(1) => Ok(Some(PasswordPolicy::breached(seen))),
            Ok(_) => Ok(None),
            Err(e) => {
                metrics::counter!("reset_breach_check_unavailable_total").increment(1);
                if policy.fail_closed {
                    tracing::warn!(error = %e, "breach check unavailable: refusing the change for now");
                    return Err(ResetError::Unavailable {
                        retry_after_secs: policy.retry_after_secs.max(1),
                    });
                }
                tracing::warn!(error = %e, "breach check unavailable: letting the password through");
                let ip = ctx.ip.map(|ip| ip.to_string());
                if let Err(e) = self
                    .store
                    .audit(
                        self.clock.now(),
                        Some(&user.id),
                        "breach_check_unavailable",
                        ip,
                    )
                    .await
                {
                    tracing::warn!(error = %e, "could not record the breach check's failure");
                }
                Ok(None)
            }
        }
    }

    /// After a password changed: other secrets killed, history kept, notice and events queued,
    /// audit written (one transaction), then sessions revoked. Nothing here turns the answer
    /// into an error: the password has changed already.
    pub(super) async fn aftermath(
        &self,
        user: &User,
        at: DateTime<Utc>,
        ctx: &ClientContext,
        request_id: Option<&str>,
        events: &[EventType],
        audit_kind: &'static str,
    ) {
        let completion = Completion {
            now: at,
            user_id: user.id.clone(),
            previous_hash: user.password_hash.clone(),
            keep_history: self.policy.config().history,
            notice_to: user.emails.first().cloned(),
            locale: user.locale.clone().unwrap_or_else(|| "en".to_owned()),
            username: user.username.clone(),
            ip: ctx.ip.map(|ip| ip.to_string()),
            via: ctx.via.clone(),
            events: events
                .iter()
                .flat_map(|t| {
                    EventDelivery::for_each(
                        &self.config.webhook_urls,
                        *t,
                        at,
                        &user.id,
                        request_id,
                        &ctx.via,
                    )
                })
                .collect(),
            audit_kind,
            traceparent: crate::trace_context::current(),
        };
        if let Err(e) = self.store.after_reset(completion).await {
            tracing::error!(error = %e, "password changed, but its notice, audit event or secret clean-up failed");
        }
        match self.directory.revoke_sessions(&user.id).await {
            Ok(crate::directory::SessionsEnded::Ended(count)) => {
                tracing::info!(count, "sessions ended after a password change");
            }
            Ok(crate::directory::SessionsEnded::NoneKept) => {
                tracing::debug!("no sessions to end: the directory keeps none");
            }
            Err(e) => {
                tracing::warn!(error = %e, "session revocation failed after a password change");
            }
        }
    }
}
