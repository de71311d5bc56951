//! For the tests: a tenant's key list served on a loopback port, keys to sign with, and an
//! Entra v2 access token's claims.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use p256::{SecretKey, elliptic_curve::Generate, pkcs8::EncodePrivateKey};
use reqwest::Url;
use serde_json::{Value, json};
use time::{OffsetDateTime, macros::datetime};

/// A throwaway 2048-bit RSA key (the one the directory crate's tests use); Entra signs
/// with RS256.
const RSA_TEST_KEY: &str = include_str!("rsa_test_key.pem");

pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const BROKER_APP_ID_URI: &str = "api://tap2key-broker";
pub const BROKER_CLIENT_ID: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
pub const DESKTOP_CLIENT_ID: &str = "0f5ac3f1-9d3a-4e8e-b1a5-6a0b0c52d3a1";
pub const OID: &str = "3f2c7a9e-5b1d-4c8e-9f10-2a3b4c5d6e7f";

/// The tests' fixed "now".
pub fn t0() -> OffsetDateTime {
    datetime!(2026-03-02 09:30 UTC)
}

/// A signing key with its `kid` and its public half as a JWK.
pub struct Signer {
    alg: Algorithm,
    key: EncodingKey,
    kid: String,
}

impl Signer {
    pub fn rsa(kid: &str) -> Self {
        Self { alg: Algorithm::RS256, key: EncodingKey::from_rsa_pem(RSA_TEST_KEY.as_bytes()).unwrap(), kid: kid.into() }
    }

    /// A fresh P-256 key (the demo directory's kind).
    pub fn ec(kid: &str) -> Self {
        let der = SecretKey::generate().to_pkcs8_der().unwrap();
        Self { alg: Algorithm::ES256, key: EncodingKey::from_ec_der(der.as_bytes()), kid: kid.into() }
    }

    /// As Entra lists it: no `alg`, `use: sig`, and members jsonwebtoken does not know.
    pub fn jwk(&self) -> Value {
        let mut jwk = serde_json::to_value(Jwk::from_encoding_key(&self.key, self.alg).unwrap()).unwrap();
        let members = jwk.as_object_mut().unwrap();
        members.remove("alg");
        members.insert("kid".into(), json!(self.kid));
        members.insert("use".into(), json!("sig"));
        members.insert("x5t".into(), json!(self.kid));
        members.insert("issuer".into(), json!(format!("https://login.microsoftonline.com/{TENANT}/v2.0")));
        members.insert("cloud_instance_name".into(), json!("microsoftonline.com"));
        jwk
    }

    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.typ = Some("JWT".into());
        header.kid = Some(self.kid.clone());
        self.sign_with(&header, claims)
    }

    pub fn sign_with(&self, header: &Header, claims: &Value) -> String {
        jsonwebtoken::encode(header, claims, &self.key).unwrap()
    }
}

/// What an Entra v2 access token for the broker carries, signed in at `now` (with the
/// `auth_time` optional claim configured), including claims the check ignores.
pub fn entra_claims(now: OffsetDateTime) -> Value {
    let now = now.unix_timestamp();
    json!({
        "aud": BROKER_CLIENT_ID,
        "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        "iat": now, "nbf": now, "exp": now + 4299, "auth_time": now,
        "aio": "AXQAi/8TAAAA2TksqnNN5n9k3Lq0o6r4uJg8FXr8T5Zd5pN6eJ0KqRw=",
        "azp": DESKTOP_CLIENT_ID, "azpacr": "0",
        "name": "Ada Lovelace", "oid": OID, "preferred_username": "ada@contoso.com",
        "rh": "0.AXEAv4j5cvGGr0GRqy180BHbR-8h9mHqvX1Br3cAeuN9OSVxAOs.",
        "scp": "User.Read Passkeys.Register", "sid": "00214b3f-5b6f-0c1e-2d3a-4b5c6d7e8f90",
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "tid": TENANT,
        "uti": "AbCdEf123456", "ver": "2.0", "xms_ftd": "abc", "xms_idrel": "1 24",
    })
}

/// A tenant's `discovery/v2.0/keys` on 127.0.0.1, counting every request.
pub struct KeyServer {
    url: Url,
    state: Arc<Served>,
}

struct Served {
    keys: Mutex<Vec<Value>>,
    failing: AtomicBool,
    hits: AtomicUsize,
}

impl KeyServer {
    pub async fn start(keys: Vec<Value>) -> Self {
        let state = Arc::new(Served { keys: Mutex::new(keys), failing: AtomicBool::new(false), hits: AtomicUsize::new(0) });
        let app = Router::new().route("/{tenant}/discovery/v2.0/keys", get(serve)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/{TENANT}/discovery/v2.0/keys", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, state }
    }

    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// Rotates the published keys.
    pub fn set_keys(&self, keys: Vec<Value>) {
        *self.state.keys.lock().unwrap() = keys;
    }

    /// Answers 500 while set.
    pub fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }
}

async fn serve(State(state): State<Arc<Served>>) -> axum::response::Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    if state.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let keys = state.keys.lock().unwrap().clone();
    Json(json!({"keys": keys})).into_response()
}
