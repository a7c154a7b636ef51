//! Building the parts from the settings.

use std::sync::Arc;

use anyhow::Context as _;
use reset_api::{Api, ApiOptions};
use reset_core::{NoopRevoker, OsSecretRng, Ports, ResetService, SystemClock};
use reset_diesel::{DieselStore, PoolOptions};
use reset_mail::MailTransport;

use crate::settings::Settings;

/// Opens the store named by `database_url`.
pub async fn store(settings: &Settings) -> anyhow::Result<Arc<DieselStore>> {
    let options = PoolOptions {
        max_connections: settings.db_max_connections,
    };
    let store = DieselStore::connect(&settings.database_url, options)
        .await
        .with_context(|| format!("opening {}", redact(&settings.database_url)))?;
    Ok(Arc::new(store))
}

/// The service on the real clock and random source.
pub fn service(settings: &Settings, store: Arc<DieselStore>) -> anyhow::Result<ResetService> {
    let key = crate::secret_key::load(settings.secret_key.as_deref(), &settings.data_dir)?;
    let ports = Ports {
        store: store.clone(),
        directory: store,
        clock: Arc::new(SystemClock),
        rng: Arc::new(OsSecretRng),
        revoker: Arc::new(NoopRevoker),
    };
    ResetService::new(ports, key, settings.reset_config()).context("argon2 parameters")
}

pub fn api(settings: &Settings, service: ResetService) -> anyhow::Result<Api> {
    Ok(Api::new(
        service,
        ApiOptions {
            trusted_proxies: settings.trusted_proxies()?,
        },
    ))
}

/// The configured mail transport.
pub fn transport(settings: &Settings) -> anyhow::Result<MailTransport> {
    match settings.mail_transport.as_str() {
        "file" => Ok(MailTransport::file(
            settings.mail_dir.clone(),
            &settings.mail_from,
        )?),
        "log" => Ok(MailTransport::log(&settings.mail_from)?),
        "smtp" => {
            let url = settings
                .smtp_url
                .as_deref()
                .context("mail_transport = smtp needs smtp_url (RESET_SMTP_URL)")?;
            Ok(MailTransport::smtp(url, &settings.mail_from)?)
        }
        other => anyhow::bail!("mail_transport {other:?} is not one of: file, log, smtp"),
    }
}

/// The message templates, with the overrides of `template_dir` when set.
pub fn renderer(settings: &Settings) -> anyhow::Result<reset_mail::Renderer> {
    Ok(reset_mail::Renderer::new(settings.template_dir.as_deref())?)
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
