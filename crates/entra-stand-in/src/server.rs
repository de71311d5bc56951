//! The running stand-in: one axum server on a random loopback port playing both
//! `login.microsoftonline.com` (at `/`) and `graph.microsoft.com` (at `/graph/`), and the
//! handle tests use to fill the directory, turn knobs and read the journal.

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::Value;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use url::Url;
use uuid::Uuid;
use webauthn_rs_core::WebauthnCore;

use crate::{
    authorize,
    clock::Clock,
    config::{Fault, Fido2Policy, Route, StandInConfig},
    discovery, graph,
    journal::{self, Recorded},
    keys::{BrokerCertificate, SigningKey},
    state::{Shared, Tap, User},
    token_endpoint,
};

/// A running stand-in; it stops when dropped.
pub struct StandIn {
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl StandIn {
    /// Binds `127.0.0.1:0` and serves until dropped.
    ///
    /// # Panics
    /// If no loopback port can be bound (a test environment problem).
    pub async fn start(config: StandInConfig) -> StandIn {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a loopback port for the Entra stand-in");
        let port = listener.local_addr().expect("the stand-in's port").port();
        let authority = Url::parse(&format!("http://127.0.0.1:{port}/")).expect("a loopback URL");
        let origin = Url::parse("https://login.microsoft.com").expect("Entra's WebAuthn origin");
        let relying_party = WebauthnCore::new_unsafe_experts_only(
            "Microsoft",
            "login.microsoft.com",
            vec![origin],
            std::time::Duration::from_secs(300),
            Some(false),
            Some(false),
        );
        let shared = Arc::new(Shared::new(
            config,
            Clock::starting_now(),
            authority,
            SigningKey::fixed(),
            relying_party,
        ));
        let app = Router::new()
            .route(
                "/{tenant}/v2.0/.well-known/openid-configuration",
                get(discovery::openid_configuration),
            )
            .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
            .route(
                "/{tenant}/oauth2/v2.0/authorize",
                get(authorize::show).post(authorize::submit),
            )
            .route("/{tenant}/oauth2/v2.0/token", post(token_endpoint::token))
            .fallback(fallback)
            .layer(middleware::from_fn_with_state(
                shared.clone(),
                journal::record,
            ))
            .with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        StandIn {
            shared,
            stop: Some(stop),
            task,
        }
    }

    /// `http://127.0.0.1:PORT/`: plays `https://login.microsoftonline.com/`.
    pub fn authority(&self) -> Url {
        self.shared.authority.clone()
    }

    /// `http://127.0.0.1:PORT/graph/`: plays `https://graph.microsoft.com/` (versions below it).
    pub fn graph(&self) -> Url {
        self.shared
            .authority
            .join("graph/")
            .unwrap_or_else(|_| self.shared.authority.clone())
    }

    /// `{authority}{tid}/v2.0`: the `iss` of user access tokens and ID tokens.
    pub fn issuer(&self) -> String {
        self.shared.issuer()
    }

    /// `{authority}{tid}/discovery/v2.0/keys`
    pub fn jwks_url(&self) -> Url {
        self.tenant_url("discovery/v2.0/keys")
    }

    /// `{authority}{tid}/oauth2/v2.0/token`: also the `aud` a client assertion must carry.
    pub fn token_url(&self) -> Url {
        self.tenant_url("oauth2/v2.0/token")
    }

    fn tenant_url(&self, path: &str) -> Url {
        self.shared
            .authority
            .join(&format!("{}/{path}", self.shared.config.tenant_id))
            .unwrap_or_else(|_| self.shared.authority.clone())
    }

    pub fn config(&self) -> &StandInConfig {
        &self.shared.config
    }

    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// A user in the directory; returns the object id.
    pub fn add_user(&self, upn: &str, display_name: &str) -> Uuid {
        let oid = Uuid::new_v4();
        self.shared.lock().users.push(User {
            oid,
            upn: upn.to_owned(),
            display_name: display_name.to_owned(),
        });
        oid
    }

    /// A Temporary Access Pass valid from now for `lifetime` (a user has at most one: this
    /// replaces any other). Returns the pass.
    pub fn issue_tap(&self, user: Uuid, lifetime: time::Duration, one_time: bool) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789@#$%&";
        let pass: String = (0..12)
            .map(|_| ALPHABET[usize::from(rand::random::<u8>()) % ALPHABET.len()] as char)
            .collect();
        let expires = self.shared.now() + lifetime;
        self.shared.lock().taps.insert(
            user,
            Tap {
                pass: pass.clone(),
                expires,
                one_time,
                used: false,
            },
        );
        pass
    }

    /// The user's passkeys as Graph lists them.
    pub fn fido2_methods(&self, user: Uuid) -> Vec<Value> {
        self.shared
            .lock()
            .methods
            .iter()
            .filter(|m| m.user == user)
            .map(graph::method_json)
            .collect()
    }

    /// Registers a certificate on the broker's app registration.
    ///
    /// # Panics
    /// If `cert_der` is not an X.509 certificate.
    pub fn register_certificate(&self, cert_der: &[u8]) {
        let certificate = BrokerCertificate::from_der(cert_der)
            .expect("register_certificate takes a DER X.509 certificate");
        self.shared.lock().certificates.push(certificate);
    }

    pub fn register_secret(&self, secret: &str) {
        self.shared.lock().secrets.push(secret.to_owned());
    }

    /// Whether the broker has `UserAuthMethod-Passkey.ReadWrite.All` with admin consent
    /// (default true). Applies to app tokens issued from now on.
    pub fn grant_graph_permission(&self, granted: bool) {
        self.shared.lock().graph_permission = granted;
    }

    pub fn set_fido2_policy(&self, policy: Fido2Policy) {
        self.shared.lock().policy = policy;
    }

    /// The next `times` requests on `route` fail with `fault`, before anything else.
    pub fn fail_next(&self, route: Route, times: usize, fault: Fault) {
        if times > 0 {
            self.shared.lock().faults.push((route, times, fault));
        }
    }

    /// Every app token issued so far answers 401 at Graph from now on.
    pub fn expire_app_tokens(&self) {
        let mut inner = self.shared.lock();
        let issued = std::mem::take(&mut inner.app_token_utis);
        inner.revoked_utis.extend(issued);
    }

    /// New tokens are signed with the other key (another `kid`); the JWKS lists both.
    pub fn rotate_signing_key(&self) {
        let mut inner = self.shared.lock();
        inner.active_key = 1 - inner.active_key;
        let active = inner.active_key;
        inner.published_keys[active] = true;
    }

    /// Every request to Graph and the token endpoint, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().journal.clone()
    }

    /// Contract breaches seen; tests assert this is empty.
    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }

    /// Forgets the journal and the violations.
    pub fn clear_journal(&self) {
        let mut inner = self.shared.lock();
        inner.journal.clear();
        inner.violations.clear();
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

async fn fallback(
    state: State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if uri.path().starts_with("/graph/") {
        return graph::dispatch(state, method, uri, headers, body).await;
    }
    (StatusCode::NOT_FOUND, "not found").into_response()
}
