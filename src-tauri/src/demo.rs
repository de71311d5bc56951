//! `tap2key --demo`: the demo directory in-process on loopback, a demo person with a
//! Temporary Access Pass handed over on screen, and a virtual key when no real one is
//! plugged in. Everything lives as long as the app: the directory's database is a
//! temporary file deleted on exit.

use std::path::PathBuf;

use tap2key_keys::KeyPorts;
use tap2key_server::{Clock, Server, ServerConfig, graph::AttestationPolicy};
use tap2key_virtual_key::{TouchPolicy, VirtualKey, VirtualKeyConfig};
use zeroize::Zeroizing;

use crate::{ipc::DemoInfo, options::DemoSetup};

pub const ACCOUNT: &str = "ada@demo.tap2key.test";

pub struct Demo {
    pub server: Server,
    pass: Zeroizing<String>,
    /// Plugged in when no real key was: touched through the window's button.
    pub virtual_key: Option<VirtualKey>,
    database: PathBuf,
}

impl Demo {
    /// Starts the directory, seeds the demo person, and plugs a virtual key into `ports`
    /// unless a real key is there already.
    pub async fn start(ports: &KeyPorts, setup: &DemoSetup) -> Result<Self, String> {
        let database = std::env::temp_dir().join(format!("tap2key-demo-{}.sqlite3", std::process::id()));
        let mut key_config = VirtualKeyConfig { touch: TouchPolicy::WhenPressed, state_file: setup.demo_key_state.clone(), ..VirtualKeyConfig::default() };
        if let Some(seconds) = setup.demo_touch_timeout {
            key_config.touch_timeout = std::time::Duration::from_secs(seconds.max(1));
        }
        let key = VirtualKey::new(key_config).map_err(|e| format!("the virtual key could not be made: {e}"))?;
        let mut config = ServerConfig::demo(database.clone());
        let model = key.model();
        config.attestation = AttestationPolicy::trust(key.attestation_root_der(), uuid::Uuid::from_bytes(model.aaguid), &model.name);
        let server = Server::start(config, Clock::System).await.map_err(|e| format!("the demo directory could not start: {e}"))?;

        let store = &server.state.store;
        let now = time::OffsetDateTime::now_utc();
        let person = store.create_user(ACCOUNT, "Ada Lovelace", now).await.map_err(|e| format!("the demo person could not be made: {e}"))?;
        // Good for a working day and, unless asked otherwise, for several tries: a demo is
        // for trying things out.
        let tap = store.issue_tap(person.id, now, time::Duration::hours(8), setup.demo_one_time_pass, now).await.map_err(|e| format!("the demo pass could not be issued: {e}"))?;

        let virtual_key = ports.present().is_empty().then(|| {
            ports.plug_in(key.plug_in());
            key
        });
        tracing::info!(virtual_key = virtual_key.is_some(), "demo directory ready");
        Ok(Self { server, pass: tap.pass, virtual_key, database })
    }

    pub fn info(&self) -> DemoInfo {
        DemoInfo { account: ACCOUNT.into(), pass: self.pass.to_string(), virtual_key: self.virtual_key.is_some() }
    }

    /// "Touch" the virtual key.
    pub fn touch(&self) -> bool {
        self.virtual_key.as_ref().map(|key| key.touch().press()).is_some()
    }
}

impl Demo {
    /// Deletes the demo directory's database (it lives as long as the app).
    pub fn remove_database(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.database.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.remove_database();
    }
}
