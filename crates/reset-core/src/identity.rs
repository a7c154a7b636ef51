//! Normalising what a user types to name their account.

use unicode_normalization::UnicodeNormalization;

/// Longest accepted username, in characters.
pub const MAX_USERNAME_CHARS: usize = 190;
/// Longest accepted email address, in characters.
pub const MAX_EMAIL_CHARS: usize = 254;

/// How a request names an account: a normalised username, a normalised email, or both
/// (then both must belong to the same account).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountLookup {
    /// The username, NFKC and lower-cased, when one was given.
    pub username: Option<String>,
    /// The email address, lower-cased, when one was given.
    pub email: Option<String>,
}

impl AccountLookup {
    /// Validates and normalises; `None` for both is an error for the caller to report.
    pub fn parse(username: Option<&str>, email: Option<&str>) -> Result<Self, &'static str> {
        let username = username.map(normalize_username).transpose()?;
        let email = email.map(normalize_email).transpose()?;
        if username.is_none() && email.is_none() {
            return Err("one of `username` and `email` is required");
        }
        Ok(Self { username, email })
    }

    /// The key of the named identifier's try counter (`docs/anti-enumeration.md`), which a
    /// code try bumps whether or not a code is outstanding: the username when given, else the
    /// email.
    pub fn no_code_key(&self) -> String {
        match (&self.username, &self.email) {
            (Some(u), _) => format!("nocode:u:{u}"),
            (None, Some(e)) => format!("nocode:e:{e}"),
            (None, None) => "nocode:".to_owned(),
        }
    }

    /// Every no-code counter a request with these identifiers restarts.
    pub fn no_code_keys(&self) -> Vec<String> {
        self.identifier_keys()
            .into_iter()
            .map(|k| format!("nocode:{k}"))
            .collect()
    }

    /// The rate-limit keys for the identifiers submitted, known or not.
    pub fn identifier_keys(&self) -> Vec<String> {
        let mut keys = Vec::with_capacity(2);
        if let Some(u) = &self.username {
            keys.push(format!("u:{u}"));
        }
        if let Some(e) = &self.email {
            keys.push(format!("e:{e}"));
        }
        keys
    }
}

/// NFKC, trimmed, lower-cased; 1..=190 characters.
pub fn normalize_username(raw: &str) -> Result<String, &'static str> {
    let u: String = raw.trim().nfkc().flat_map(char::to_lowercase).collect();
    let n = u.chars().count();
    if n == 0 || n > MAX_USERNAME_CHARS {
        return Err("`username` must be 1 to 190 characters");
    }
    if u.chars().any(char::is_control) {
        return Err("`username` must not contain control characters");
    }
    Ok(u)
}

/// Trimmed, lower-cased (addresses compare case-insensitively); at most 254 characters with
/// one `@` between a non-empty local part and domain.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let e = raw.trim().to_lowercase();
    let valid = e.chars().count() <= MAX_EMAIL_CHARS
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@'));
    if !valid {
        return Err("`email` must be an address of at most 254 characters");
    }
    Ok(e)
}

/// The part of an address before the `@`.
pub fn local_part(email: &str) -> &str {
    email.split_once('@').map_or(email, |(l, _)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(normalize_username("  Alice ").as_deref(), Ok("alice"));
        assert_eq!(normalize_username("ＡＬＩＣＥ").as_deref(), Ok("alice"));
        assert_eq!(
            normalize_email("Alice@Example.COM").as_deref(),
            Ok("alice@example.com")
        );
    }

    #[test]
    fn refuses_bad_identifiers() {
        assert!(normalize_username("").is_err());
        assert!(normalize_username(&"a".repeat(191)).is_err());
        assert!(normalize_email("no-at-sign").is_err());
        assert!(normalize_email("a@b@c").is_err());
        assert!(normalize_email(&format!("{}@x.io", "a".repeat(250))).is_err());
        assert!(AccountLookup::parse(None, None).is_err());
        assert!(normalize_username("a\u{0}b").is_err());
        assert!(normalize_email("a\u{0}@b.c").is_err());
    }
}
