//! The Pwned Passwords range API (k-anonymity): only five hex digits of the hash leave.

use std::time::Duration;

use async_trait::async_trait;
use reset_core::breach::{BreachChecker, BreachError};

use crate::{parse_line, sha1_hex};

/// Looks passwords up in a range API at `base` (`{base}/range/{prefix}`).
#[derive(Debug, Clone)]
pub struct RangeApi {
    base: String,
    client: reqwest::Client,
}

impl RangeApi {
    /// `base` is the API's root, e.g. `https://api.pwnedpasswords.com`; each lookup gives up
    /// after `timeout`. Redirects are not followed.
    pub fn new(base: &str, timeout: Duration) -> Result<Self, BreachError> {
        let url = url::Url::parse(base)
            .map_err(|e| BreachError::Unavailable(format!("{base:?} is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(BreachError::Unavailable(format!(
                "{base:?} is not an http(s) URL"
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("reset-password-service")
            .build()
            .map_err(|e| BreachError::Unavailable(e.to_string()))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            client,
        })
    }

    /// Every `SUFFIX:COUNT` line of the answer for `prefix`; any malformed line makes the
    /// whole answer unusable.
    async fn range(&self, prefix: &str) -> Result<String, BreachError> {
        let unavailable = |e: reqwest::Error| BreachError::Unavailable(without_url(&e));
        let response = self
            .client
            .get(format!("{}/range/{prefix}", self.base))
            .header("Add-Padding", "true")
            .send()
            .await
            .map_err(unavailable)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(BreachError::Unavailable(format!(
                "the range API answered {}",
                response.status()
            )));
        }
        response.text().await.map_err(unavailable)
    }
}

/// An error's text without the URL (it carries the hash prefix).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    format!("the range API request {kind}")
}

#[async_trait]
impl BreachChecker for RangeApi {
    async fn times_seen(&self, password: &str) -> Result<u64, BreachError> {
        let hash = sha1_hex(password);
        let (prefix, suffix) = hash.split_at(5);
        let body = self.range(prefix).await?;
        let mut seen = 0;
        let mut lines = 0usize;
        for line in body.lines().filter(|l| !l.trim().is_empty()) {
            let (s, count) = parse_line(line, 35).ok_or_else(|| {
                BreachError::Unavailable("the range API answered a malformed line".into())
            })?;
            lines += 1;
            if s == suffix {
                seen = count;
            }
        }
        if lines == 0 {
            // A real answer always has lines (padding ensures hundreds): an empty one is broken.
            return Err(BreachError::Unavailable(
                "the range API answered no lines".into(),
            ));
        }
        Ok(seen)
    }
}
