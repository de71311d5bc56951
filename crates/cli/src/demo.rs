//! `--demo`: the demo directory inside this program, for one run. It plays IT's part too:
//! it adds the user and issues a Temporary Access Pass for one sign-in, which it prints the
//! way IT would hand it over. The person then types it on the sign-in page as usual.

use std::path::PathBuf;

use tap2key_flow::WorkAddress;
use tap2key_server::{Clock, Server, ServerConfig, graph::AttestationPolicy};
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig};
use time::{Duration, OffsetDateTime};

use crate::{args::KeyKind, render::say};

/// The user `--demo` sets up unless `--user` names another.
pub const DEMO_USER: &str = "ada@demo.tap2key.test";

/// How long the demo's pass stays valid.
const PASS_LIFETIME_MINUTES: i64 = 60;

pub struct Demo {
    server: Server,
    db: PathBuf,
}

impl Demo {
    /// Starts the demo directory on a free loopback port over a temporary SQLite file.
    pub async fn start(user: &WorkAddress, key: KeyKind) -> Result<Self, String> {
        let db = std::env::temp_dir().join(format!("tap2key-enroll-demo-{}-{}.sqlite3", std::process::id(), uuid::Uuid::new_v4().simple()));
        let mut config = ServerConfig::demo(db.clone());
        // With the virtual key, the directory checks its attestation as it would a real
        // model's; a USB key of any model is let in unattested, so any key can try the demo.
        if key == KeyKind::Virtual {
            let key = VirtualKey::new(VirtualKeyConfig::default()).map_err(|e| format!("the virtual key could not be made: {e}"))?;
            let model = key.model();
            config.attestation = AttestationPolicy::trust(key.attestation_root_der(), uuid::Uuid::from_bytes(model.aaguid), &model.name);
        }
        // The system clock: the directory client checks token expiry against this machine's clock.
        let server = Server::start(config, Clock::System).await.map_err(|e| format!("the demo directory could not start: {e}"))?;
        let demo = Self { server, db };
        demo.seed(user).await?;
        Ok(demo)
    }

    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    async fn seed(&self, user: &WorkAddress) -> Result<(), String> {
        let store = &self.server.state.store;
        let now = OffsetDateTime::now_utc();
        let name = if user.as_str() == DEMO_USER { "Ada Lovelace" } else { user.as_str().split('@').next().unwrap_or_default() };
        let created = store.create_user(user.as_str(), name, now).await.map_err(|e| format!("the demo user could not be added: {e}"))?;
        let tap = store
            .issue_tap(created.id, now, Duration::minutes(PASS_LIFETIME_MINUTES), true, now)
            .await
            .map_err(|e| format!("the demo pass could not be issued: {e}"))?;
        say(&format!("Demo directory at {} (for this run only).", self.base_url()));
        say(&format!("IT has set up {user} and issued a Temporary Access Pass, valid for {PASS_LIFETIME_MINUTES} minutes, for one sign-in:"));
        // The one place the pass is shown: it is what IT hands over, and the person types it
        // on the sign-in page. This program never reads it back.
        say(&format!("    Temporary Access Pass: {}", tap.pass.as_str()));
        Ok(())
    }

    /// Stops the directory and deletes its database.
    pub async fn finish(self) {
        self.server.stop().await;
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.db.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}
