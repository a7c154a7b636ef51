#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod admin_token;
pub mod breach;
pub mod clock;
pub mod config;
pub mod counters;
pub mod directory;
pub mod error;
pub mod estimates;
pub mod identity;
pub mod issue_plan;
pub mod keyring;
pub mod link_template;
pub mod message;
pub mod password;
pub mod password_scheme;
pub mod policy;
pub mod private_fs;
pub mod rate_limit;
pub mod rng;
pub mod secret;
pub mod service;
pub mod store;
pub mod trace_context;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::ResetConfig;
pub use directory::{PasswordChange, SessionsEnded, UserDirectory};
pub use error::{ResetError, StoreError, Violation};
pub use identity::AccountLookup;
pub use keyring::Keyring;
pub use message::{Channel, Delivery, MessageKind};
pub use password::{HasherConfig, PasswordHasher};
pub use password_scheme::{PasswordScheme, SchemeError};
pub use policy::{PasswordPolicy, PolicyConfig};
pub use rate_limit::{Limit, RateLimits};
pub use rng::{OsSecretRng, SecretRng, SeededRng};
pub use secret::SecretKey;
pub use service::{
    AccountPage, AccountPatch, AccountSummary, AdminAction, AdminIssue, AdminIssued, AdminSession,
    ChangeDetails, ClientContext, ImportRecord, ImportReport, PasswordProof, Ports, Refusal,
    RequestInput, ResetService, SecretInput, UserInput, Verified,
};
pub use store::{Accounts, AdminTokens, Outbox, ResetState, Store, User};
