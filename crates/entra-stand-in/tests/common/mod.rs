//! A started stand-in with the broker's certificate registered, and what a broker does
//! against it: a client assertion (PS256, `x5t#S256`), an app token, Graph URLs.

#![allow(dead_code)]

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tap2key_entra_stand_in::{StandIn, StandInConfig, testing_certificate};
use tap2key_keys::{
    CancelToken, Key, KeyError, NewCredential, Pin,
    client::CtapClient,
    virtual_key::{self, VirtualTransport},
};
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig};

pub const SECRET: &str = "s3cret~value.from.the.portal";

pub struct Broker {
    pub stand_in: StandIn,
    pub http: reqwest::Client,
    pub cert_der: Vec<u8>,
    pub key: EncodingKey,
}

pub fn pem_der(pem: &str) -> Vec<u8> {
    use base64::engine::general_purpose::STANDARD;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

impl Broker {
    pub async fn start() -> Self {
        Self::start_with(StandInConfig::default()).await
    }

    pub async fn start_with(config: StandInConfig) -> Self {
        let stand_in = StandIn::start(config).await;
        let (key_pem, cert_pem) = testing_certificate();
        let cert_der = pem_der(&cert_pem);
        stand_in.register_certificate(&cert_der);
        stand_in.register_secret(SECRET);
        let key = EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap();
        Self {
            stand_in,
            http: reqwest::Client::new(),
            cert_der,
            key,
        }
    }

    /// A client assertion as the broker makes it; `edit` changes claims before signing.
    pub fn assertion_with(&self, alg: Algorithm, edit: impl FnOnce(&mut Value)) -> String {
        let now = self.stand_in.clock().now().unix_timestamp();
        let broker = self.stand_in.config().broker_client_id.to_string();
        let mut claims = json!({
            "aud": self.stand_in.token_url().as_str(),
            "iss": broker, "sub": broker,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now, "iat": now, "exp": now + 600,
        });
        edit(&mut claims);
        let mut header = Header::new(alg);
        header.x5t_s256 = Some(URL_SAFE_NO_PAD.encode(Sha256::digest(&self.cert_der)));
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }

    pub fn assertion(&self) -> String {
        self.assertion_with(Algorithm::PS256, |_| {})
    }

    /// POSTs a client credentials request with `form` (client_id, grant_type and scope added).
    pub async fn token_request(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let broker = self.stand_in.config().broker_client_id.to_string();
        let mut fields = vec![
            ("client_id", broker.as_str()),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        fields.extend_from_slice(form);
        let answer = self
            .http
            .post(self.stand_in.token_url())
            .form(&fields)
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.json().await.unwrap())
    }

    pub async fn with_assertion(&self, assertion: &str) -> (u16, Value) {
        self.token_request(&[
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ])
        .await
    }

    pub async fn app_token(&self) -> String {
        let (status, body) = self.with_assertion(&self.assertion()).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `{graph}v1.0{path}`
    pub fn graph_url(&self, path: &str) -> String {
        format!("{}v1.0{path}", self.stand_in.graph())
    }

    pub async fn graph_get(
        &self,
        token: &str,
        path: &str,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let answer = self
            .http
            .get(self.graph_url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let (status, headers) = (answer.status().as_u16(), answer.headers().clone());
        let text = answer.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    pub async fn graph_post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let answer = self
            .http
            .post(self.graph_url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }
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

    pub fn make_credential(
        &mut self,
        options: &tap2key_directory::CreationOptions,
    ) -> Result<NewCredential, KeyError> {
        self.client.verify_pin(&self.pin, &options.rp_id)?;
        self.client.make_credential(
            &options.make_credential_request(),
            Some(&self.pin),
            &mut |_| {},
            &CancelToken::new(),
        )
    }
}
