//! Signing as the Standard Webhooks convention does (<https://www.standardwebhooks.com>):
//! `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA-256 of
//! "{id}.{timestamp}.{body}">`. Receivers verify with any Standard Webhooks library.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// The secret was neither `whsec_<base64>` nor a usable raw string.
#[derive(Debug, thiserror::Error)]
#[error("a signing secret must be `whsec_` followed by base64, or at least 16 characters")]
pub struct BadSecret;

/// Signs request bodies with one endpoint secret.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
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
        let key = match secret.strip_prefix("whsec_") {
            Some(b64) => STANDARD.decode(b64).map_err(|_| BadSecret)?,
            None if secret.len() >= 16 => secret.as_bytes().to_vec(),
            None => return Err(BadSecret),
        };
        if key.is_empty() {
            return Err(BadSecret);
        }
        Ok(Self { key })
    }

    /// The `webhook-signature` header value for one delivery attempt.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(id, timestamp, body)))
    }

    /// Whether `header` (space-separated `v1,<sig>` entries) holds a valid signature, compared
    /// in constant time. For receivers written in Rust, and for our tests.
    pub fn verify(&self, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        let expected = self.mac(id, timestamp, body);
        header
            .split(' ')
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|b64| STANDARD.decode(b64).ok())
            .any(|sig| bool::from(sig.as_slice().ct_eq(expected.as_slice())))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
        #[allow(clippy::expect_used)]
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }
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
        assert!(s.verify(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            body,
            &format!("v1,bm90IGl0 {sig}")
        ));
        assert!(!s.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_331, body, &sig));
    }

    #[test]
    fn short_or_malformed_secrets_are_refused() {
        assert!(Signer::new("short").is_err());
        assert!(Signer::new("whsec_%%%").is_err());
        assert!(Signer::new("whsec_").is_err());
        assert!(Signer::new("a-long-enough-raw-secret").is_ok());
    }
}
