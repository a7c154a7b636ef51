//! Running a parsed command line.

use anyhow::Context as _;
use reset_core::UserInput;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, OutboxCommand, TokenCommand, UserCommand};
use crate::settings::Settings;
use crate::{serve, wiring};

/// Runs the command (serve when none is given).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref(), &cli.settings)?;
    init_tracing(&settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::serve(settings).await,
        Command::Openapi => {
            print!("{}", reset_api::openapi::document_json());
            Ok(())
        }
        Command::Migrate => {
            let store = wiring::store(&settings).await?;
            let applied = store.migrate().await?;
            println!("{applied} migration(s) applied");
            Ok(())
        }
        Command::Outbox { command } => outbox(&settings, command).await,
        Command::Token { command } => token(&settings, command).await,
        Command::User { command } => {
            let store = wiring::store(&settings).await?;
            store.migrate().await?;
            let service = wiring::service(&settings, store.clone())?;
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
            }
            Ok(())
        }
    }
}

async fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let store = wiring::store(settings).await?;
    store.migrate().await?;
    let service = wiring::service(settings, store)?;
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

fn init_tracing(format: &str) {
    let filter = EnvFilter::try_from_env("RESET_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
