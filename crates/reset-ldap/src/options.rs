//! What the directory needs to know: where the server is, how to bind, where and how to search,
//! which attributes hold what, and how a new password is written.

use std::path::PathBuf;
use std::time::Duration;

use reset_core::PasswordScheme;

/// How the connection is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// As the URL says: `ldaps://` is TLS from the start, `ldap://` is in the clear.
    Url,
    /// `ldap://` upgraded with StartTLS before the bind.
    StartTls,
}

/// How a new password reaches the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordWrite {
    /// The Password Modify extended operation (RFC 3062): the directory hashes the password
    /// with its own scheme (OpenLDAP: `password-hash`, `{SSHA}` by default).
    PasswordModify,
    /// `userPassword` replaced with the password encoded in this scheme (`Plaintext` for a
    /// directory that hashes what it is given; bcrypt is stored as `{CRYPT}$2b$…`).
    Replace(PasswordScheme),
}

/// Why options cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    /// The URL is neither `ldap://` nor `ldaps://`.
    #[error("LDAP URL {0:?}: use ldap://host:389 or ldaps://host:636")]
    Url(String),
    /// A filter template lacks its placeholder.
    #[error("the {0} filter {1:?} must contain {{{0}}}")]
    Filter(&'static str, String),
    /// The CA file could not be read.
    #[error("LDAP CA file {0}: {1}")]
    Ca(PathBuf, String),
    /// An unknown password write.
    #[error(
        "LDAP password write {0:?}: use password_modify or replace:SCHEME (plaintext, bcrypt, …)"
    )]
    PasswordWrite(String),
}

/// The directory's settings.
#[derive(Debug, Clone)]
pub struct LdapOptions {
    /// `ldap://host:389` or `ldaps://host:636`.
    pub url: String,
    /// StartTLS on an `ldap://` URL, or as the URL says.
    pub tls: Tls,
    /// PEM file of the CA that signed the server's certificate; `None`: the Mozilla roots.
    pub ca_file: Option<PathBuf>,
    /// The service account's DN (it searches, and writes passwords).
    pub bind_dn: String,
    /// Its password.
    pub bind_password: String,
    /// Where accounts are searched (the whole subtree).
    pub base_dn: String,
    /// The filter for a username, with `{username}`.
    pub username_filter: String,
    /// The filter for an email address, with `{email}`.
    pub email_filter: String,
    /// The attribute that identifies an account for good (`entryUUID`; a DN can be renamed).
    pub id_attribute: String,
    /// The attribute holding the username (`uid`).
    pub username_attribute: String,
    /// The attribute holding the email addresses (`mail`).
    pub email_attribute: String,
    /// The attribute holding the language messages are sent in (`preferredLanguage`).
    pub locale_attribute: Option<String>,
    /// The attribute holding the phone number SMS messages go to (`mobile`).
    pub phone_attribute: Option<String>,
    /// How a new password is written.
    pub password_write: PasswordWrite,
    /// How long one connection, bind or operation may take; past it, the directory is
    /// unavailable (503).
    pub timeout: Duration,
}

impl Default for LdapOptions {
    fn default() -> Self {
        Self {
            url: "ldap://127.0.0.1:389".into(),
            tls: Tls::Url,
            ca_file: None,
            bind_dn: String::new(),
            bind_password: String::new(),
            base_dn: String::new(),
            username_filter: "(&(objectClass=inetOrgPerson)(uid={username}))".into(),
            email_filter: "(&(objectClass=inetOrgPerson)(mail={email}))".into(),
            id_attribute: "entryUUID".into(),
            username_attribute: "uid".into(),
            email_attribute: "mail".into(),
            locale_attribute: Some("preferredLanguage".into()),
            phone_attribute: Some("mobile".into()),
            password_write: PasswordWrite::PasswordModify,
            timeout: Duration::from_secs(5),
        }
    }
}

impl std::str::FromStr for PasswordWrite {
    type Err = OptionsError;

    /// `password_modify`, or `replace:SCHEME` (`replace:plaintext`, `replace:bcrypt`, …).
    fn from_str(s: &str) -> Result<Self, OptionsError> {
        match s.split_once(':') {
            None if s == "password_modify" => Ok(Self::PasswordModify),
            Some(("replace", scheme)) => scheme
                .parse()
                .map(Self::Replace)
                .map_err(|_| OptionsError::PasswordWrite(s.to_owned())),
            _ => Err(OptionsError::PasswordWrite(s.to_owned())),
        }
    }
}

impl LdapOptions {
    /// Checks what can be checked without the server.
    pub fn check(&self) -> Result<(), OptionsError> {
        if !(self.url.starts_with("ldap://") || self.url.starts_with("ldaps://")) {
            return Err(OptionsError::Url(self.url.clone()));
        }
        if !self.username_filter.contains("{username}") {
            return Err(OptionsError::Filter(
                "username",
                self.username_filter.clone(),
            ));
        }
        if !self.email_filter.contains("{email}") {
            return Err(OptionsError::Filter("email", self.email_filter.clone()));
        }
        Ok(())
    }
}
