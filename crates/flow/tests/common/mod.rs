//! The whole onboarding, headless: the demo directory on loopback over a real SQLite file,
//! virtual keys plugged into key ports, the flow's driver, and a "person" who types the
//! Temporary Access Pass into the directory's sign-in page and the PIN into the flow.
//! Every test's log goes into one buffer that the test scans for its own secrets.

#![allow(dead_code)]

use std::{
    io::Write,
    path::PathBuf,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use tap2key_directory::{DirectoryConfig, testing::type_tap};
use tap2key_flow::{Intent, Onboarding, OnboardingConfig, PinPolicy, SignInMode, Step};
use tap2key_keys::{KeyLocation, KeyPorts};
use tap2key_server::{Clock, Server, ServerConfig, graph::AttestationPolicy, store::User};
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig};
use time::OffsetDateTime;

/// Long enough for a slow CI machine; only reached when something is wrong.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub struct Directory {
    pub server: Server,
    pub clock: Clock,
    db: PathBuf,
}

impl Directory {
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, |_| {}).await
    }

    /// The demo directory, trusting the virtual key's model, adjusted by `configure`.
    pub async fn start_with(name: &str, configure: impl FnOnce(&mut ServerConfig)) -> Self {
        logs();
        let db = std::env::temp_dir().join(format!("tap2key-flow-{name}-{}-{}.sqlite3", std::process::id(), rand_u32()));
        // A manual clock that starts at the real time: tokens are checked by both sides.
        let clock = Clock::manual(OffsetDateTime::now_utc());
        let mut config = ServerConfig::demo(db.clone());
        let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
        let model = key.model();
        config.attestation = AttestationPolicy::trust(key.attestation_root_der(), uuid::Uuid::from_bytes(model.aaguid), &model.name);
        configure(&mut config);
        let server = Server::start(config, clock.clone()).await.unwrap();
        Self { server, clock, db }
    }

    pub fn config(&self) -> DirectoryConfig {
        DirectoryConfig::demo(self.server.base_url())
    }

    /// A user with a Temporary Access Pass valid for an hour.
    pub async fn user_with_tap(&self, upn: &str, one_time: bool) -> (User, String) {
        let store = &self.server.state.store;
        let now = self.clock.now();
        let user = store.create_user(upn, "Ada Lovelace", now).await.unwrap();
        let tap = store.issue_tap(user.id, now, time::Duration::hours(1), one_time, now).await.unwrap();
        (user, tap.pass.to_string())
    }

    pub async fn passkeys(&self, user: &User) -> Vec<tap2key_server::store::Passkey> {
        self.server.state.store.passkeys(user.id).await.unwrap()
    }
}

impl Drop for Directory {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.db.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}

/// A virtual key with its own config, plugged into `ports`.
pub fn plug_in(ports: &KeyPorts, config: VirtualKeyConfig) -> (VirtualKey, KeyLocation) {
    let key = VirtualKey::new(config).unwrap();
    let location = ports.plug_in(key.plug_in());
    (key, location)
}

pub fn start_flow(directory: &Directory, ports: &KeyPorts) -> Onboarding {
    Onboarding::start(OnboardingConfig {
        directory: directory.config(),
        sign_in: SignInMode::Browser,
        for_user: None,
        ports: ports.clone(),
        pin_policy: PinPolicy::default(),
        watch_interval: Duration::from_millis(20),
    })
}

pub async fn reach(flow: &Onboarding, name: &str) -> Step {
    match flow.wait_for(PATIENCE, |step| step.name() == name || step.name() == "failed" && name != "failed").await {
        Ok(step) if step.name() == name => step,
        Ok(step) | Err(step) => panic!("expected {name}, the flow is at {step:?}"),
    }
}

/// Address, sign-in page, pass: up to the flow's search for a key.
pub async fn sign_in(flow: &Onboarding, upn: &str, tap: &str) {
    flow.send(Intent::SubmitWorkAddress { address: upn.into() });
    reach(flow, "readyToSignIn").await;
    flow.send(Intent::SignIn);
    let url = match flow.wait_for(PATIENCE, |step| matches!(step, Step::SigningIn { url: Some(_), .. })).await {
        Ok(Step::SigningIn { url: Some(url), .. }) => url,
        other => panic!("no sign-in page: {other:?}"),
    };
    let http = reqwest::Client::new();
    type_tap(&http, &url.parse().unwrap(), upn, tap).await.expect("the sign-in page takes the pass");
}

pub fn choose_pin(pin: &str) -> Intent {
    Intent::ChoosePin { pin: pin.into(), again: pin.into() }
}

pub fn enter_pin(pin: &str) -> Intent {
    Intent::EnterPin { pin: pin.into() }
}

/// Everything every test logged, at every level of our crates.
pub fn logs() -> Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER
        .get_or_init(|| {
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let writer = LogWriter(buffer.clone());
            let _ = tracing_subscriber::fmt()
                .with_env_filter("trace,hyper=info,hyper_util=info,reqwest=debug,sqlx=info,h2=info,rustls=info")
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .try_init();
            buffer
        })
        .clone()
}

/// Panics if any of `secrets` appears in the logs so far.
pub fn assert_no_secret_logged(secrets: &[&str]) {
    let logs = logs();
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(!text.is_empty(), "the logs were captured");
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(!text.contains(secret), "a secret appeared in the logs");
    }
}

#[derive(Clone)]
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
