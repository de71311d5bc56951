//! `tap2key-server`: run the onboarding service, and administer its directory (users,
//! Temporary Access Passes, the audit trail) from the command line.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use tap2key_server::{Clock, Server, ServerConfig, store::{AuditAction, AuditEvent, Store}};
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

#[derive(Parser)]
#[command(name = "tap2key-server", version, about = "tap2key's onboarding service and demo directory")]
struct Cli {
    /// The directory's SQLite file (created if missing).
    #[arg(long, env = "TAP2KEY_DB", default_value = "tap2key-directory.sqlite3")]
    db: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the service.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8400")]
        bind: SocketAddr,
        /// The WebAuthn relying party id (the origin is https:// + this).
        #[arg(long)]
        rp_id: Option<String>,
    },
    /// Adds a user to the directory.
    AddUser {
        /// The work address (UPN), e.g. ada@contoso.com.
        upn: String,
        #[arg(long)]
        name: String,
    },
    /// Issues a Temporary Access Pass, printed once and stored only as a hash.
    IssueTap {
        upn: String,
        /// Minutes it stays valid (10 to 43200, as Entra).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(i64).range(10..=43200))]
        lifetime: i64,
        /// Usable for one sign-in only.
        #[arg(long)]
        one_time: bool,
        /// Minutes from now until it becomes valid.
        #[arg(long, default_value_t = 0)]
        starts_in: i64,
    },
    /// Shows the audit trail, newest first.
    Audit {
        #[arg(long)]
        upn: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    // webauthn-rs traces whole ceremony states, challenges included: never below info,
    // whatever RUST_LOG asks for.
    let filter = tracing_subscriber::EnvFilter::from_default_env().add_directive("webauthn_rs_core=info".parse().expect("a valid directive"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let now = OffsetDateTime::now_utc();
    match cli.command {
        Command::Serve { bind, rp_id } => {
            let mut config = ServerConfig::demo(cli.db);
            config.bind = bind;
            if let Some(rp_id) = rp_id {
                config.rp_id = rp_id;
            }
            let server = Server::start(config, Clock::System).await.map_err(|e| e.to_string())?;
            println!("onboarding service on {}", server.base_url());
            server.wait().await;
            Ok(())
        }
        Command::AddUser { upn, name } => {
            let store = open(&cli.db).await?;
            let user = store.create_user(&upn, &name, now).await.map_err(|e| e.to_string())?;
            audit(&store, &user.id, &user.upn, AuditAction::UserCreated, now).await;
            println!("{}\t{}", user.id, user.upn);
            Ok(())
        }
        Command::IssueTap { upn, lifetime, one_time, starts_in } => {
            let store = open(&cli.db).await?;
            let user = store.user_by_upn(&upn).await.map_err(|e| e.to_string())?.ok_or(format!("no user {upn}"))?;
            let start = now + Duration::minutes(starts_in);
            let tap = store.issue_tap(user.id, start, Duration::minutes(lifetime), one_time, now).await.map_err(|e| e.to_string())?;
            audit(&store, &user.id, &user.upn, AuditAction::TapIssued, now).await;
            let when = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
            // The only time the pass is ever shown.
            println!("{}", tap.pass.as_str());
            eprintln!("valid {} to {}{}", when(tap.start), when(tap.expires), if one_time { ", one sign-in only" } else { "" });
            Ok(())
        }
        Command::Audit { upn, limit } => {
            let store = open(&cli.db).await?;
            let user = match upn {
                Some(upn) => Some(store.user_by_upn(&upn).await.map_err(|e| e.to_string())?.ok_or(format!("no user {upn}"))?.id),
                None => None,
            };
            for event in store.audit_trail(user, limit).await.map_err(|e| e.to_string())? {
                println!("{}\t{:?}\t{}\t{}\t{}", event.at.format(&Rfc3339).unwrap_or_default(), event.action, event.upn.unwrap_or_default(), event.outcome, event.detail);
            }
            Ok(())
        }
    }
}

async fn open(db: &std::path::Path) -> Result<Store, String> {
    Store::open(db).await.map_err(|e| format!("{}: {e}", db.display()))
}

async fn audit(store: &Store, user: &uuid::Uuid, upn: &str, action: AuditAction, now: OffsetDateTime) {
    let event = AuditEvent { at: now, user: Some(*user), upn: Some(upn.to_owned()), action, outcome: "success".into(), detail: "admin CLI".into() };
    if let Err(error) = store.audit(&event).await {
        eprintln!("warning: the audit trail could not be written: {error}");
    }
}
