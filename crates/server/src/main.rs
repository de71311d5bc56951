//! `tap2key-server`: run the onboarding service (the demo directory, or the broker in front
//! of Microsoft Entra ID), and administer its directory (users, Temporary Access Passes, the
//! audit trail) from the command line.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use clap::{Parser, Subcommand};
use tap2key_server::{
    Clock, Server, ServerConfig,
    entra::{AppTokenSource, BrokerConfig, GraphCredential, broker_file},
    store::{AuditAction, AuditEvent, Store},
};
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

#[derive(Parser)]
#[command(name = "tap2key-server", version, about = "tap2key's onboarding service and demo directory")]
struct Cli {
    /// The directory's SQLite file (created if missing). `broker` takes its own from its
    /// settings file; give that file here to read the broker's audit trail.
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
    /// Runs the service in broker mode: people sign in at Microsoft Entra ID, and their
    /// passkeys are registered through Microsoft Graph (see docs/entra.md).
    Broker {
        /// The broker's settings file (see deploy/broker.example.toml).
        #[arg(long, default_value = broker_file::DEFAULT_PATH)]
        config: PathBuf,
        /// Only check the file and the credential (fetches one Graph token), then exit:
        /// 0 when all is well, 1 with the reason when not.
        #[arg(long)]
        check: bool,
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
        Command::Broker { config, check } => broker(&config, check).await,
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

/// Broker mode from its file: run it, or check it (`--check`, for IT and the systemd unit's
/// `ExecStartPre`, so a bad file or credential stops the start with its reason).
async fn broker(path: &Path, check: bool) -> Result<(), String> {
    let config = broker_file::load(path).map_err(|e| e.to_string())?;
    if check {
        return check_broker(path, &config).await;
    }
    let tenant = config.tenant.clone();
    let server = Server::start(config, Clock::System).await.map_err(|e| e.to_string())?;
    println!("onboarding service in broker mode for tenant {tenant} on {}", server.base_url());
    server.wait().await;
    Ok(())
}

/// Fetches one Graph token as the service would, and reads from it whether the app holds
/// a Graph permission for passkeys (a missing admin consent shows up only there: Entra
/// issues the token either way).
async fn check_broker(path: &Path, config: &ServerConfig) -> Result<(), String> {
    let broker = config.broker.as_ref().ok_or("the file does not configure broker mode")?;
    let token_url = broker.token_url().map_err(|_| format!("{}: authority cannot be used for a token URL", path.display()))?;
    let tokens = AppTokenSource::new(token_url.clone(), &broker.client_id, broker.credential.clone()).with_scope(broker.graph_scope());
    let token = tokens.token().await.map_err(|e| format!("{e}\n(IT: check the credential in [credential], client_id and tenant_id; docs/entra.md, section 1)"))?;
    let policy = &config.attestation;
    println!("{}:", path.display());
    println!("  tenant {}, service app {}, desktop apps {}", broker.tenant_id, broker.client_id, broker.accepted_client_ids.join(", "));
    println!("  Graph token from {token_url} with {}, valid until {}", credential(broker), token.expires_at().format(&Rfc3339).unwrap_or_default());
    println!(
        "  key policy: attestation {}, {} allowed, {} blocked",
        if policy.enforces_attestation() { format!("checked against {} root(s)", policy.roots.len()) } else { "not checked".to_owned() },
        policy.allowed_aaguids.as_ref().map_or("every model".to_owned(), |list| format!("{} model(s)", list.len())),
        policy.blocked_aaguids.len(),
    );
    println!("  listens on {} (put the TLS reverse proxy in front of it)", config.bind);
    const PASSKEY_ROLES: [&str; 2] = ["UserAuthMethod-Passkey.ReadWrite.All", "UserAuthenticationMethod.ReadWrite.All"];
    match token_roles(token.bearer()) {
        Some(roles) if roles.iter().any(|role| PASSKEY_ROLES.contains(&role.as_str())) => {
            println!("  Graph permission: {}", roles.iter().filter(|role| PASSKEY_ROLES.contains(&role.as_str())).cloned().collect::<Vec<_>>().join(", "));
            println!("ok");
            Ok(())
        }
        Some(roles) => Err(format!(
            "the service's Graph token carries no permission to manage passkeys (it has: {}). IT: add the Microsoft Graph application permission UserAuthMethod-Passkey.ReadWrite.All to the app registration {} and grant admin consent",
            if roles.is_empty() { "none".to_owned() } else { roles.join(", ") },
            broker.client_id
        )),
        None => {
            println!("  Graph permission: not readable from the token; check that UserAuthMethod-Passkey.ReadWrite.All has admin consent");
            println!("ok");
            Ok(())
        }
    }
}

fn credential(broker: &BrokerConfig) -> String {
    match &broker.credential {
        GraphCredential::Certificate { .. } => format!("the certificate x5t#S256={}", broker.credential.thumbprint_sha256().unwrap_or_default()),
        GraphCredential::Secret(_) => "a client secret".to_owned(),
    }
}

/// The `roles` claim of Graph's app-only token, read without verifying it (it is Graph's to
/// verify; this is only a hint for IT). `None` when the token is not a readable JWT.
fn token_roles(token: &str) -> Option<Vec<String>> {
    let payload = URL_SAFE_NO_PAD.decode(token.split('.').nth(1)?.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    let roles = claims.get("roles").and_then(serde_json::Value::as_array).map(|roles| roles.iter().filter_map(|role| role.as_str().map(str::to_owned)).collect());
    Some(roles.unwrap_or_default())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(claims.to_string()))
    }

    #[test]
    fn roles_are_read_from_the_token_when_it_is_a_jwt() {
        let roles = serde_json::json!({"roles": ["UserAuthMethod-Passkey.ReadWrite.All", "User.Read.All"]});
        assert_eq!(token_roles(&jwt(roles)).unwrap(), ["UserAuthMethod-Passkey.ReadWrite.All", "User.Read.All"]);
        assert_eq!(token_roles(&jwt(serde_json::json!({"aud": "https://graph.microsoft.com"}))), Some(vec![]), "no consent: no roles claim");
        assert_eq!(token_roles("opaque-token"), None);
        assert_eq!(token_roles("a.!!!.c"), None);
    }
}
