#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod directory;
mod filter;
mod options;

pub use directory::LdapDirectory;
pub use options::{LdapOptions, OptionsError, PasswordWrite, Tls};
