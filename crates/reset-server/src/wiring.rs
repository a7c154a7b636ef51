//! Building the parts from the settings.

use std::sync::Arc;

use anyhow::Context as _;
use reset_api::ApiOptions;
use reset_core::breach::BreachChecker;
use reset_core::{ResetService, UserDirectory};
use reset_diesel::{DieselStore, PoolOptions};
use std::time::Duration;

use reset_mail::worker::WorkerOptions;
use reset_mail::{Couriers, HttpCourier, MailTransport, Signer, SmsGateway};

use crate::settings::Settings;

/// Opens the store named by `database_url`.
pub async fn store(settings: &Settings) -> anyhow::Result<Arc<DieselStore>> {
    let options = PoolOptions {
        max_connections: settings.db_max_connections,
        listen_url: settings.database_listen_url.clone(),
    };
    let store = DieselStore::connect(&settings.database_url, options)
        .await
        .with_context(|| {
            format!(
                "opening {}",
                reset_diesel::redact_url(&settings.database_url)
            )
        })?;
    Ok(Arc::new(store))
}

/// The builder with everything the settings say but the store and the deliveries: the key, the
/// configuration, the breach check, the HTTP options and limits, the worker's pacing, the sweep.
pub fn builder(settings: &Settings) -> anyhow::Result<reset::Builder> {
    let key = crate::secret_key::load(
        settings.secret_key.as_deref(),
        settings.secret_keys.as_deref(),
        &settings.data_dir,
    )?;
    let mut builder = reset::Builder::new()
        .key(key)
        .config(settings.reset_config())
        .api_options(ApiOptions {
            trusted_proxies: settings.trusted_proxies()?,
            dialects: settings.dialects(),
            ..ApiOptions::default()
        })
        .limits(settings.serve_limits())
        .worker_options(worker_options(settings))
        .sweep_every(Duration::from_secs(settings.sweep_interval_secs))
        .migrate(settings.migrate_on_start);
    if let Some(checker) = breach_checker(settings)? {
        builder = builder.breach_check(checker, settings.breach_policy());
    }
    if let Some(directory) = directory(settings)? {
        builder = builder.directory(directory);
    }
    Ok(builder)
}

/// The directory `directory` names: `None` for the built-in users table (the store's).
pub fn directory(settings: &Settings) -> anyhow::Result<Option<Arc<dyn UserDirectory>>> {
    match settings.directory.as_str() {
        "builtin" => Ok(None),
        "ldap" => {
            let options = settings.ldap_options()?;
            let directory = reset_ldap::LdapDirectory::new(options)?;
            Ok(Some(Arc::new(directory)))
        }
        "http" => {
            let url = settings
                .http_directory_url
                .clone()
                .context("directory = http needs http_directory_url (RESET_HTTP_DIRECTORY_URL)")?;
            let secret = settings.http_directory_secret.as_deref().context(
                "directory = http needs http_directory_secret (RESET_HTTP_DIRECTORY_SECRET)",
            )?;
            let directory = reset_http_directory::HttpDirectory::new(
                reset_http_directory::HttpDirectoryOptions {
                    base_url: url,
                    signer: Signer::new(secret)?,
                    scheme: settings.http_directory_password_scheme.parse()?,
                    timeout: Duration::from_millis(settings.http_directory_timeout_ms.max(1)),
                },
            )?;
            Ok(Some(Arc::new(directory)))
        }
        "sql" => {
            let need = |value: &Option<String>, name: &str| {
                value.clone().with_context(|| {
                    format!(
                        "directory = sql needs {name} (RESET_{})",
                        name.to_uppercase()
                    )
                })
            };
            let url = need(&settings.sql_directory_url, "sql_directory_url")?;
            let statements = reset_diesel::SqlStatements {
                find_by_username: need(&settings.sql_find_by_username, "sql_find_by_username")?,
                find_by_email: need(&settings.sql_find_by_email, "sql_find_by_email")?,
                find_by_id: need(&settings.sql_find_by_id, "sql_find_by_id")?,
                set_password: need(&settings.sql_set_password, "sql_set_password")?,
            };
            let directory = reset_diesel::SqlDirectory::new(
                &url,
                &statements,
                settings.sql_password_scheme.parse()?,
                settings.db_max_connections,
            )?;
            Ok(Some(Arc::new(directory)))
        }
        other => anyhow::bail!("directory = {other:?}: use builtin, ldap, sql or http"),
    }
}

/// The service on `store` (its own users table as the directory), for the commands that act
/// on it without serving: no worker, no sweep.
pub async fn service(settings: &Settings, store: Arc<DieselStore>) -> anyhow::Result<ResetService> {
    let (api, _worker) = builder(settings)?
        .store(store.clone())
        .directory(store.clone())
        .accounts(store)
        .sweep_every(Duration::ZERO)
        .build()
        .await?;
    Ok(api.service().clone())
}

/// The breached-password check the settings ask for: the offline corpus file, or the range
/// API, or none.
fn breach_checker(settings: &Settings) -> anyhow::Result<Option<Arc<dyn BreachChecker>>> {
    match (&settings.breach_file, &settings.breach_api_url) {
        (Some(_), Some(_)) => anyhow::bail!("set one of breach_file and breach_api_url, not both"),
        (Some(file), None) => {
            let corpus = reset_breach::CorpusFile::open(file)
                .map_err(|e| anyhow::anyhow!("breach_file: {e}"))?;
            tracing::info!(file = %file.display(), "breached-password check: offline corpus");
            Ok(Some(Arc::new(corpus)))
        }
        (None, Some(url)) => {
            let timeout = std::time::Duration::from_millis(settings.breach_timeout_ms.max(1));
            let api = reset_breach::RangeApi::new(url, timeout)
                .map_err(|e| anyhow::anyhow!("breach_api_url: {e}"))?;
            tracing::info!(%url, fail_closed = settings.breach_fail_closed, "breached-password check: range API");
            Ok(Some(Arc::new(api)))
        }
        (None, None) => Ok(None),
    }
}

/// Mail plus, where configured, the SMS gateway and the webhook courier.
pub fn couriers(settings: &Settings) -> anyhow::Result<Couriers> {
    let signed = |secret: Option<&String>,
                  previous: Option<&String>,
                  what: &str|
     -> anyhow::Result<HttpCourier> {
        let secret = secret.with_context(|| format!("{what} needs a signing secret"))?;
        let mut signer = Signer::new(secret).context(what.to_owned())?;
        if let Some(previous) = previous {
            signer = signer
                .with_previous(previous)
                .with_context(|| format!("the previous {what}"))?;
        }
        Ok(HttpCourier::new(signer)?)
    };
    let sms = match &settings.sms_webhook_url {
        Some(url) => Some(SmsGateway {
            url: url.clone(),
            http: signed(
                settings.sms_webhook_secret.as_ref(),
                settings.sms_webhook_previous_secret.as_ref(),
                "sms_webhook_secret",
            )?,
        }),
        None => None,
    };
    let webhooks = if settings.webhook_urls().is_empty() {
        None
    } else {
        Some(signed(
            settings.webhook_secret.as_ref(),
            settings.webhook_previous_secret.as_ref(),
            "webhook_secret",
        )?)
    };
    Ok(Couriers {
        mail: transport(settings)?,
        sms,
        webhooks,
    })
}

/// The worker's pacing and limits.
pub fn worker_options(settings: &Settings) -> WorkerOptions {
    WorkerOptions {
        poll: Duration::from_millis(settings.outbox_poll_ms.max(10)),
        max_age: Duration::from_secs(settings.outbox_max_age_secs),
        max_attempts: settings.outbox_max_attempts.max(1),
        retry_base: Duration::from_millis(settings.outbox_retry_base_ms.max(10)),
    }
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
            Ok(MailTransport::smtp(
                url,
                &settings.mail_from,
                settings.smtp_allow_plaintext_auth,
            )?)
        }
        other => anyhow::bail!("mail_transport {other:?} is not one of: file, log, smtp"),
    }
}

/// The message templates, with the overrides of `template_dir` when set.
pub fn renderer(settings: &Settings) -> anyhow::Result<reset_mail::Renderer> {
    Ok(reset_mail::Renderer::new(settings.template_dir.as_deref())?)
}
