//! A demo directory on a random loopback port over a real SQLite file, a client that walks
//! the sign-in the way the desktop app will, and a browser whose security key is the virtual
//! key (Graph's options become CTAP2 requests through the client, the key's answers become
//! the JSON Graph takes).

#![allow(dead_code)]

use std::path::PathBuf;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tap2key_keys::{
    CancelToken, GetAssertionRequest, Key, KeyError, MakeCredentialRequest, Pin,
    client::CtapClient,
    virtual_key::{self, VirtualTransport},
};
use tap2key_server::{Clock, DESKTOP_CLIENT_ID, Server, ServerConfig, graph::AttestationPolicy, store::User};
use tap2key_virtual_key::{KeyModel, VirtualKey, VirtualKeyConfig};
use time::{Duration, OffsetDateTime, macros::datetime};
use uuid::Uuid;

pub const REDIRECT: &str = "http://localhost:53117/callback";
pub const NOW: OffsetDateTime = datetime!(2026-11-22 09:00 UTC);
/// The WebAuthn origin of the demo directory's relying party.
pub const ORIGIN: &str = "https://login.tap2key.test";
/// The signed-in user's passkeys in the Graph-shaped API.
pub const ME: &str = "/me/authentication/fido2Methods";

pub struct Directory {
    pub server: Server,
    pub clock: Clock,
    pub http: reqwest::Client,
    db: PathBuf,
}

impl Directory {
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, |_| {}).await
    }

    /// A directory whose demo configuration `configure` adjusts first.
    pub async fn start_with(name: &str, configure: impl FnOnce(&mut ServerConfig)) -> Self {
        let db = std::env::temp_dir().join(format!("tap2key-{name}-{}-{}.sqlite3", std::process::id(), rand::random::<u32>()));
        let clock = Clock::manual(NOW);
        let mut config = ServerConfig::demo(db.clone());
        configure(&mut config);
        let server = Server::start(config, clock.clone()).await.unwrap();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { server, clock, http, db }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/demo{path}", self.server.base_url())
    }

    pub async fn user_with_tap(&self, upn: &str, one_time: bool) -> (User, String) {
        let store = &self.server.state.store;
        let user = store.create_user(upn, "Ada Lovelace", NOW).await.unwrap();
        let tap = store.issue_tap(user.id, NOW, Duration::hours(1), one_time, NOW).await.unwrap();
        (user, tap.pass.to_string())
    }

    pub fn scope(&self) -> String {
        format!("openid profile {}", self.server.state.config.full_scope())
    }

    /// The authorize parameters a well-behaved client sends, with its PKCE verifier.
    pub fn authorize_params(&self, upn: &str) -> (Vec<(&'static str, String)>, String) {
        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let params = vec![
            ("client_id", DESKTOP_CLIENT_ID.to_owned()),
            ("response_type", "code".into()),
            ("redirect_uri", REDIRECT.into()),
            ("scope", self.scope()),
            ("state", "s-123".into()),
            ("nonce", "n-456".into()),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256".into()),
            ("login_hint", upn.into()),
            ("prompt", "login".into()),
        ];
        (params, verifier)
    }

    /// Posts the sign-in form as a person would after the page loaded.
    pub async fn submit(&self, params: &[(&'static str, String)], username: &str, pass: &str) -> reqwest::Response {
        let mut form = params.to_vec();
        form.push(("username", username.into()));
        form.push(("pass", pass.into()));
        self.http.post(self.url("/oauth2/v2.0/authorize")).form(&form).send().await.unwrap()
    }

    pub async fn redeem(&self, code: &str, verifier: &str) -> reqwest::Response {
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", DESKTOP_CLIENT_ID),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ];
        self.http.post(self.url("/oauth2/v2.0/token")).form(&form).send().await.unwrap()
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

/// The query parameters of a redirect's Location.
pub fn redirect_query(response: &reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), 302, "expected a redirect");
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

pub fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------------------

/// The demo policy: the virtual key's CA, for the virtual key's model only.
pub fn trust_the_virtual_key(config: &mut tap2key_server::ServerConfig) {
    let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
    let model = key.model();
    config.attestation = AttestationPolicy::trust(key.attestation_root_der(), Uuid::from_bytes(model.aaguid), &model.name);
}

pub struct Browser {
    pub key: VirtualKey,
    pub client: CtapClient<VirtualTransport>,
    pub pin: Pin,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self::with_model(KeyModel::tap2key_virtual())
    }

    pub fn with_model(model: KeyModel) -> Self {
        Self::with_config(VirtualKeyConfig { model, ..VirtualKeyConfig::default() })
    }

    /// A browser with a fresh key made from `config`, its PIN set to 1234.
    pub fn with_config(config: VirtualKeyConfig) -> Self {
        let key = VirtualKey::new(config).unwrap();
        let mut client = virtual_key::open(key.plug_in()).unwrap();
        let pin = Pin::new("1234", 4).unwrap();
        client.set_pin(&pin).unwrap();
        Self { key, client, pin }
    }

    /// `navigator.credentials.create()` with Graph's creationOptions, answered as the POST
    /// body Graph takes.
    pub fn create(&mut self, options: &Value, origin: &str) -> Result<Value, KeyError> {
        let public_key = &options["publicKey"];
        let challenge = b64(&public_key["challenge"]);
        let client_data_json = client_data_json("webauthn.create", &challenge, origin);
        let cred_protect = match public_key["extensions"]["credentialProtectionPolicy"].as_str() {
            Some("userVerificationOptional") => Some(1),
            Some("userVerificationOptionalWithCredentialIDList") => Some(2),
            Some("userVerificationRequired") => Some(3),
            _ => None,
        };
        let request = MakeCredentialRequest {
            client_data_json: client_data_json.clone(),
            rp_id: text(&public_key["rp"]["id"]),
            rp_name: Some(text(&public_key["rp"]["name"])),
            user_id: b64(&public_key["user"]["id"]),
            user_name: text(&public_key["user"]["name"]),
            user_display_name: text(&public_key["user"]["displayName"]),
            exclude_list: public_key["excludeCredentials"].as_array().unwrap().iter().map(|c| b64(&c["id"])).collect(),
            resident_key: public_key["authenticatorSelection"]["requireResidentKey"] == true,
            hmac_secret: public_key["extensions"]["hmacCreateSecret"] == true,
            cred_protect,
        };
        let made = self.client.make_credential(&request, Some(&self.pin), &mut |_| {}, &CancelToken::new())?;
        Ok(json!({
            "displayName": "Ada's YubiKey",
            "publicKeyCredential": {
                "id": URL_SAFE_NO_PAD.encode(&made.credential_id),
                "response": {
                    "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data_json),
                    "attestationObject": URL_SAFE_NO_PAD.encode(&made.attestation_object),
                },
                "clientExtensionResults": {},
            },
        }))
    }

    /// `navigator.credentials.get()` with test sign-in options, answered as `finish` takes it.
    pub fn get(&mut self, options: &Value, origin: &str, encode: fn(&[u8]) -> String) -> Value {
        let challenge = b64(&options["challenge"]);
        let client_data_json = client_data_json("webauthn.get", &challenge, origin);
        let request = GetAssertionRequest {
            client_data_json: client_data_json.clone(),
            rp_id: text(&options["rpId"]),
            allow_list: options["allowCredentials"].as_array().unwrap().iter().map(|c| b64(&c["id"])).collect(),
        };
        let assertion = self.client.get_assertion(&request, Some(&self.pin), &mut |_| {}, &CancelToken::new()).unwrap();
        json!({
            "id": encode(&assertion.credential_id),
            "rawId": URL_SAFE_NO_PAD.encode(&assertion.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data_json),
                "authenticatorData": URL_SAFE_NO_PAD.encode(&assertion.authenticator_data),
                "signature": URL_SAFE_NO_PAD.encode(&assertion.signature),
                "userHandle": assertion.user_handle.as_deref().map(|h| URL_SAFE_NO_PAD.encode(h)),
            },
            "clientExtensionResults": {},
        })
    }
}

/// clientDataJSON byte for byte as Entra accepts it.
pub fn client_data_json(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
    let challenge = URL_SAFE_NO_PAD.encode(challenge);
    format!(r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{origin}","crossOrigin":false}}"#).into_bytes()
}

pub fn b64(value: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(value.as_str().expect("a base64url string")).expect("base64url")
}

pub fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}
