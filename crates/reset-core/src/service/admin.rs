//! The administrators' operations (`admin_issue`, `admin_set_password`): the caller is trusted
//! with whether a user exists, so these answer `UserNotFound`. Who may call them is decided
//! here: [`ResetService::authorize`] checks the credential (before the request is read, so a
//! bad credential is `401` whatever the body), and each operation checks the scopes it needs.

use chrono::{DateTime, Utc};

use crate::directory::PasswordChange;

use super::{ClientContext, ResetService, SecretInput};
use crate::admin_token::{
    AdminToken, SCOPE_RESET, SCOPE_USERS_READ, SCOPE_USERS_WRITE, SCOPE_WRITE,
};
use crate::error::ResetError;
use crate::link_template::{self, TemplateValues};
use crate::message::{Channel, EventDelivery, EventType, MessageKind};
use crate::password::NewPassword;
use crate::rate_limit::{CounterHit, admin_issue_key};
use crate::store::{IssueOutcome, IssueRequest, IssueTarget, User};

/// The administrators' operation a credential is presented for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    /// [`ResetService::admin_issue`]: every way of issuing needs `password:reset`.
    Issue,
    /// [`ResetService::admin_set_password`]: the scope it needs depends on the proof.
    SetPassword,
    /// Reading and listing accounts (`users:read`).
    UsersRead,
    /// Creating, changing and deleting accounts (`users:write`).
    UsersWrite,
}

/// A credential [`ResetService::authorize`] accepted, which the admin operations take and
/// check their scopes on.
#[derive(Debug, Clone)]
pub struct AdminSession {
    token: AdminToken,
}

impl AdminSession {
    /// `Forbidden` with the first of `scopes` the token lacks.
    pub(super) fn require(&self, scopes: &[&'static str]) -> Result<(), ResetError> {
        let missing = scopes.iter().copied().find(|s| !self.token.has_scope(s));
        missing.map_or(Ok(()), |scope| Err(ResetError::Forbidden(scope)))
    }

    /// Who acts, as the audit trail records it: `token:` and the token's id.
    pub(super) fn actor(&self) -> String {
        format!("token:{}", self.token.id)
    }
}

/// How an administrator wants the secret delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminIssue {
    /// Send it. With a `url_template`, a code is rendered into that link; without, the
    /// message carries a link to our own reset page.
    SendLink {
        /// Where the message goes.
        channel: Channel,
        /// The administrator's link (see [`crate::link_template`]); `None` for our own reset page.
        url_template: Option<String>,
    },
    /// Send nothing and return a code to the caller.
    ReturnCode,
}

impl AdminIssue {
    /// The scopes a credential needs to ask for this. A returned code sets any password, so it
    /// needs `password:write` as well, as setting a password without a code does.
    fn required_scopes(&self) -> &'static [&'static str] {
        match self {
            Self::SendLink { .. } => &[SCOPE_RESET],
            Self::ReturnCode => &[SCOPE_RESET, SCOPE_WRITE],
        }
    }
}

/// How an administrator's password change is vouched for.
#[derive(Clone)]
pub enum PasswordProof {
    /// A code from [`AdminIssue::ReturnCode`] or a code message; used up.
    Code(String),
    /// The user's current password.
    CurrentPassword(String),
    /// Nothing: the credential's `password:write` scope vouches.
    Trusted,
}

impl PasswordProof {
    /// The scope a credential needs to offer this proof. A current password needs
    /// `password:write`: checking it would otherwise be a password-guessing oracle for a
    /// credential that could not set the password anyway.
    fn required_scope(&self) -> &'static str {
        match self {
            Self::Code(_) => SCOPE_RESET,
            Self::CurrentPassword(_) | Self::Trusted => SCOPE_WRITE,
        }
    }
}

impl std::fmt::Debug for PasswordProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Code(_) => "Code(<redacted>)",
            Self::CurrentPassword(_) => "CurrentPassword(<redacted>)",
            Self::Trusted => "Trusted",
        })
    }
}

/// The `details` block of the admin answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeDetails {
    /// Changes of the user so far (the built-in directory counts each; a host directory
    /// reports its own).
    pub sequence: i64,
    /// When the change being reported was made.
    pub change_date: DateTime<Utc>,
    /// The user's organisation.
    pub resource_owner: String,
    /// When the user was created.
    pub creation_date: DateTime<Utc>,
}

/// What `admin_issue` did.
#[derive(Clone)]
pub struct AdminIssued {
    /// The user's state after the issue.
    pub details: ChangeDetails,
    /// Only for [`AdminIssue::ReturnCode`].
    pub code: Option<String>,
}

impl std::fmt::Debug for AdminIssued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminIssued")
            .field("details", &self.details)
            .finish_non_exhaustive()
    }
}

/// Whether `id` could name an account at all (no store is asked about one that cannot).
pub(super) fn plausible_user_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 190 && !id.chars().any(char::is_control) && id.trim() == id
}

impl ResetService {
    /// Checks the `Authorization` header presented for `action`, before the request is read:
    /// `CredentialRequired` without one, `AuthenticationFailed` for an unknown or revoked
    /// token (counted against the client's per-IP attempt limit, past which it is
    /// `RateLimited`; a valid token still works), `Forbidden` when no call of `action` could
    /// be allowed. The operation then checks what its request needs.
    pub async fn authorize(
        &self,
        authorization: Option<&str>,
        action: AdminAction,
        ctx: &ClientContext,
    ) -> Result<AdminSession, ResetError> {
        let session = AdminSession {
            token: self.admin_token(authorization, ctx).await?,
        };
        match action {
            AdminAction::Issue => session.require(&[SCOPE_RESET])?,
            AdminAction::SetPassword => {}
            AdminAction::UsersRead => session.require(&[SCOPE_USERS_READ])?,
            AdminAction::UsersWrite => session.require(&[SCOPE_USERS_WRITE])?,
        }
        Ok(session)
    }

    /// Issues a reset secret for `user_id`, superseding the user's older ones. Sending needs
    /// `password:reset`; a returned code `password:write` as well. `RateLimited` past the
    /// account's administrator cap; `AttemptsExhausted` for a code while the account's daily
    /// guess budget is spent (a link is still issued).
    pub async fn admin_issue(
        &self,
        session: &AdminSession,
        user_id: &str,
        how: AdminIssue,
        ctx: &ClientContext,
    ) -> Result<AdminIssued, ResetError> {
        session.require(how.required_scopes())?;
        let user = self.user(user_id).await?;
        let now = self.clock.now();
        let (channel, deliver) = match &how {
            AdminIssue::SendLink { channel, .. } => (*channel, true),
            AdminIssue::ReturnCode => (Channel::Email, false),
        };
        let recipients: Vec<String> = match channel {
            Channel::Email => user.emails.first().cloned().into_iter().collect(),
            Channel::Sms if self.config.sms_enabled => user.phone.clone().into_iter().collect(),
            Channel::Sms => {
                return Err(ResetError::InvalidRequest(
                    "SMS is not configured on this server".into(),
                ));
            }
            Channel::Webhook => Vec::new(),
        };
        if deliver && recipients.is_empty() {
            return Err(ResetError::InvalidRequest(format!(
                "the user has no {} to send to",
                if channel == Channel::Sms {
                    "phone number"
                } else {
                    "email address"
                }
            )));
        }
        // A self-service request of this user that arrived after ours but committed first wins
        // the ordering check, and ours then stored nothing. Mint again as the newest (a code's
        // hash is bound to its request id): the administrator's answer must describe a secret
        // that exists.
        // A code, returned or rendered into a link, falls under the account's daily guess
        // budget as a self-service code does: with the budget spent, none is issued (and the
        // live one is killed), so issuing again cannot buy more guesses.
        let code = matches!(
            how,
            AdminIssue::ReturnCode
                | AdminIssue::SendLink {
                    url_template: Some(_),
                    ..
                }
        );
        for attempt in 0..3 {
            let request_id = uuid::Uuid::now_v7().to_string();
            let (secrets, payload, returned) =
                self.mint_for_admin(&how, &user, now, &request_id)?;
            if attempt == 0 {
                // Every administrator's issue that would be stored counts (a refused template
                // does not), under a cap of its own, so that a credential with
                // `password:reset` cannot mint secrets (and fresh code tries) without end.
                let cap = CounterHit {
                    key: admin_issue_key(&user.id),
                    limit: self.config.rate_limits.admin_issue_per_account,
                };
                self.enforce(now, vec![cap], &[]).await?;
            }
            let issue = IssueRequest {
                now,
                target: crate::store::Target::Known(IssueTarget {
                    user_id: user.id.clone(),
                    recipients: recipients.clone(),
                    locale: user.locale.clone().unwrap_or_else(|| "en".to_owned()),
                    username: user.username.clone(),
                }),
                events: EventDelivery::for_each(
                    &self.config.webhook_urls,
                    EventType::ResetRequested,
                    now,
                    &user.id,
                    Some(&request_id),
                    &ctx.via,
                ),
                request_id,
                secrets,
                guess_budget: code.then_some(self.config.guess_budget),
                send_caps: Vec::new(),
                channel,
                message_kind: MessageKind::ResetLink,
                payload,
                ip: ctx.ip.map(|ip| ip.to_string()),
                via: ctx.via.clone(),
                deliver,
                retried: false,
            };
            if matches!(self.store.issue(issue).await?, IssueOutcome::Issued { .. }) {
                // The id-named try counter starts afresh with the new secret, as a
                // self-service request restarts its identifiers' counters.
                let counter = self.try_counter(&super::resolve::user_counter_key(&user.id), ctx.ip);
                self.store.restart(now, &[counter]).await?;
                if let Err(e) = self.directory.record_change(&user.id, now).await {
                    tracing::warn!(error = %e, "reset secret issued, but the change count was not kept");
                }
                return Ok(AdminIssued {
                    details: self.details(&user.id, now).await?,
                    code: returned,
                });
            }
        }
        if code {
            // Not issued three times over: the account's guess budget is spent (a newer
            // self-service request overtaking ours three times running is not to be expected).
            return Err(ResetError::AttemptsExhausted {
                retry_after_secs: self.config.guess_budget.window_secs.max(1),
            });
        }
        Err(ResetError::Store(crate::error::StoreError::Conflict(
            "the user's reset secrets kept changing; try again".into(),
        )))
    }

    /// The secrets and payload `how` asks for, and the code to return (`ReturnCode`).
    fn mint_for_admin(
        &self,
        how: &AdminIssue,
        user: &User,
        now: DateTime<Utc>,
        request_id: &str,
    ) -> Result<
        (
            Vec<crate::store::NewSecret>,
            crate::message::MessagePayload,
            Option<String>,
        ),
        ResetError,
    > {
        Ok(match how {
            AdminIssue::SendLink {
                url_template: None, ..
            } => {
                let (secrets, payload) = self.mint_link(now);
                (secrets, payload, None)
            }
            AdminIssue::SendLink {
                url_template: Some(template),
                ..
            } => {
                let (secrets, code, mut payload) = self.mint_code(now, request_id);
                let values = TemplateValues {
                    user_id: &user.id,
                    code: &code,
                    org_id: &user.org_id,
                    login_name: &user.username,
                };
                let mut allowed = self.config.allowed_link_origins.clone();
                allowed.push(self.config.public_url.clone());
                let link = link_template::render(template, values, &allowed)
                    .map_err(|e| ResetError::InvalidUrlTemplate(e.to_string()))?;
                payload.link = Some(link);
                (secrets, payload, None)
            }
            AdminIssue::ReturnCode => {
                let (secrets, code, payload) = self.mint_code(now, request_id);
                (secrets, payload, Some(code))
            }
        })
    }

    /// Sets `user_id`'s password, held to the policy, vouched for by `proof`. With a code it
    /// needs `password:reset`; with the current password or nothing, `password:write`.
    pub async fn admin_set_password(
        &self,
        session: &AdminSession,
        user_id: &str,
        new_password: &str,
        proof: PasswordProof,
        ctx: &ClientContext,
    ) -> Result<ChangeDetails, ResetError> {
        session.require(&[proof.required_scope()])?;
        let user = self.user(user_id).await?;
        match proof {
            PasswordProof::Code(code) => {
                let input = SecretInput::UserCode {
                    user_id: user.id.clone(),
                    code,
                };
                self.complete(input, new_password, ctx).await?;
            }
            PasswordProof::CurrentPassword(current) => {
                let ok = match &user.password_hash {
                    Some(hash) => self.hasher.verify(&current, hash).await?,
                    None => false,
                };
                if !ok {
                    return Err(ResetError::InvalidRequest(
                        "the current password is not correct".into(),
                    ));
                }
                self.set_password(&user, new_password, ctx).await?;
            }
            PasswordProof::Trusted => self.set_password(&user, new_password, ctx).await?,
        }
        self.details(&user.id, self.clock.now()).await
    }

    /// Policy, hash, store, aftermath: a password change without a reset secret.
    async fn set_password(
        &self,
        user: &User,
        new_password: &str,
        ctx: &ClientContext,
    ) -> Result<(), ResetError> {
        let new_password = NewPassword::from_typed(new_password);
        self.check_policy(user, &new_password, ctx).await?;
        let hash = self.hasher.hash(new_password.as_str()).await?;
        let at = self.clock.now();
        self.directory
            .set_password(&user.id, &PasswordChange::new(&new_password, &hash), at)
            .await?;
        self.aftermath(
            user,
            at,
            ctx,
            None,
            &[EventType::PasswordChanged],
            "password_set_by_admin",
        )
        .await;
        tracing::info!(via = %ctx.via, "password set by an administrator");
        Ok(())
    }

    /// The enabled account with this id. A disabled one is `Conflict` when the built-in
    /// directory can tell (the administrator is trusted with whether it exists).
    async fn user(&self, user_id: &str) -> Result<User, ResetError> {
        if !plausible_user_id(user_id) {
            return Err(ResetError::UserNotFound);
        }
        if let Some(user) = self.directory.by_id(user_id).await? {
            return Ok(user);
        }
        match &self.accounts {
            Some(accounts) if accounts.account(user_id).await?.is_some() => Err(
                ResetError::Conflict("the user is disabled; enable it first".into()),
            ),
            _ => Err(ResetError::UserNotFound),
        }
    }

    async fn details(&self, user_id: &str, at: DateTime<Utc>) -> Result<ChangeDetails, ResetError> {
        let user = self.user(user_id).await?;
        Ok(ChangeDetails {
            sequence: user.sequence,
            change_date: at,
            resource_owner: user.org_id,
            creation_date: user.created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(scopes: &[&str]) -> AdminSession {
        AdminSession {
            token: AdminToken {
                id: "t".into(),
                name: "t".into(),
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                created_at: DateTime::UNIX_EPOCH,
                revoked_at: None,
            },
        }
    }

    fn issue(scopes: &[&str], how: &AdminIssue) -> Result<(), ResetError> {
        session(scopes).require(how.required_scopes())
    }

    fn set(scopes: &[&str], proof: &PasswordProof) -> Result<(), ResetError> {
        session(scopes).require(&[proof.required_scope()])
    }

    #[test]
    fn each_operation_needs_its_scopes() {
        let link = AdminIssue::SendLink {
            channel: Channel::Email,
            url_template: None,
        };
        let both = [SCOPE_RESET, SCOPE_WRITE];
        assert!(issue(&[SCOPE_RESET], &link).is_ok());
        assert!(matches!(
            issue(&[SCOPE_WRITE], &link),
            Err(ResetError::Forbidden(SCOPE_RESET))
        ));
        // A returned code needs both; the scope named is the first one missing.
        assert!(issue(&both, &AdminIssue::ReturnCode).is_ok());
        assert!(matches!(
            issue(&[SCOPE_RESET], &AdminIssue::ReturnCode),
            Err(ResetError::Forbidden(SCOPE_WRITE))
        ));
        assert!(matches!(
            issue(&[SCOPE_WRITE], &AdminIssue::ReturnCode),
            Err(ResetError::Forbidden(SCOPE_RESET))
        ));

        let code = PasswordProof::Code("1".into());
        let current = PasswordProof::CurrentPassword("x".into());
        assert!(set(&[SCOPE_RESET], &code).is_ok());
        assert!(matches!(
            set(&[SCOPE_WRITE], &code),
            Err(ResetError::Forbidden(SCOPE_RESET))
        ));
        for proof in [current, PasswordProof::Trusted] {
            assert!(set(&[SCOPE_WRITE], &proof).is_ok());
            assert!(matches!(
                set(&[SCOPE_RESET], &proof),
                Err(ResetError::Forbidden(SCOPE_WRITE))
            ));
        }
    }
}
