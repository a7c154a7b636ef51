//! Preparing accounts for the built-in directory (the CLI's `user add`, test fixtures).

use super::ResetService;
use crate::error::ResetError;
use crate::identity::{normalize_email, normalize_username};
use crate::store::NewUser;

/// An account to create, as typed.
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    /// The username, normalised before it is stored.
    pub username: String,
    /// Email addresses, normalised before they are stored.
    pub emails: Vec<String>,
    /// The initial password, hashed before it is stored; `None` for an account without one.
    pub password: Option<String>,
    /// A phone number for SMS.
    pub phone: Option<String>,
    /// The language messages are sent in.
    pub locale: Option<String>,
    /// The organisation; the directory's default when `None`.
    pub org_id: Option<String>,
}

impl ResetService {
    /// The account as the built-in directory stores it: names normalised, password hashed.
    /// The password, when given, is not held to the policy: operators seed accounts as they
    /// need to.
    pub async fn prepare_user(&self, input: UserInput) -> Result<NewUser, ResetError> {
        let username = normalize_username(&input.username)
            .map_err(|e| ResetError::InvalidRequest(e.to_owned()))?;
        let emails = normalize_emails(&input.emails)?;
        bounded(&input.phone, 64, "phone")?;
        bounded(&input.locale, 64, "locale")?;
        bounded(&input.org_id, 190, "org_id")?;
        let password_hash = match &input.password {
            Some(p) => Some(self.hasher.hash(p).await?),
            None => None,
        };
        Ok(NewUser {
            username,
            emails,
            password_hash,
            org_id: input.org_id,
            locale: input.locale,
            phone: input.phone,
            disabled: false,
        })
    }
}

/// `value`, when given, is 1 to `max` characters, none of them control characters. The same
/// bounds on every store (MySQL's columns have these lengths; the others would take more, and
/// an account must not work on one store and fail on another).
pub(super) fn bounded(value: &Option<String>, max: usize, what: &str) -> Result<(), ResetError> {
    match value {
        Some(v) if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) => {
            Err(ResetError::InvalidRequest(format!(
                "`{what}` must be 1 to {max} characters, none of them control characters"
            )))
        }
        _ => Ok(()),
    }
}

/// The addresses normalised, none of them twice.
pub(super) fn normalize_emails(emails: &[String]) -> Result<Vec<String>, ResetError> {
    let mut out: Vec<String> = Vec::with_capacity(emails.len());
    for e in emails {
        let e = normalize_email(e).map_err(|why| ResetError::InvalidRequest(why.to_owned()))?;
        if out.contains(&e) {
            return Err(ResetError::InvalidRequest(format!("{e} is listed twice")));
        }
        out.push(e);
    }
    Ok(out)
}
