//! Rate-limit rules. Counters live in the store, each row locked while it is read and
//! written, so limits hold across server instances sharing a database; how a hit moves a
//! counter is decided in Rust, once for every store ([`crate::counters`]).

use chrono::Duration;
use serde::{Deserialize, Serialize};

/// At most `max` hits per `window_secs`; `max = 0` switches the rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    /// Hits allowed per window; 0 switches the rule off.
    pub max: u32,
    /// The window's length in seconds.
    pub window_secs: u64,
}

impl Limit {
    /// At most `max` hits per `window_secs` seconds.
    pub const fn new(max: u32, window_secs: u64) -> Self {
        Self { max, window_secs }
    }

    /// The window as a chrono duration (saturating for absurd lengths).
    pub fn window(&self) -> Duration {
        Duration::seconds(i64::try_from(self.window_secs).unwrap_or(i64::MAX / 1000))
    }

    /// Whether the rule is switched off (`max = 0`).
    pub fn is_off(&self) -> bool {
        self.max == 0
    }
}

/// The self-service limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    /// Reset requests per submitted identifier (normalised username or email, known or not).
    pub request_per_identifier: Limit,
    /// Reset requests per client IP.
    pub request_per_ip: Limit,
    /// verify, complete and cancel calls per client IP.
    pub attempt_per_ip: Limit,
    /// Messages sent to one account (every identifier, address and dialect together) per
    /// short window, whoever asked. Past it a request is answered as usual and nothing is sent.
    /// Higher than the caps per client address, so that one stranger cannot spend it.
    pub send_per_account: Limit,
    /// The same per day.
    pub send_per_account_per_day: Limit,
    /// Messages sent to one account on the requests of one client address per short window:
    /// the cap a stranger's requests reach first, leaving the owner's own requests (from
    /// another address) the rest of the account-wide cap.
    pub send_per_account_from_ip: Limit,
    /// The same per day.
    pub send_per_account_from_ip_per_day: Limit,
    /// Secrets an administrator may issue for one account per window (links and codes, sent
    /// or returned), a cap of their own: a `password:reset` credential cannot mint codes
    /// without end. Codes an administrator issues also fall under the account's guess budget.
    pub admin_issue_per_account: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            request_per_identifier: Limit::new(5, 15 * 60),
            request_per_ip: Limit::new(50, 15 * 60),
            attempt_per_ip: Limit::new(100, 15 * 60),
            send_per_account: Limit::new(6, 15 * 60),
            send_per_account_per_day: Limit::new(20, 24 * 60 * 60),
            send_per_account_from_ip: Limit::new(3, 15 * 60),
            send_per_account_from_ip_per_day: Limit::new(10, 24 * 60 * 60),
            admin_issue_per_account: Limit::new(10, 60 * 60),
        }
    }
}

/// One counter to bump: its key and rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterHit {
    /// The counter's key, such as `req:ip:…` or `guess:{user id}`.
    pub key: String,
    /// The rule it is counted under: its maximum and window.
    pub limit: Limit,
}

/// A counter's state after a bump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterState {
    /// Hits in the current window, this one included.
    pub count: u32,
    /// Seconds until the window ends.
    pub resets_in_secs: u64,
}

impl CounterState {
    /// Whether the count is past `limit` (never for a rule that is off).
    pub fn exceeds(&self, limit: &Limit) -> bool {
        !limit.is_off() && self.count > limit.max
    }
}

/// How a client IP is counted: IPv4 (and IPv4-mapped IPv6) by address, IPv6 by its /64, since
/// one subscriber usually holds a whole /64.
pub fn ip_key(ip: std::net::IpAddr) -> String {
    match ip.to_canonical() {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The account id an unknown identifier's counters are kept under, as a known account's are under
/// its own id: its guess budget (counted by every wrong code tried for the identifier) and the
/// send caps of its decoy messages (see [`crate::store::UnknownTarget::account`]), so that an
/// unknown identifier stops getting decoys where a known account would stop getting messages.
/// `counter_key` is the identifier's try counter (see
/// [`crate::identity::AccountLookup::no_code_key`]); the id matches no secret (ids are UUIDs).
pub fn stand_in_account(counter_key: &str) -> String {
    format!("unknown:{counter_key}")
}

/// The counter that holds an account's daily guess budget for codes.
pub fn guess_budget_key(user_id: &str) -> String {
    format!("guess:{user_id}")
}

/// A client address as the counters per address name it: its [`ip_key`], or `"none"` for a
/// request without one (they then share one counter). Never holds a `|`.
pub fn client_key(ip: Option<std::net::IpAddr>) -> String {
    ip.map_or_else(|| "none".to_owned(), ip_key)
}

/// The counter of one client address's share of an account's guess budget; a prefix of its
/// own, as [`send_cap_key`]'s per-address caps.
pub fn guess_share_key(user_id: &str, from: Option<std::net::IpAddr>) -> String {
    format!("guessip:{user_id}|{}", client_key(from))
}

/// The counter of an administrator's issues for an account.
pub fn admin_issue_key(user_id: &str) -> String {
    format!("adminissue:{user_id}")
}

/// A cap on the messages one account receives: account-wide, or counted per requesting
/// client address (`from`: its [`client_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendCap {
    /// The cap: messages per window.
    pub limit: Limit,
    /// The requesting client address's [`client_key`] for a cap per address; `None` for an
    /// account-wide cap.
    pub from: Option<String>,
}

impl SendCap {
    /// A cap on everything the account receives.
    pub fn account(limit: Limit) -> Self {
        Self { limit, from: None }
    }

    /// A cap on what the account receives on the requests of one client address.
    pub fn from_ip(limit: Limit, ip: Option<std::net::IpAddr>) -> Self {
        Self {
            limit,
            from: Some(client_key(ip)),
        }
    }

    /// Whether the cap is switched off.
    pub fn is_off(&self) -> bool {
        self.limit.is_off()
    }
}

/// The counter of messages sent to an account in one of its send caps' windows. The caps per
/// client address have a prefix of their own and `|` before the address, so that no account
/// id (a stand-in's holds the identifier as typed) can name another's counter.
pub fn send_cap_key(user_id: &str, cap: &SendCap) -> String {
    match &cap.from {
        None => format!("send:{}:{user_id}", cap.limit.window_secs),
        Some(from) => format!("sendip:{}:{user_id}|{from}", cap.limit.window_secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_keys_group_ipv6_by_64_and_unmap_ipv4() {
        let key = |s: &str| ip_key(s.parse().expect("ip"));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
    }
}
