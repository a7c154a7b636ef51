//! Several server keys, so that the key can be rotated without breaking live secrets.
//!
//! Every stored hash (a reset secret's, an admin token's) is tagged with the id of the key that
//! made it: `{key id}:{hex HMAC}`. New hashes are made under the *active* key; the others still
//! check what they made until it expires, is used, or the key is retired. A secret is looked up
//! under every key's hash, always all of them, so that the lookup costs the same whichever key
//! made it (or whether it exists).
//!
//! Hashes stored before key ids existed are bare hex, made by the one key a server had then:
//! they are read as [`FIRST_KEY_ID`]'s, so an upgrade keeps live secrets and admin tokens.

use crate::secret::{SecretHash, SecretKey};

/// The id of the key of a server that was given one key, unnamed.
pub const FIRST_KEY_ID: &str = "k1";

/// The server's keys by id; the first is the active one. Cheap to clone.
#[derive(Clone)]
pub struct Keyring {
    keys: std::sync::Arc<[(String, SecretKey)]>,
}

/// A keyring that could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyringError {
    /// No key was given.
    #[error("a keyring needs at least one key")]
    Empty,
    /// A key id that cannot be stored in front of a hash (see [`valid_id`]).
    #[error("key id {0:?}: 1 to 32 ASCII letters, digits or '-'")]
    BadId(String),
    /// Two keys share this id.
    #[error("key id {0:?} appears twice")]
    Duplicate(String),
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.ids()).finish()
    }
}

/// Whether `id` may name a key: it is stored in front of every hash, before a `:`, and looked
/// for with SQL `LIKE`, so nothing but ASCII letters, digits and `-`.
pub fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Keyring {
    /// `keys` by id, the first active.
    pub fn new(keys: Vec<(String, SecretKey)>) -> Result<Self, KeyringError> {
        if keys.is_empty() {
            return Err(KeyringError::Empty);
        }
        for (i, (id, _)) in keys.iter().enumerate() {
            if !valid_id(id) {
                return Err(KeyringError::BadId(id.clone()));
            }
            if keys[..i].iter().any(|(other, _)| other == id) {
                return Err(KeyringError::Duplicate(id.clone()));
            }
        }
        Ok(Self { keys: keys.into() })
    }

    /// One key, as [`FIRST_KEY_ID`].
    pub fn single(key: SecretKey) -> Self {
        Self {
            keys: vec![(FIRST_KEY_ID.to_owned(), key)].into(),
        }
    }

    /// The active key's id.
    pub fn active_id(&self) -> &str {
        &self.keys[0].0
    }

    /// Every key's id, the active one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// The stored form of `secret` under the active key.
    pub fn hash(&self, context: &str, secret: &str) -> SecretHash {
        let (id, key) = &self.keys[0];
        tagged(id, key, context, secret)
    }

    /// Every stored form `secret` may have, one per key, the active key's first (and the bare
    /// form of [`FIRST_KEY_ID`]'s, as stored before key ids): a lookup tries them all.
    pub fn candidates(&self, context: &str, secret: &str) -> Vec<SecretHash> {
        let mut all: Vec<SecretHash> = self
            .keys
            .iter()
            .map(|(id, key)| tagged(id, key, context, secret))
            .collect();
        if let Some((_, first)) = self.keys.iter().find(|(id, _)| id == FIRST_KEY_ID) {
            all.push(first.hash(context, secret));
        }
        all
    }

    /// Whether `stored` is `secret`'s hash under the key its tag names, compared in constant
    /// time. One HMAC either way: an untagged, unknown or empty `stored` is compared with the
    /// active key's hash, and never matches.
    pub fn verify(&self, context: &str, secret: &str, stored: &str) -> bool {
        let id = Self::key_of(stored);
        match self.keys.iter().find(|(k, _)| k == id) {
            Some((k, key)) if stored.contains(':') => tagged(k, key, context, secret),
            // Bare hex, from before key ids: the first key's.
            Some((_, key)) => key.hash(context, secret),
            None => {
                let (k, key) = &self.keys[0];
                tagged(k, key, context, secret)
            }
        }
        .matches(stored)
    }

    /// The id of the key that made `stored` (bare hex, from before key ids: the first key).
    pub fn key_of(stored: &str) -> &str {
        stored.split_once(':').map_or(FIRST_KEY_ID, |(id, _)| id)
    }
}

impl From<SecretKey> for Keyring {
    fn from(key: SecretKey) -> Self {
        Self::single(key)
    }
}

fn tagged(id: &str, key: &SecretKey, context: &str, secret: &str) -> SecretHash {
    SecretHash(format!("{id}:{}", key.hash(context, secret).0))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::new(vec![byte; 32]).unwrap()
    }

    #[test]
    fn old_keys_still_verify_new_hashes_use_the_active_one() {
        let old = Keyring::single(key(1));
        let stored = old.hash("token", "t").0;
        assert!(stored.starts_with("k1:"));
        let rotated = Keyring::new(vec![("k2".into(), key(2)), ("k1".into(), key(1))]).unwrap();
        assert!(rotated.verify("token", "t", &stored));
        assert!(!rotated.verify("token", "u", &stored));
        assert!(rotated.hash("token", "t").0.starts_with("k2:"));
        assert!(
            rotated
                .candidates("token", "t")
                .iter()
                .any(|c| c.0 == stored)
        );
        let retired = Keyring::new(vec![("k2".into(), key(2))]).unwrap();
        assert!(
            !retired.verify("token", "t", &stored),
            "a retired key checks nothing"
        );
        assert!(!rotated.verify("token", "t", ""));
        assert_eq!(Keyring::key_of(&stored), "k1");
    }

    #[test]
    fn bare_hashes_from_before_key_ids_are_the_first_keys() {
        let bare = key(1).hash("admin", "t").0;
        let rotated = Keyring::new(vec![("k2".into(), key(2)), ("k1".into(), key(1))]).unwrap();
        assert!(rotated.verify("admin", "t", &bare));
        assert!(rotated.candidates("admin", "t").iter().any(|c| c.0 == bare));
        let without = Keyring::new(vec![("k2".into(), key(2))]).unwrap();
        assert!(!without.verify("admin", "t", &bare));
    }

    #[test]
    fn ids_are_checked() {
        assert_eq!(Keyring::new(vec![]).unwrap_err(), KeyringError::Empty);
        assert!(matches!(
            Keyring::new(vec![("a:b".into(), key(1))]),
            Err(KeyringError::BadId(_))
        ));
        assert!(matches!(
            Keyring::new(vec![("a".into(), key(1)), ("a".into(), key(2))]),
            Err(KeyringError::Duplicate(_))
        ));
    }
}
