//! Secrets: link tokens, numeric codes, and the keyed hash that is all the store ever sees.
//!
//! A link token is 32 random bytes in URL-safe base64 (no padding). A code is N decimal digits
//! drawn uniformly (rejection sampling, so no digit is favoured). Only
//! `HMAC-SHA-256(server key, context ‖ secret)` is stored; comparisons are constant time.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::rng::SecretRng;

/// Bytes of entropy in a link token (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// The server's secret key, which keys every stored secret hash.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// At least 32 bytes are required: a shorter key would weaken every stored hash.
    pub fn new(bytes: Vec<u8>) -> Result<Self, ShortKey> {
        if bytes.len() < 32 {
            return Err(ShortKey(bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// A fresh random key.
    pub fn generate(rng: &dyn SecretRng) -> Self {
        let mut bytes = vec![0u8; 32];
        rng.fill(&mut bytes);
        Self(bytes)
    }

    /// The key as URL-safe base64, for writing it to the key file.
    pub fn to_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.0)
    }

    /// Parses a key written by [`SecretKey::to_base64`] (or any base64 of ≥ 32 bytes).
    pub fn from_base64(text: &str) -> Result<Self, ShortKey> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim().trim_end_matches('='))
            .or_else(|_| base64::engine::general_purpose::STANDARD.decode(text.trim()))
            .map_err(|_| ShortKey(0))?;
        Self::new(bytes)
    }

    /// `HMAC-SHA-256(key, context ‖ 0x00 ‖ secret)`, hex-encoded.
    pub fn hash(&self, context: &str, secret: &str) -> SecretHash {
        // The key length is checked at construction; HMAC accepts any key length anyway.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            unreachable!("HMAC takes keys of any length")
        };
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(secret.as_bytes());
        SecretHash(hex(&mac.finalize().into_bytes()))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// The key was shorter than 32 bytes or not base64.
#[derive(Debug, thiserror::Error)]
#[error("the secret key must be base64 of at least 32 bytes (got {0} bytes)")]
pub struct ShortKey(pub usize);

/// The stored form of a secret: a hex HMAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHash(pub String);

impl SecretHash {
    /// Constant-time equality.
    pub fn matches(&self, other: &str) -> bool {
        self.0.len() == other.len() && bool::from(self.0.as_bytes().ct_eq(other.as_bytes()))
    }
}

/// A secret value that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value so that it never prints.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The plain value, for the message that carries it and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A new link token: 32 random bytes, URL-safe base64 without padding (43 characters).
pub fn new_token(rng: &dyn SecretRng) -> Secret {
    let mut bytes = [0u8; TOKEN_BYTES];
    rng.fill(&mut bytes);
    Secret(URL_SAFE_NO_PAD.encode(bytes))
}

/// A new code of `digits` uniform decimal digits.
pub fn new_code(rng: &dyn SecretRng, digits: usize) -> Secret {
    let mut out = String::with_capacity(digits);
    let mut buf = [0u8; 16];
    while out.len() < digits {
        rng.fill(&mut buf);
        for b in buf {
            // 250 = 25 × 10: bytes 250..=255 would favour 0..=5, so they are dropped.
            if b < 250 && out.len() < digits {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    Secret(out)
}

/// Whether `text` looks like a link token (URL-safe base64 of 32 bytes).
pub fn is_token_shaped(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `text` is exactly `digits` ASCII digits.
pub fn is_code_shaped(text: &str, digits: usize) -> bool {
    text.len() == digits && text.bytes().all(|b| b.is_ascii_digit())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    fn key() -> SecretKey {
        SecretKey::new(vec![7; 32]).expect("32 bytes")
    }

    #[test]
    fn tokens_are_43_url_safe_chars_and_distinct() {
        let rng = SeededRng::new(1);
        let a = new_token(&rng);
        let b = new_token(&rng);
        assert!(is_token_shaped(a.expose()));
        assert_ne!(a, b);
    }

    #[test]
    fn code_digits_are_uniform() {
        let rng = SeededRng::new(42);
        let mut counts = [0u32; 10];
        for _ in 0..20_000 {
            for c in new_code(&rng, 6).expose().bytes() {
                counts[usize::from(c - b'0')] += 1;
            }
        }
        let n: u32 = counts.iter().sum();
        let expected = f64::from(n) / 10.0;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (f64::from(c) - expected).powi(2) / expected)
            .sum();
        // 9 degrees of freedom: p = 0.001 at 27.88.
        assert!(chi2 < 27.88, "chi² {chi2} for {counts:?}");
    }

    #[test]
    fn codes_have_the_requested_length() {
        let rng = SeededRng::new(3);
        for digits in [4, 6, 8, 10] {
            assert!(is_code_shaped(new_code(&rng, digits).expose(), digits));
        }
    }

    #[test]
    fn hash_is_keyed_and_contextual() {
        let h = key().hash("link", "abc");
        assert_eq!(h, key().hash("link", "abc"));
        assert_ne!(h, key().hash("code", "abc"));
        let other = SecretKey::new(vec![8; 32]).expect("32 bytes");
        assert_ne!(h, other.hash("link", "abc"));
        assert_eq!(h.0.len(), 64);
    }

    #[test]
    fn matches_is_exact() {
        let h = key().hash("link", "abc");
        assert!(h.matches(&h.0.clone()));
        assert!(!h.matches(&key().hash("link", "abd").0));
        assert!(!h.matches(""));
    }

    #[test]
    fn short_keys_are_refused_and_base64_round_trips() {
        assert!(SecretKey::new(vec![1; 31]).is_err());
        let k = SecretKey::generate(&SeededRng::new(9));
        let back = SecretKey::from_base64(&k.to_base64()).expect("round trip");
        assert_eq!(k.hash("x", "y"), back.hash("x", "y"));
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("123456".into());
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
    }
}
