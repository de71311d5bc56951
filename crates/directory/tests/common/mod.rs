//! The demo directory on a random loopback port over a real SQLite file, signed into with
//! the real client (the person typing the pass is `testing::type_tap`), and the virtual
//! key as the security key.

#![allow(dead_code)]

use std::path::PathBuf;

use tap2key_directory::{DirectoryConfig, DirectoryError, Graph, PasskeyApi, SignIn, Tokens, testing::type_tap};
use tap2key_keys::{
    Assertion, CancelToken, Key, KeyError, NewCredential, Pin,
    client::CtapClient,
    virtual_key::{self, VirtualTransport},
};
use tap2key_server::{Clock, Server, ServerConfig, graph::AttestationPolicy, store::User};
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig};
use time::{Duration, OffsetDateTime};

pub struct Demo {
    pub server: Server,
    pub clock: Clock,
    pub http: reqwest::Client,
    pub config: DirectoryConfig,
    /// When the directory's clock started: now, so ID tokens are current by this
    /// computer's clock too.
    pub start: OffsetDateTime,
    _db: DatabaseFile,
}

/// The SQLite file, removed when the test is done.
struct DatabaseFile(PathBuf);

impl Demo {
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, trust_the_virtual_key).await
    }

    /// A directory whose demo configuration `configure` adjusts first.
    pub async fn start_with(name: &str, configure: impl FnOnce(&mut ServerConfig)) -> Self {
        let db = std::env::temp_dir().join(format!("tap2key-directory-{name}-{}-{}.sqlite3", std::process::id(), rand_suffix()));
        let start = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let clock = Clock::manual(start);
        let mut config = ServerConfig::demo(db.clone());
        configure(&mut config);
        let server = Server::start(config, clock.clone()).await.unwrap();
        let config = DirectoryConfig::demo(server.base_url());
        Self { server, clock, http: reqwest::Client::new(), config, start, _db: DatabaseFile(db) }
    }

    /// A user with a pass valid for an hour from the directory's now.
    pub async fn user_with_tap(&self, upn: &str, one_time: bool) -> (User, String) {
        let store = &self.server.state.store;
        let user = store.create_user(upn, "Ada Lovelace", self.start).await.unwrap();
        let tap = store.issue_tap(user.id, self.clock.now(), Duration::hours(1), one_time, self.clock.now()).await.unwrap();
        (user, tap.pass.to_string())
    }

    /// A whole sign-in: begin, the person types the pass, finish. The typing's outcome
    /// (the page's notice, if it came back) and the sign-in's.
    pub async fn sign_in_typing(&self, upn: &str, pass: &str) -> (Result<(), String>, Result<Tokens, DirectoryError>) {
        let sign_in = SignIn::begin(&self.config, &self.http, upn).await.unwrap();
        let url = sign_in.authorize_url().clone();
        let typing = type_tap(&self.http, &url, upn, pass);
        tokio::join!(typing, sign_in.finish())
    }

    pub async fn sign_in(&self, upn: &str, pass: &str) -> Tokens {
        let (typed, tokens) = self.sign_in_typing(upn, pass).await;
        typed.unwrap();
        tokens.unwrap()
    }

    /// A signed-in Ada with her Graph.
    pub async fn ada(&self) -> Graph {
        let (_, pass) = self.user_with_tap("ada@contoso.com", true).await;
        let tokens = self.sign_in("ada@contoso.com", &pass).await;
        Graph::me(&self.config, self.http.clone(), tokens.access_token)
    }
}

impl Demo {
    /// A signed-in Ada with Graph in direct mode: the demo directory's Graph-shaped API,
    /// with the test sign-in checked by the client (as with Microsoft Graph itself).
    pub async fn ada_direct(&self) -> Graph {
        let (_, pass) = self.user_with_tap("ada@contoso.com", true).await;
        let tokens = self.sign_in("ada@contoso.com", &pass).await;
        Graph::me(&self.direct_config(), self.http.clone(), tokens.access_token)
    }

    /// This directory, its passkey API taken as Microsoft Graph's (no test sign-in).
    pub fn direct_config(&self) -> DirectoryConfig {
        DirectoryConfig { api: PasskeyApi::GraphDirect, ..self.config.clone() }
    }
}

/// `app` on a random loopback port: its base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

impl Drop for DatabaseFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// The demo policy: the virtual key's CA, for the virtual key's model only.
pub fn trust_the_virtual_key(config: &mut ServerConfig) {
    let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
    let model = key.model();
    config.attestation = AttestationPolicy::trust(key.attestation_root_der(), uuid_of(model.aaguid), &model.name);
}

pub fn uuid_of(bytes: [u8; 16]) -> uuid::Uuid {
    uuid::Uuid::from_bytes(bytes)
}

/// A virtual security key with its PIN set, reached through the real CTAP client.
pub struct SecurityKey {
    pub key: VirtualKey,
    pub client: CtapClient<VirtualTransport>,
    pub pin: Pin,
}

impl SecurityKey {
    pub fn new() -> Self {
        let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
        let mut client = virtual_key::open(key.plug_in()).unwrap();
        let pin = Pin::new("1234", 4).unwrap();
        client.set_pin(&pin).unwrap();
        Self { key, client, pin }
    }

    /// PIN checked first (as the flow does on its PIN screen), then makeCredential.
    pub fn make_credential(&mut self, options: &tap2key_directory::CreationOptions) -> Result<NewCredential, KeyError> {
        self.client.verify_pin(&self.pin, &options.rp_id)?;
        self.client.make_credential(&options.make_credential_request(), Some(&self.pin), &mut |_| {}, &CancelToken::new())
    }

    pub fn get_assertion(&mut self, options: &tap2key_directory::TestSignInOptions) -> Assertion {
        self.client.get_assertion(&options.get_assertion_request(), Some(&self.pin), &mut |_| {}, &CancelToken::new()).unwrap()
    }
}
