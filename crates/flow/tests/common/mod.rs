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
use tap2key_flow::{Cleanup, Failure, Intent, Milestone, Onboarding, OnboardingConfig, PinPolicy, SignInMode, Step, WayForward};
use tap2key_keys::{Key, KeyError, KeyLocation, KeyPorts, Pin};
use tap2key_server::{AppState, Clock, Server, ServerConfig, graph::AttestationPolicy, store::User};
use tap2key_virtual_key::{TouchPolicy, VirtualKey, VirtualKeyConfig};
use time::OffsetDateTime;

/// Long enough for a slow CI machine; only reached when something is wrong.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub struct Directory {
    /// `None` once [`Directory::stop`]ped; the store stays readable through `state`.
    server: Option<Server>,
    pub state: AppState,
    pub clock: Clock,
    base_url: String,
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
        let (state, base_url) = (server.state.clone(), server.base_url().to_owned());
        Self { server: Some(server), state, clock, base_url, db }
    }

    pub fn config(&self) -> DirectoryConfig {
        DirectoryConfig::demo(&self.base_url)
    }

    /// The directory goes down (its port closes); its database stays readable.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }

    /// A user with a Temporary Access Pass valid for an hour.
    pub async fn user_with_tap(&self, upn: &str, one_time: bool) -> (User, String) {
        let now = self.clock.now();
        let user = self.state.store.create_user(upn, "Ada Lovelace", now).await.unwrap();
        let tap = self.new_tap(&user, one_time).await;
        (user, tap)
    }

    /// A new pass for `user`, valid for an hour from now; it replaces the one before.
    pub async fn new_tap(&self, user: &User, one_time: bool) -> String {
        let now = self.clock.now();
        let tap = self.state.store.issue_tap(user.id, now, time::Duration::hours(1), one_time, now).await.unwrap();
        tap.pass.to_string()
    }

    pub async fn passkeys(&self, user: &User) -> Vec<tap2key_server::store::Passkey> {
        self.state.store.passkeys(user.id).await.unwrap()
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
    start_flow_at(directory.config(), ports)
}

/// The flow against `config` (e.g. the directory's sign-in with another passkey API).
pub fn start_flow_at(config: DirectoryConfig, ports: &KeyPorts) -> Onboarding {
    Onboarding::start(OnboardingConfig {
        directory: config,
        sign_in: SignInMode::Browser,
        for_user: None,
        ports: ports.clone(),
        pin_policy: PinPolicy::default(),
        watch_interval: Duration::from_millis(20),
    })
}

/// A virtual key with `touch`, and otherwise the defaults.
pub fn key_config(touch: TouchPolicy) -> VirtualKeyConfig {
    VirtualKeyConfig { touch, ..VirtualKeyConfig::default() }
}

/// Sets a PIN on a key that is not plugged into any port yet, the way another tool would.
pub fn set_pin_on(key: &VirtualKey, pin: &str) {
    let mut client = tap2key_keys::virtual_key::open(key.plug_in()).unwrap();
    client.set_pin(&Pin::new(pin, 4).unwrap()).unwrap();
}

/// Tries `pin` on the key in a fresh power cycle (which takes it out of any port).
pub fn try_pin_on(key: &VirtualKey, pin: &str) -> Result<(), KeyError> {
    let mut client = tap2key_keys::virtual_key::open(key.plug_in())?;
    client.verify_pin(&Pin::new(pin, 4).unwrap(), "login.tap2key.test")
}

/// Plays the person at the key: waits until it asks for a touch, then touches it.
pub async fn press(key: &VirtualKey) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !key.touch().is_waiting() {
        assert!(tokio::time::Instant::now() < deadline, "the key never asked for a touch");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    key.touch().press();
}

/// Waits until `condition` holds for something outside the flow (the key's memory after a
/// cleanup the flow does in the background).
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits for a step that satisfies `wanted`; a failure on the way (unless wanted) ends the
/// wait. The failure the flow is at when the wait begins (which an intent just sent, such as
/// Retry, is about to leave) does not count; a new one does.
pub async fn until(flow: &Onboarding, what: &str, wanted: impl Fn(&Step) -> bool) -> Step {
    let (seen, at_failure) = (flow.history().len(), matches!(flow.step(), Step::Failed { .. }));
    let new_failure = |step: &Step| matches!(step, Step::Failed { .. }) && (!at_failure || flow.history().len() > seen);
    match flow.wait_for(PATIENCE, |step| wanted(step) || new_failure(step)).await {
        Ok(step) if wanted(&step) => step,
        Ok(step) | Err(step) => panic!("expected {what}, the flow is at {step:?}; steps so far: {:?}", history(flow)),
    }
}

/// Waits for the flow to fail: what, what was tidied up, and the ways forward.
pub async fn failure(flow: &Onboarding) -> (Failure, Vec<Cleanup>, Vec<WayForward>) {
    match reach(flow, "failed").await {
        Step::Failed { failure, cleanup, ways_forward } => (failure, cleanup, ways_forward),
        _ => unreachable!(),
    }
}

/// The names of the steps entered so far, in order.
pub fn history(flow: &Onboarding) -> Vec<&'static str> {
    flow.history().iter().map(|Milestone { step, .. }| *step).collect()
}

/// Panics unless `expected` appears in `history` in this order (other steps may come between).
pub fn assert_in_order(history: &[&str], expected: &[&str]) {
    let mut rest = history.iter();
    for wanted in expected {
        assert!(rest.any(|step| step == wanted), "{wanted} missing (in order {expected:?}) from {history:?}");
    }
}

/// Waits for the step named `name`, as [`until`] does.
pub async fn reach(flow: &Onboarding, name: &str) -> Step {
    until(flow, name, |step| step.name() == name).await
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
