//! The password policy: length in NFKC code points, not essentially the username or the email's
//! local part, a zxcvbn score floor (the names given to zxcvbn as guessable words), and
//! (optionally) no reuse of the last N passwords; the service adds the breach check. No
//! composition rules.

use serde::{Deserialize, Serialize};

use crate::error::Violation;
use crate::identity::local_part;
use crate::password::nfkc;

/// The policy's knobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyConfig {
    /// Fewest code points after NFKC (default 8).
    pub min_length: usize,
    /// Most code points after NFKC (default 256).
    pub max_length: usize,
    /// Lowest zxcvbn score accepted, 0..=4 (default 3).
    pub min_score: u8,
    /// Refuse the account's last N passwords; each costs one argon2 verification (default 0: off).
    pub history: u32,
    /// Refuse passwords that are essentially the username or the email's local part: what
    /// remains once every occurrence is removed is shorter than `min_length` (default on). A
    /// long passphrase that merely contains a short name is left to zxcvbn, which is given the
    /// names as user inputs and scores them as guessable. Names shorter than 3 characters are
    /// not checked.
    pub forbid_identity: bool,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 256,
            min_score: 3,
            history: 0,
            forbid_identity: true,
        }
    }
}

/// The account facts the policy needs.
#[derive(Debug, Clone, Copy)]
pub struct PolicySubject<'a> {
    /// The account's username.
    pub username: &'a str,
    /// The account's email addresses; their local parts are checked as the username is.
    pub emails: &'a [String],
}

/// Checks new passwords against a [`PolicyConfig`].
#[derive(Debug, Clone, Default)]
pub struct PasswordPolicy {
    config: PolicyConfig,
}

impl PasswordPolicy {
    /// A policy with these knobs.
    pub fn new(config: PolicyConfig) -> Self {
        Self { config }
    }

    /// The knobs it checks with.
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// Every rule the password breaks (empty when it is acceptable). The history rule is
    /// checked by the service, which owns the hasher.
    pub fn check(&self, password: &str, subject: PolicySubject<'_>) -> Vec<Violation> {
        let password = nfkc(password);
        let length = password.chars().count();
        let mut violations = Vec::new();
        if length < self.config.min_length {
            violations.push(Violation {
                code: "too_short",
                message: format!("Use at least {} characters.", self.config.min_length),
            });
        }
        let lower = password.to_lowercase();
        let username = subject.username.to_lowercase();
        let locals: Vec<String> = subject
            .emails
            .iter()
            .map(|e| local_part(e).to_lowercase())
            .collect();
        if self.config.forbid_identity {
            let min = self.config.min_length;
            if is_essentially(&lower, &username, min) {
                violations.push(Violation {
                    code: "contains_username",
                    message: "Do not build your password around your username.".into(),
                });
            }
            if locals.iter().any(|l| is_essentially(&lower, l, min)) {
                violations.push(Violation {
                    code: "contains_email",
                    message: "Do not build your password around your email address.".into(),
                });
            }
        }
        if length > self.config.max_length {
            violations.push(Violation {
                code: "too_long",
                message: format!("Use at most {} characters.", self.config.max_length),
            });
            // zxcvbn is not run on oversized input: it is the expensive part, and the password
            // is refused anyway.
            return violations;
        }
        if length > 0 {
            let mut inputs: Vec<&str> = vec![username.as_str()];
            inputs.extend(locals.iter().map(String::as_str));
            let score = u8::from(zxcvbn::zxcvbn(&password, &inputs).score());
            if score < self.config.min_score {
                violations.push(Violation {
                    code: "too_guessable",
                    message: "This password is too easy to guess; a few unrelated words make a strong one.".into(),
                });
            }
        } else if self.config.min_score > 0 {
            violations.push(Violation {
                code: "too_guessable",
                message:
                    "This password is too easy to guess; a few unrelated words make a strong one."
                        .into(),
            });
        }
        violations
    }

    /// The violation for a password seen `seen` times in known breaches.
    pub fn breached(seen: u64) -> Violation {
        Violation {
            code: "breached",
            message: format!(
                "This password has appeared {seen} times in data breaches; attackers try those first. Choose another."
            ),
        }
    }

    /// The violation for reusing a recent password.
    pub fn reused() -> Violation {
        Violation {
            code: "reused",
            message: "Choose a password you have not used recently.".into(),
        }
    }
}

/// Whether `password` (lower-cased) is little more than `name`: it contains it, and without
/// every occurrence of it fewer than `min` code points remain.
fn is_essentially(password: &str, name: &str, min: usize) -> bool {
    name.chars().count() >= 3
        && password.contains(name)
        && password.replace(name, "").chars().count() < min
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(p: &str) -> Vec<&'static str> {
        let emails = vec!["alice.smith@example.com".to_owned()];
        PasswordPolicy::default()
            .check(
                p,
                PolicySubject {
                    username: "alice",
                    emails: &emails,
                },
            )
            .into_iter()
            .map(|v| v.code)
            .collect()
    }

    #[test]
    fn accepts_a_strong_passphrase() {
        assert!(codes("violet tractor melts quietly").is_empty());
    }

    #[test]
    fn length_counts_code_points_after_nfkc() {
        assert!(codes("短い").contains(&"too_short"));
        // Eight CJK ideographs are eight code points though 24 bytes.
        assert!(!codes("雲海霧雨雪嵐雷虹").contains(&"too_short"));
        let long = "ab".repeat(129);
        assert_eq!(codes(&long), vec!["too_long"]);
    }

    fn codes_for(username: &str, p: &str) -> Vec<&'static str> {
        let emails = vec![format!("{username}@example.com")];
        PasswordPolicy::default()
            .check(
                p,
                PolicySubject {
                    username,
                    emails: &emails,
                },
            )
            .into_iter()
            .map(|v| v.code)
            .collect()
    }

    #[test]
    fn a_short_name_inside_a_long_passphrase_is_fine() {
        assert!(codes_for("rin", "violet-Tangerine-42-orbit").is_empty());
        assert!(!codes_for("maximilian", "Maximilian2026!").is_empty());
        assert!(codes_for("maximilian", "Maximilian2026!").contains(&"contains_username"));
    }

    #[test]
    fn refuses_identity_and_weakness() {
        assert!(codes("xAlice-2026").contains(&"contains_username"));
        assert!(codes("alice.smith2026").contains(&"contains_email"));
        assert!(codes("password1").contains(&"too_guessable"));
        assert!(codes("").contains(&"too_short"));
    }

    #[test]
    fn reports_every_violation() {
        let all = codes("alice");
        assert!(
            all.contains(&"too_short")
                && all.contains(&"contains_username")
                && all.contains(&"too_guessable")
        );
    }
}
