//! The directory: one connection per call (bound as the service account), so a restarted LDAP
//! server costs nothing to recover from. A server that cannot be reached or does not answer
//! within the timeout is `Unavailable` (503 with `Retry-After`), never "no such account".

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ldap3::exop::PasswordModify;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Mod, Scope, SearchEntry};
use reset_core::store::User;
use reset_core::{
    AccountLookup, PasswordChange, PasswordScheme, SessionsEnded, StoreError, UserDirectory,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use crate::filter;
use crate::options::{LdapOptions, OptionsError, PasswordWrite, Tls};

/// Accounts in an LDAP directory.
pub struct LdapDirectory {
    options: LdapOptions,
    tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for LdapDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapDirectory")
            .field("url", &self.options.url)
            .field("base_dn", &self.options.base_dn)
            .finish_non_exhaustive()
    }
}

/// A failure to reach the server, or an answer that came too late: `Unavailable`. A result code
/// the server gave (a refused bind, a refused write) is a `Query` error: asking again will not
/// help.
fn store_error(e: LdapError) -> StoreError {
    match e {
        LdapError::LdapResult { result } => {
            StoreError::Query(format!("LDAP: {} {}", result.rc, result.text))
        }
        other => StoreError::Unavailable(format!("LDAP: {other}")),
    }
}

impl LdapDirectory {
    /// A directory with these options (checked; the server is first asked at the first call).
    pub fn new(options: LdapOptions) -> Result<Self, OptionsError> {
        options.check()?;
        let mut roots = rustls::RootCertStore::empty();
        match &options.ca_file {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| OptionsError::Ca(path.clone(), e.to_string()))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| OptionsError::Ca(path.clone(), e.to_string()))?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(OptionsError::Ca(
                        path.clone(),
                        "no certificate in it".into(),
                    ));
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| OptionsError::Ca(PathBuf::new(), e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            options,
            tls: Arc::new(tls),
        })
    }

    /// A connection bound as the service account.
    async fn session(&self) -> Result<Ldap, StoreError> {
        let settings = LdapConnSettings::new()
            .set_conn_timeout(self.options.timeout)
            .set_config(self.tls.clone())
            .set_starttls(self.options.tls == Tls::StartTls);
        let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &self.options.url)
            .await
            .map_err(store_error)?;
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %e, "LDAP connection ended");
            }
        });
        ldap.simple_bind(&self.options.bind_dn, &self.options.bind_password)
            .await
            .and_then(ldap3::LdapResult::success)
            .map_err(store_error)?;
        Ok(ldap)
    }

    /// `work` on a bound connection, within the timeout; the connection is closed after.
    async fn with_session<T>(
        &self,
        work: impl AsyncFnOnce(&mut Ldap) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let run = async {
            let mut ldap = self.session().await?;
            let out = work(&mut ldap).await;
            let _ = ldap.unbind().await;
            out
        };
        tokio::time::timeout(self.options.timeout * 2, run)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable(
                    "LDAP: no answer within the timeout".into(),
                ))
            })
    }

    fn attributes(&self) -> Vec<&str> {
        let o = &self.options;
        let mut attrs = vec![
            o.id_attribute.as_str(),
            o.username_attribute.as_str(),
            o.email_attribute.as_str(),
        ];
        attrs.extend(o.locale_attribute.as_deref());
        attrs.extend(o.phone_attribute.as_deref());
        attrs
    }

    /// The one entry `filter` finds: `None` for none, and for more than one (an identifier that
    /// names two accounts names neither).
    async fn one(&self, ldap: &mut Ldap, filter: &str) -> Result<Option<SearchEntry>, StoreError> {
        let (entries, _) = ldap
            .search(
                &self.options.base_dn,
                Scope::Subtree,
                filter,
                self.attributes(),
            )
            .await
            .and_then(ldap3::SearchResult::success)
            .map_err(store_error)?;
        if entries.len() > 1 {
            tracing::warn!(
                count = entries.len(),
                "LDAP: an identifier matches several entries; treated as no account"
            );
            return Ok(None);
        }
        Ok(entries.into_iter().next().map(SearchEntry::construct))
    }

    fn user(&self, entry: &SearchEntry) -> Option<User> {
        let o = &self.options;
        let first = |attr: &str| -> Option<String> {
            lookup_attr(&entry.attrs, attr).and_then(|v| v.first().cloned())
        };
        User::from_directory(
            first(&o.id_attribute)?,
            &first(&o.username_attribute)?,
            lookup_attr(&entry.attrs, &o.email_attribute)
                .cloned()
                .unwrap_or_default(),
            o.locale_attribute.as_deref().and_then(first),
            o.phone_attribute.as_deref().and_then(first),
        )
    }

    fn id_filter(&self, id: &str) -> String {
        filter::fill(
            &format!("({}={{id}})", self.options.id_attribute),
            &[("id", id)],
        )
    }
}

/// An attribute's values, whatever the case the server spells its name in.
fn lookup_attr<'a>(attrs: &'a HashMap<String, Vec<String>>, name: &str) -> Option<&'a Vec<String>> {
    attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

#[async_trait]
impl UserDirectory for LdapDirectory {
    async fn find(&self, lookup: &AccountLookup) -> Result<Option<User>, StoreError> {
        let Some(filter) = filter::lookup(
            &self.options.username_filter,
            &self.options.email_filter,
            lookup.username.as_deref(),
            lookup.email.as_deref(),
        ) else {
            return Ok(None);
        };
        let entry = self
            .with_session(async |ldap| self.one(ldap, &filter).await)
            .await?;
        Ok(entry.as_ref().and_then(|e| self.user(e)))
    }

    async fn by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        let filter = self.id_filter(id);
        let entry = self
            .with_session(async |ldap| self.one(ldap, &filter).await)
            .await?;
        Ok(entry.as_ref().and_then(|e| self.user(e)))
    }

    /// Password Modify (the directory hashes), or `userPassword` replaced with the scheme's
    /// encoding (`{CRYPT}` for bcrypt, `{ARGON2}` for argon2id, as OpenLDAP's modules read them).
    async fn set_password(
        &self,
        id: &str,
        change: &PasswordChange<'_>,
        _at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let filter = self.id_filter(id);
        let value = match self.options.password_write {
            PasswordWrite::PasswordModify => None,
            PasswordWrite::Replace(scheme) => {
                let encoded = scheme
                    .encode_off_runtime(change)
                    .await
                    .map_err(|e| StoreError::Query(e.to_string()))?;
                Some(match scheme {
                    PasswordScheme::Bcrypt { .. } => format!("{{CRYPT}}{encoded}"),
                    PasswordScheme::Argon2id => format!("{{ARGON2}}{encoded}"),
                    _ => encoded,
                })
            }
        };
        let password = change.password().to_owned();
        self.with_session(async |ldap| {
            let entry = self
                .one(ldap, &filter)
                .await?
                .ok_or_else(|| StoreError::Query("LDAP: the account is gone".into()))?;
            match &value {
                None => ldap
                    .extended(PasswordModify {
                        user_id: Some(&entry.dn),
                        old_pass: None,
                        new_pass: Some(&password),
                    })
                    .await
                    .and_then(ldap3::result::ExopResult::success)
                    .map(|_| ())
                    .map_err(store_error),
                Some(value) => ldap
                    .modify(
                        &entry.dn,
                        vec![Mod::Replace(
                            "userPassword".to_owned(),
                            HashSet::from([value.clone()]),
                        )],
                    )
                    .await
                    .and_then(ldap3::LdapResult::success)
                    .map(|_| ())
                    .map_err(store_error),
            }
        })
        .await
    }

    /// An LDAP directory keeps no sessions: the applications that bind against it keep their
    /// own (end them on the `password.changed` webhook).
    async fn revoke_sessions(&self, _id: &str) -> Result<SessionsEnded, StoreError> {
        Ok(SessionsEnded::NoneKept)
    }
}
