//! argon2id hashing, off the async runtime and behind a semaphore sized to the cores, so that a
//! burst of resets can neither stall the server's event loop nor exhaust its memory.
//!
//! Passwords are hashed in their Unicode NFKC form (NIST SP 800-63B §5.1.1.2); a host application
//! that checks logins against these hashes should call [`verify_password`], which does the same.

use std::sync::Arc;
use tracing::Instrument as _;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier, Version,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use unicode_normalization::UnicodeNormalization;

use crate::error::ResetError;
use crate::rng::SecretRng;

/// argon2id cost parameters; the defaults are OWASP's (m = 19 MiB, t = 2, p = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HasherConfig {
    /// Memory per hash, in KiB (default 19,456: 19 MiB).
    pub memory_kib: u32,
    /// Passes over that memory (default 2).
    pub iterations: u32,
    /// Lanes per hash (default 1).
    pub parallelism: u32,
}

impl Default for HasherConfig {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashes and verifies passwords with argon2id.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    rng: Arc<dyn SecretRng>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher that runs at most as many hashes at once as the machine has cores.
    pub fn new(config: HasherConfig, rng: Arc<dyn SecretRng>) -> Result<Self, argon2::Error> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )?;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(cores)),
            rng,
        })
    }

    /// The PHC string of `password`'s NFKC form, with a fresh 16-byte salt.
    pub async fn hash(&self, password: &str) -> Result<String, ResetError> {
        let mut salt = [0u8; 16];
        self.rng.fill(&mut salt);
        let params = self.params.clone();
        let password = nfkc(password);
        self.run(move || {
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password_with_salt(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| ResetError::Hashing(e.to_string()))
        })
        .instrument(tracing::info_span!(
            "password hash",
            reset.hash.algorithm = "argon2id"
        ))
        .await
    }

    /// Whether `password` matches the PHC string `hash` (any argon2 variant and parameters).
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, ResetError> {
        let password = password.to_owned();
        let hash = hash.to_owned();
        self.run(move || Ok(verify_password(&password, &hash)))
            .await
    }

    /// Runs `work` on the blocking pool once a permit is free. The permit moves into the
    /// blocking task, so a caller that goes away (a client disconnect) cannot free it while the
    /// hash still runs: at most one hash per core, whatever happens to the requests.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, ResetError> + Send + 'static,
    ) -> Result<T, ResetError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ResetError::Hashing(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(|e| ResetError::Hashing(e.to_string()))?
    }

    /// Runs CPU-heavy work other than hashing (the zxcvbn estimate) off the async runtime,
    /// under the same permits.
    pub async fn off_runtime<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ResetError> {
        self.run(move || Ok(work())).await
    }
}

/// Checks a password against a stored hash, synchronously (call it off the async runtime): an
/// argon2 PHC string (any variant and parameters), or a bcrypt hash an import kept (checked
/// against the password as typed too: the application that made it did not normalise).
pub fn verify_password(password: &str, hash: &str) -> bool {
    match stored_hash_scheme(hash) {
        Some(StoredHash::Bcrypt) => {
            let normal = nfkc(password);
            bcrypt::verify(&normal, hash).unwrap_or(false)
                || (normal != password && bcrypt::verify(password, hash).unwrap_or(false))
        }
        _ => PasswordHash::new(hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(nfkc(password).as_bytes(), &h)
                .is_ok()
        }),
    }
}

/// A stored password hash this service can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredHash {
    /// An argon2id PHC string (`$argon2id$v=19$…`).
    Argon2id,
    /// A bcrypt hash (`$2a$`, `$2b$` or `$2y$`, as imports bring them).
    Bcrypt,
}

/// Which of the hashes this service checks `hash` is, or `None` (an import refuses it).
pub fn stored_hash_scheme(hash: &str) -> Option<StoredHash> {
    if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
        return hash
            .parse::<bcrypt::HashParts>()
            .is_ok()
            .then_some(StoredHash::Bcrypt);
    }
    PasswordHash::new(hash)
        .is_ok_and(|h| h.algorithm.as_str() == "argon2id" && h.hash.is_some())
        .then_some(StoredHash::Argon2id)
}

/// The NFKC form that is hashed and measured.
pub fn nfkc(password: &str) -> String {
    password.nfkc().collect()
}

/// A new password in the one form that every policy rule, the breach check, the history check
/// and the hash see: its NFKC form, made once where the service takes the password. (Checking
/// the typed form against a breach list while hashing the normalised one let a breached
/// password typed in fullwidth letters through, and the plain breached password then logged in.)
pub struct NewPassword(String);

impl NewPassword {
    /// The NFKC form of what was typed.
    pub fn from_typed(typed: &str) -> Self {
        Self(nfkc(typed))
    }

    /// The normalised password.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    #[test]
    fn imported_bcrypt_hashes_verify_and_others_are_told_apart() {
        // As another application stored it: bcrypt of the password as typed (not NFKC).
        let typed = "ﬁsh and chips";
        let hash = bcrypt::hash(typed, 4).expect("bcrypt");
        assert_eq!(stored_hash_scheme(&hash), Some(StoredHash::Bcrypt));
        assert!(verify_password(typed, &hash));
        assert!(!verify_password("fish and chip", &hash));
        let normal = bcrypt::hash(nfkc(typed), 4).expect("bcrypt");
        assert!(verify_password(typed, &normal));
        let argon = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        assert_eq!(stored_hash_scheme(argon), Some(StoredHash::Argon2id));
        for other in [
            "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            "$2b$04$short",
            "pbkdf2_sha256$1000000$salt$hash",
            "plain",
            "",
        ] {
            assert_eq!(stored_hash_scheme(other), None, "{other}");
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn hashes_with_argon2id_and_verifies() {
        let h = PasswordHasher::new(HasherConfig::default(), Arc::new(SeededRng::new(1)))
            .expect("valid params");
        let hash = h.hash("correct horse battery staple").await.expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            h.verify("correct horse battery staple", &hash)
                .await
                .expect("verify")
        );
        assert!(!h.verify("wrong", &hash).await.expect("verify"));
        assert!(!verify_password("x", "not a hash"));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn hashes_the_nfkc_form() {
        let h = PasswordHasher::new(
            HasherConfig {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            Arc::new(SeededRng::new(2)),
        )
        .expect("valid params");
        let hash = h.hash("ﬁsh-and-chips").await.expect("hash");
        assert!(verify_password("fish-and-chips", &hash));
    }
}
