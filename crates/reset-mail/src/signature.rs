//! Signing as the Standard Webhooks convention does (<https://www.standardwebhooks.com>):
//! `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA-256 of
//! "{id}.{timestamp}.{body}">`. Receivers verify with any Standard Webhooks library.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// The secret was neither `whsec_<base64>` of at least 16 bytes nor a raw string of at least 16.
#[derive(Debug, thiserror::Error)]
#[error(
    "a signing secret must be `whsec_` followed by base64 of at least 16 bytes, or at least 16 characters"
)]
pub struct BadSecret;

/// Shortest key accepted, in bytes: shorter ones can be brute-forced offline from one signed
/// delivery.
pub const MIN_KEY_BYTES: usize = 16;

/// How far a delivery's timestamp may be from the receiver's clock, in seconds (the Standard
/// Webhooks convention's tolerance): an older signed delivery is a replay.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Signs request bodies with one endpoint secret (and, during a rotation, the previous one
/// too: the convention's header carries several signatures, and a receiver accepts the
/// delivery when any of them verifies under its secret).
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
    previous: Option<Vec<u8>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(<redacted>)")
    }
}

impl Signer {
    /// `whsec_<base64>` (the convention's format, whose decoded bytes are the key), or any
    /// other string of at least 16 characters, used as the key as it is.
    pub fn new(secret: &str) -> Result<Self, BadSecret> {
        Ok(Self {
            key: key_of(secret)?,
            previous: None,
        })
    }

    /// Signs with `previous` as well, for receivers that have not switched to the new secret
    /// yet; drop it once they all have.
    pub fn with_previous(mut self, previous: &str) -> Result<Self, BadSecret> {
        self.previous = Some(key_of(previous)?);
        Ok(self)
    }

    /// The `webhook-signature` header value for one delivery attempt: `v1,<sig>`, and
    /// ` v1,<sig>` under the previous secret during a rotation.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut header = format!(
            "v1,{}",
            STANDARD.encode(mac(&self.key, id, timestamp, body))
        );
        if let Some(previous) = &self.previous {
            header.push_str(" v1,");
            header.push_str(&STANDARD.encode(mac(previous, id, timestamp, body)));
        }
        header
    }

    /// Whether `header` (space-separated `v1,<sig>` entries) holds a valid signature, compared
    /// in constant time, for a timestamp within [`TOLERANCE_SECS`] of the system clock. For
    /// receivers written in Rust, and for our tests.
    pub fn verify(&self, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.verify_at(id, timestamp, body, header, now)
    }

    /// [`Signer::verify`] against `now` (Unix seconds) instead of the system clock.
    pub fn verify_at(&self, id: &str, timestamp: i64, body: &[u8], header: &str, now: i64) -> bool {
        if now.abs_diff(timestamp) > TOLERANCE_SECS.unsigned_abs() {
            return false;
        }
        let expected = mac(&self.key, id, timestamp, body);
        header
            .split(' ')
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|b64| STANDARD.decode(b64).ok())
            .any(|sig| bool::from(sig.as_slice().ct_eq(expected.as_slice())))
    }
}

/// A secret's key bytes: `whsec_<base64>` decoded, or the string itself; at least
/// [`MIN_KEY_BYTES`].
fn key_of(secret: &str) -> Result<Vec<u8>, BadSecret> {
    let key = match secret.strip_prefix("whsec_") {
        Some(b64) => STANDARD.decode(b64).map_err(|_| BadSecret)?,
        None => secret.as_bytes().to_vec(),
    };
    if key.len() < MIN_KEY_BYTES {
        return Err(BadSecret);
    }
    Ok(key)
}

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convention's own test vector.
    #[test]
    fn matches_the_standard_webhooks_test_vector() {
        let s = Signer::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let body = br#"{"test": 2432232314}"#;
        let sig = s.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let now = 1_614_265_330 + 60;
        assert!(s.verify_at(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            body,
            &format!("v1,bm90IGl0 {sig}"),
            now
        ));
        assert!(!s.verify_at(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_331,
            body,
            &sig,
            now
        ));
    }

    #[test]
    fn a_rotation_signs_under_both_secrets() {
        let (old, new) = ("an-old-signing-secret", "a-new-signing-secret");
        let s = Signer::new(new)
            .expect("secret")
            .with_previous(old)
            .expect("previous");
        let header = s.sign("msg_1", 1_700_000_000, b"{}");
        assert_eq!(header.split(' ').count(), 2, "{header}");
        for receiver in [old, new] {
            let r = Signer::new(receiver).expect("secret");
            assert!(r.verify_at("msg_1", 1_700_000_000, b"{}", &header, 1_700_000_000));
        }
        let other = Signer::new("a-third-signing-secret").expect("secret");
        assert!(!other.verify_at("msg_1", 1_700_000_000, b"{}", &header, 1_700_000_000));
    }

    #[test]
    fn stale_or_future_timestamps_are_refused() {
        let s = Signer::new("a-long-enough-raw-secret").expect("secret");
        let at = 1_790_000_000;
        let sig = s.sign("msg_1", at, b"{}");
        assert!(s.verify_at("msg_1", at, b"{}", &sig, at + TOLERANCE_SECS));
        assert!(!s.verify_at("msg_1", at, b"{}", &sig, at + TOLERANCE_SECS + 1));
        assert!(!s.verify_at("msg_1", at, b"{}", &sig, at - TOLERANCE_SECS - 1));
        let fresh = s.sign("msg_2", at, b"{}");
        assert!(!s.verify("msg_2", at, b"{}", &fresh), "years old: a replay");
    }

    #[test]
    fn short_or_malformed_secrets_are_refused() {
        assert!(Signer::new("short").is_err());
        assert!(Signer::new("whsec_%%%").is_err());
        assert!(Signer::new("whsec_").is_err());
        // Base64 of 15 bytes: too short a key, however it is written.
        assert!(Signer::new("whsec_MDEyMzQ1Njc4OWFiY2Rl").is_err());
        assert!(Signer::new("whsec_MDEyMzQ1Njc4OWFiY2RlZg==").is_ok());
        assert!(Signer::new("a-long-enough-raw-secret").is_ok());
    }
}
