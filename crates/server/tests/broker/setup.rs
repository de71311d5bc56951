//! The broker between the app and a stand-in for Entra ID and Graph: the stand-in on one
//! loopback port (its sign-in page, token endpoint, JWKS and Graph), this service in broker
//! mode on another (its own SQLite file), and the app's directory client signed in at the
//! stand-in with a Temporary Access Pass for the broker's scope. The security key is the
//! virtual key through the real CTAP client.

#![allow(dead_code)]

use std::{
    path::PathBuf,
    sync::{Arc, Mutex, OnceLock},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::Url;
use tap2key_directory::{AccessToken, DirectoryConfig, Graph, SignIn, testing::type_tap};
use tap2key_entra_stand_in::{StandIn, StandInConfig};
use tap2key_keys::{
    Assertion, CancelToken, Key, KeyError, NewCredential, Pin,
    client::CtapClient,
    virtual_key::{self, VirtualTransport},
};
use tap2key_server::{
    Clock, Server, ServerConfig,
    entra::{BrokerConfig, GraphCredential},
    graph::AttestationPolicy,
};
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig};
use uuid::Uuid;

pub const KEY_PEM: &str = include_str!("../../src/entra/rsa_test_key.pem");
pub const CERT_PEM: &str = include_str!("../../src/entra/rsa_test_cert.pem");
pub const SCOPE: &str = "api://tap2key-broker/Passkeys.Register";

pub struct Entra {
    pub stand_in: StandIn,
    pub broker: Server,
    /// The broker's clock: it starts at the stand-in's and is moved with it.
    pub clock: Clock,
    pub http: reqwest::Client,
    /// The app's view: the stand-in signs in, the broker serves the passkey API.
    pub app: DirectoryConfig,
    db: PathBuf,
}

impl Entra {
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, |_| {}).await
    }

    /// The broker trusting the virtual key's model, adjusted by `configure`.
    pub async fn start_with(name: &str, configure: impl FnOnce(&mut ServerConfig)) -> Self {
        logs();
        let stand_in = StandIn::start(StandInConfig::default()).await;
        stand_in.register_certificate(&pem_der(CERT_PEM));
        let credential = GraphCredential::Certificate { private_key_pem: KEY_PEM.to_owned().into(), certificate_der: pem_der(CERT_PEM) };
        let settings = stand_in.config();
        let mut broker = BrokerConfig::new(
            &settings.tenant_id.to_string(),
            &settings.broker_client_id.to_string(),
            &settings.broker_scope,
            vec![settings.desktop_client_id.to_string()],
            credential,
        );
        broker.authority = stand_in.authority();
        broker.graph = stand_in.graph();
        broker.graph_resource = Some(tap2key_server::entra::PUBLIC_CLOUD_GRAPH.into());
        broker.app_id_uri = Some(settings.broker_app_id_uri.clone());

        let db = std::env::temp_dir().join(format!("tap2key-broker-{name}-{}-{}.sqlite3", std::process::id(), rand::random::<u32>()));
        let mut config = ServerConfig::demo(db.clone());
        config.broker = Some(broker);
        trust_the_virtual_key(&mut config);
        configure(&mut config);
        let clock = Clock::manual(stand_in.clock().now());
        let server = Server::start(config, clock.clone()).await.unwrap();
        let app = DirectoryConfig::entra_broker(
            stand_in.authority(),
            &settings.tenant_domain,
            settings.desktop_client_id.to_string(),
            Url::parse(server.base_url()).unwrap(),
            format!("{}/{}", settings.broker_app_id_uri, settings.broker_scope),
        );
        Self { stand_in, broker: server, clock, http: reqwest::Client::new(), app, db }
    }

    /// Both clocks forward.
    pub fn advance(&self, by: time::Duration) {
        self.stand_in.clock().advance(by);
        self.clock.advance(by);
    }

    /// Ada, with a one-time pass, signed in through the stand-in's page: her object id and
    /// the passkey API as the app reaches it.
    pub async fn ada(&self) -> (Uuid, Graph) {
        let oid = self.stand_in.add_user("ada@contoso.test", "Ada Lovelace");
        let pass = self.stand_in.issue_tap(oid, time::Duration::hours(1), true);
        let graph = self.sign_in("ada@contoso.test", &pass).await;
        (oid, graph)
    }

    pub async fn sign_in(&self, upn: &str, pass: &str) -> Graph {
        Graph::me(&self.app, self.http.clone(), self.access_token(upn, pass).await)
    }

    /// The app's sign-in at the stand-in, the pass typed on its page: the broker's token.
    pub async fn access_token(&self, upn: &str, pass: &str) -> AccessToken {
        let sign_in = SignIn::begin(&self.app, &self.http, upn).await.unwrap();
        let url = sign_in.authorize_url().clone();
        let (typed, tokens) = tokio::join!(type_tap(&self.http, &url, upn, pass), sign_in.finish());
        typed.unwrap();
        tokens.unwrap().access_token
    }

    /// The Graph requests the broker made, as `METHOD path`, without the token endpoint's.
    pub fn graph_calls(&self) -> Vec<String> {
        self.stand_in.requests().iter().filter(|r| r.path.contains("/graph/")).map(|r| format!("{} {}", r.method, r.path)).collect()
    }

    pub fn token_requests(&self) -> usize {
        self.stand_in.requests().iter().filter(|r| r.path.ends_with("/oauth2/v2.0/token") && r.body.as_ref().is_some_and(|b| b["grant_type"] == "client_credentials")).count()
    }

    pub async fn audit(&self) -> Vec<(String, String)> {
        let trail = self.broker.state.store.audit_trail(None, 100).await.unwrap();
        trail.into_iter().rev().map(|event| (format!("{:?}", event.action), event.outcome)).collect()
    }
}

impl Drop for Entra {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.db.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Everything logged in this test binary, at every level of our crates (the stand-in,
/// which plays Microsoft's side, excepted): for tests that scan it for secrets. Also
/// printed, so a failing test shows it. webauthn-rs stays at info, as main.rs keeps it.
pub fn logs() -> Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER
        .get_or_init(|| {
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let writer = LogWriter(buffer.clone());
            let _ = tracing_subscriber::fmt()
                .with_env_filter("trace,tap2key_entra_stand_in=off,webauthn_rs_core=info,hyper=info,hyper_util=info,reqwest=debug,sqlx=info,h2=info,rustls=info,tower=info")
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .try_init();
            buffer
        })
        .clone()
}

#[derive(Clone)]
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        print!("{}", String::from_utf8_lossy(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

pub fn trust_the_virtual_key(config: &mut ServerConfig) {
    let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
    let model = key.model();
    config.attestation = AttestationPolicy::trust(key.attestation_root_der(), Uuid::from_bytes(model.aaguid), &model.name);
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

    pub fn make_credential(&mut self, options: &tap2key_directory::CreationOptions) -> Result<NewCredential, KeyError> {
        self.client.verify_pin(&self.pin, &options.rp_id)?;
        self.client.make_credential(&options.make_credential_request(), Some(&self.pin), &mut |_| {}, &CancelToken::new())
    }

    pub fn get_assertion(&mut self, options: &tap2key_directory::TestSignInOptions) -> Assertion {
        self.client.get_assertion(&options.get_assertion_request(), Some(&self.pin), &mut |_| {}, &CancelToken::new()).unwrap()
    }
}
