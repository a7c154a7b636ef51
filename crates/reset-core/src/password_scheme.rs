//! How a directory stores a new password: the scheme its own logins check. The service always
//! hashes with argon2id (the built-in table's scheme, and what the password history keeps); a
//! directory over another application's accounts encodes the password in that application's
//! scheme instead, or hands it over as it is to a directory that hashes it itself (LDAP's
//! Password Modify operation).

use base64::Engine as _;
use rand::RngExt as _;

use crate::directory::PasswordChange;

/// A password storage scheme a host's logins check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordScheme {
    /// Our argon2id PHC string (`$argon2id$v=19$…`), as the service made it.
    Argon2id,
    /// bcrypt (`$2b$<cost>$…`), as most web frameworks store it. bcrypt reads at most 72 bytes
    /// of a password, as every bcrypt login check does.
    Bcrypt {
        /// log2 of the rounds (default 12).
        cost: u32,
    },
    /// Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`.
    Pbkdf2Sha256 {
        /// PBKDF2 iterations (default 1,000,000, Django 5.2's).
        iterations: u32,
    },
    /// The password itself, for a directory that hashes it with a scheme of its own.
    Plaintext,
}

/// Why a scheme could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum SchemeError {
    /// The name is none of the schemes.
    #[error(
        "unknown password scheme {0:?}: use argon2id, bcrypt[:COST], pbkdf2_sha256[:ITERATIONS] or plaintext"
    )]
    Unknown(String),
    /// A cost or iteration count out of its range.
    #[error("password scheme {0:?}: {1}")]
    Parameter(String, &'static str),
    /// bcrypt refused to hash.
    #[error("bcrypt: {0}")]
    Bcrypt(String),
}

/// Django's salt alphabet (`get_random_string`).
const SALT_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

impl std::str::FromStr for PasswordScheme {
    type Err = SchemeError;

    /// `argon2id`, `bcrypt` or `bcrypt:COST`, `pbkdf2_sha256` or `pbkdf2_sha256:ITERATIONS`,
    /// `plaintext`.
    fn from_str(s: &str) -> Result<Self, SchemeError> {
        let (name, parameter) = s.split_once(':').unwrap_or((s, ""));
        let number = |default: u32| -> Result<u32, SchemeError> {
            if parameter.is_empty() {
                Ok(default)
            } else {
                parameter
                    .parse()
                    .map_err(|_| SchemeError::Parameter(s.to_owned(), "not a number"))
            }
        };
        match name {
            "argon2id" if parameter.is_empty() => Ok(Self::Argon2id),
            "plaintext" if parameter.is_empty() => Ok(Self::Plaintext),
            "bcrypt" => match number(12)? {
                cost @ 4..=31 => Ok(Self::Bcrypt { cost }),
                _ => Err(SchemeError::Parameter(s.to_owned(), "cost is 4 to 31")),
            },
            "pbkdf2_sha256" => match number(1_000_000)? {
                iterations @ 1_000.. => Ok(Self::Pbkdf2Sha256 { iterations }),
                _ => Err(SchemeError::Parameter(
                    s.to_owned(),
                    "at least 1000 iterations",
                )),
            },
            _ => Err(SchemeError::Unknown(s.to_owned())),
        }
    }
}

impl PasswordScheme {
    /// The value to store for `change`. CPU-heavy for bcrypt and PBKDF2: call it off the async
    /// runtime's threads (`tokio::task::spawn_blocking`).
    pub fn encode(&self, change: &PasswordChange<'_>) -> Result<String, SchemeError> {
        let password = change.password();
        match *self {
            Self::Argon2id => Ok(change.argon2id().to_owned()),
            Self::Plaintext => Ok(password.to_owned()),
            Self::Bcrypt { cost } => {
                bcrypt::hash(password, cost).map_err(|e| SchemeError::Bcrypt(e.to_string()))
            }
            Self::Pbkdf2Sha256 { iterations } => {
                let mut rng = rand::rng();
                let salt: String = (0..22)
                    .map(|_| char::from(SALT_CHARS[rng.random_range(0..SALT_CHARS.len())]))
                    .collect();
                Ok(django_pbkdf2_sha256(password, &salt, iterations))
            }
        }
    }
}

/// Django's `PBKDF2PasswordHasher.encode`: PBKDF2-HMAC-SHA256, 32 bytes, standard base64.
fn django_pbkdf2_sha256(password: &str, salt: &str, iterations: u32) -> String {
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut key);
    let hash = base64::engine::general_purpose::STANDARD.encode(key);
    format!("pbkdf2_sha256${iterations}${salt}${hash}")
}

impl PasswordScheme {
    /// [`PasswordScheme::encode`], with bcrypt and PBKDF2 (CPU-heavy by design) run on tokio's
    /// blocking threads, so that a directory's password change does not stall the runtime.
    pub async fn encode_off_runtime(
        &self,
        change: &PasswordChange<'_>,
    ) -> Result<String, SchemeError> {
        if matches!(self, Self::Argon2id | Self::Plaintext) {
            return self.encode(change);
        }
        let scheme = *self;
        let password = crate::password::NewPassword::from_typed(change.password());
        let hash = change.argon2id().to_owned();
        tokio::task::spawn_blocking(move || scheme.encode(&PasswordChange::new(&password, &hash)))
            .await
            .map_err(|e| SchemeError::Bcrypt(format!("the encoding task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::NewPassword;

    #[test]
    fn reads_scheme_names() {
        assert_eq!(
            "argon2id".parse::<PasswordScheme>().ok(),
            Some(PasswordScheme::Argon2id)
        );
        assert_eq!(
            "bcrypt".parse::<PasswordScheme>().ok(),
            Some(PasswordScheme::Bcrypt { cost: 12 })
        );
        assert_eq!(
            "pbkdf2_sha256:600000".parse::<PasswordScheme>().ok(),
            Some(PasswordScheme::Pbkdf2Sha256 {
                iterations: 600_000
            })
        );
        assert!("bcrypt:3".parse::<PasswordScheme>().is_err());
        assert!("md5".parse::<PasswordScheme>().is_err());
        assert!("plaintext:1".parse::<PasswordScheme>().is_err());
    }

    #[test]
    fn encodes_in_each_scheme() {
        let password = NewPassword::from_typed("violet tractor melts quietly 42");
        let change = PasswordChange::new(&password, "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA");
        assert_eq!(
            PasswordScheme::Argon2id.encode(&change).ok().as_deref(),
            Some(change.argon2id())
        );
        assert_eq!(
            PasswordScheme::Plaintext.encode(&change).ok().as_deref(),
            Some("violet tractor melts quietly 42")
        );
        let bcrypt = PasswordScheme::Bcrypt { cost: 4 }
            .encode(&change)
            .expect("bcrypt");
        assert!(bcrypt.starts_with("$2b$04$"), "{bcrypt}");
        assert!(bcrypt::verify(change.password(), &bcrypt).unwrap_or(false));
        let django = PasswordScheme::Pbkdf2Sha256 { iterations: 1000 }
            .encode(&change)
            .expect("pbkdf2");
        let parts: Vec<&str> = django.split('$').collect();
        assert_eq!(parts.len(), 4, "{django}");
        assert_eq!(
            (parts[0], parts[1], parts[2].len()),
            ("pbkdf2_sha256", "1000", 22)
        );
    }

    /// The value Django stores, computed by another implementation (Python's
    /// `hashlib.pbkdf2_hmac('sha256', password, salt, 1000)`, base64-encoded).
    #[test]
    fn pbkdf2_matches_pythons_hashlib() {
        assert_eq!(
            django_pbkdf2_sha256(
                "violet tractor melts quietly 42",
                "abcdefghijklmnopqrstuv",
                1000
            ),
            "pbkdf2_sha256$1000$abcdefghijklmnopqrstuv$UrtQEm/5HfjjhrJxQII7xhEl9+nSaIO+rxp2HNJNxII="
        );
    }
}
