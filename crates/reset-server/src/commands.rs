//! Running a parsed command line.

use anyhow::Context as _;
use reset_core::UserInput;

use crate::cli::{Cli, Command, KeyCommand, OutboxCommand, TokenCommand, UserCommand};
use crate::settings::Settings;
use crate::{serve, wiring};

/// Runs the command (serve when none is given).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref(), &cli.settings)?;
    let log_format = match settings.log_format.as_str() {
        "text" => reset_telemetry::LogFormat::Text,
        "json" => reset_telemetry::LogFormat::Json,
        other => anyhow::bail!("RESET_LOG_FORMAT must be text or json, not {other:?}"),
    };
    // Held until the command ends: dropping it flushes the spans still buffered.
    let _telemetry = reset_telemetry::init(reset_telemetry::TelemetryOptions {
        log_format,
        accept_remote_parent: settings.trace_accept_traceparent,
    })?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::serve(settings).await,
        Command::Openapi => {
            print!("{}", reset_api::openapi::document_json());
            Ok(())
        }
        Command::Healthcheck => crate::healthcheck::readyz(&settings.bind).await,
        Command::Migrate => {
            let store = wiring::store(&settings).await?;
            let applied = store.migrate().await?;
            println!("{applied} migration(s) applied");
            Ok(())
        }
        Command::Outbox { command } => outbox(&settings, command).await,
        Command::Token { command } => token(&settings, command).await,
        Command::Key { command } => key(&settings, command).await,
        Command::User { command } => {
            anyhow::ensure!(
                settings.directory == "builtin",
                "`user` commands manage the built-in users table; with directory = {} the accounts are managed in the directory itself",
                settings.directory
            );
            let store = wiring::store(&settings).await?;
            store.migrate().await?;
            let service = wiring::service(&settings, store.clone()).await?;
            match command {
                UserCommand::Add {
                    username,
                    emails,
                    password,
                    phone,
                    locale,
                } => {
                    let input = UserInput {
                        username,
                        emails,
                        password,
                        phone,
                        locale,
                        org_id: None,
                    };
                    let new = service
                        .prepare_user(input)
                        .await
                        .context("creating the user")?;
                    let user = store
                        .create_user(service.now(), new)
                        .await
                        .context("creating the user")?;
                    println!("{}", user.id);
                }
                UserCommand::List => {
                    for u in store.list_users().await? {
                        println!("{}\t{}\t{}", u.id, u.username, u.emails.join(","));
                    }
                }
                UserCommand::Import {
                    file,
                    format,
                    dry_run,
                    skip_refused,
                } => import(&service, &file, format, dry_run, skip_refused).await?,
            }
            Ok(())
        }
    }
}

/// `user import`: the refusals on stderr with their lines, then what was (or would be) written.
/// Fails when a refusal stopped the import, so that scripts notice.
async fn import(
    service: &reset_core::ResetService,
    file: &std::path::Path,
    format: Option<crate::import_file::Format>,
    dry_run: bool,
    skip_refused: bool,
) -> anyhow::Result<()> {
    let format = format
        .or_else(|| crate::import_file::Format::of(file))
        .context("name the format with --format csv|jsonl (the file's extension does not)")?;
    let records = crate::import_file::read(file, format)?;
    let report = service
        .import_accounts(records, "cli", dry_run, skip_refused)
        .await
        .context("importing")?;
    for refusal in &report.refused {
        eprintln!("line {}: {}", refusal.line, refusal.reason);
    }
    let refused = report.refused.len();
    if !report.refused.is_empty() && !skip_refused {
        anyhow::bail!(
            "nothing imported: {refused} record(s) refused; fix them, or pass --skip-refused to import the other {}",
            report.accepted
        );
    }
    if dry_run {
        println!(
            "dry run: {} account(s) would be imported, {refused} refused",
            report.accepted
        );
    } else {
        println!("{} account(s) imported, {refused} refused", report.accepted);
    }
    Ok(())
}

async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let store = wiring::store(settings).await?;
    store.migrate().await?;
    let service = wiring::service(settings, store).await?;
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match command {
        TokenCommand::Create { scopes, name } => {
            let (token, secret) = service.create_admin_token(name, scopes).await?;
            eprintln!(
                "token {} ({}) created; it is shown this once:",
                token.id, token.name
            );
            println!("{secret}");
        }
        TokenCommand::List => {
            for t in service.list_admin_tokens().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    t.scopes.join(","),
                    time(t.created_at),
                    t.revoked_at.map_or_else(|| "-".to_owned(), time)
                );
            }
        }
        TokenCommand::Revoke { id } => {
            anyhow::ensure!(
                service.revoke_admin_token(&id).await?,
                "no live token with id {id}"
            );
            println!("revoked {id}");
        }
    }
    Ok(())
}

async fn key(settings: &Settings, command: KeyCommand) -> anyhow::Result<()> {
    use crate::secret_key::{check_id, key_file, next_id, read_file, write_file};
    anyhow::ensure!(
        settings.secret_key.is_none() && settings.secret_keys.is_none(),
        "the keys come from RESET_SECRET_KEY(S): rotate them there (RESET_SECRET_KEYS=NEW=…,OLD=…), not in the key file"
    );
    let path = key_file(&settings.data_dir);
    if !path.exists() {
        // The first key, as `serve` would make it.
        crate::secret_key::load(None, None, &settings.data_dir)?;
    }
    let mut keys = read_file(&path)?;
    // One store for the whole command (opening SQLite again while the first one's writer
    // thread winds down can find the database locked).
    let store = match &command {
        KeyCommand::List | KeyCommand::Retire { .. } => {
            let store = wiring::store(settings).await?;
            store.migrate().await?;
            Some(store)
        }
        KeyCommand::Add { .. } | KeyCommand::Activate { .. } => None,
    };
    let usage = async |id: &str| -> anyhow::Result<(u64, u64)> {
        let store = store.as_ref().context("no store opened")?;
        Ok(store.key_usage(id, chrono::Utc::now()).await?)
    };
    match command {
        KeyCommand::List => {
            for (i, (id, _)) in keys.iter().enumerate() {
                let (secrets, tokens) = usage(id).await?;
                let state = if i == 0 { "active" } else { "-" };
                println!("{id}	{state}	{secrets} live secrets	{tokens} admin tokens");
            }
        }
        KeyCommand::Add { id } => {
            let id = id.unwrap_or_else(|| next_id(&keys));
            check_id(&id)?;
            anyhow::ensure!(!keys.iter().any(|(k, _)| *k == id), "key {id} exists");
            keys.push((
                id.clone(),
                reset_core::SecretKey::generate(&reset_core::OsSecretRng),
            ));
            write_file(&path, &keys)?;
            println!(
                "added {id} (not active: `reset-server key activate {id}` once every instance has this file)"
            );
        }
        KeyCommand::Activate { id } => {
            let at = position(&keys, &id)?;
            let key = keys.remove(at);
            keys.insert(0, key);
            write_file(&path, &keys)?;
            println!("{id} is active; restart the servers to use it");
        }
        KeyCommand::Retire { id, force } => {
            let at = position(&keys, &id)?;
            anyhow::ensure!(at != 0, "{id} is the active key: activate another first");
            let (secrets, tokens) = usage(&id).await?;
            anyhow::ensure!(
                force || secrets + tokens == 0,
                "{secrets} live reset secrets and {tokens} admin tokens still need {id}: wait for the secrets to expire and replace the tokens, or --force"
            );
            keys.remove(at);
            write_file(&path, &keys)?;
            println!("retired {id}");
        }
    }
    Ok(())
}

/// Where the key `id` is in the key file's list.
fn position(keys: &[(String, reset_core::SecretKey)], id: &str) -> anyhow::Result<usize> {
    keys.iter()
        .position(|(k, _)| k == id)
        .with_context(|| format!("no key {id}"))
}

async fn outbox(settings: &Settings, command: OutboxCommand) -> anyhow::Result<()> {
    let store = wiring::store(settings).await?;
    store.migrate().await?;
    match command {
        OutboxCommand::List { state, limit } => {
            for m in store.outbox_list(state.as_deref(), limit).await? {
                let queued = chrono::DateTime::from_timestamp_millis(m.queued_at)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default();
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    m.id,
                    m.state(),
                    m.kind,
                    m.channel,
                    m.recipient,
                    m.attempts,
                    queued,
                    m.last_error
                        .as_deref()
                        .unwrap_or("-")
                        .replace(['\t', '\n'], " ")
                );
            }
        }
        OutboxCommand::Retry { ids, all_dead } => {
            let ids = if all_dead { Vec::new() } else { ids };
            let n = store.outbox_retry(chrono::Utc::now(), &ids).await?;
            println!("{n} message(s) queued again");
        }
    }
    Ok(())
}
