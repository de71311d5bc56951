//! Against a stand-in for Entra's token endpoint on 127.0.0.1 that checks each request as
//! Entra would and answers in Entra's shapes.

use std::sync::{
    Arc,
    atomic::{AtomicU64, AtomicUsize, Ordering},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::post,
};
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Value, json};

use super::*;
use crate::entra::test_support::{BROKER_CLIENT_ID, Signer, TENANT};

const TEST_KEY_PEM: &str = include_str!("../rsa_test_key.pem");
/// `openssl req -x509 -key rsa_test_key.pem -subj /CN=tap2key-test -days 3650`
const TEST_CERT_PEM: &str = include_str!("../rsa_test_cert.pem");
const SECRET: &str = "Qx8~kP3.rT6-vW9_yZ2aB5cD8eF1gH4iJ7kL0mN";

fn test_cert_der() -> Vec<u8> {
    certificate_der(TEST_CERT_PEM.as_bytes()).unwrap()
}

fn certificate() -> GraphCredential {
    GraphCredential::Certificate { private_key_pem: Zeroizing::new(TEST_KEY_PEM.into()), certificate_der: test_cert_der() }
}

fn secret(value: &str) -> GraphCredential {
    GraphCredential::Secret(Zeroizing::new(value.into()))
}

/// What the stand-in accepts.
enum Expect {
    Secret(&'static str),
    Certificate,
}

struct Stand {
    url: String,
    expect: Expect,
    expires_in: AtomicU64,
    /// How long each answer takes, in milliseconds.
    delay_ms: AtomicU64,
    hits: AtomicUsize,
}

struct TokenEndpoint {
    url: Url,
    stand: Arc<Stand>,
}

impl TokenEndpoint {
    async fn start(expect: Expect) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let authority = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let url = entra_token_url(&authority, TENANT).unwrap();
        let stand = Arc::new(Stand { url: url.to_string(), expect, expires_in: AtomicU64::new(3599), delay_ms: AtomicU64::new(0), hits: AtomicUsize::new(0) });
        let app = Router::new().route("/{tenant}/oauth2/v2.0/token", post(answer)).with_state(stand.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, stand }
    }

    fn source(&self, credential: GraphCredential) -> AppTokenSource {
        AppTokenSource::new(self.url.clone(), BROKER_CLIENT_ID, credential)
    }

    fn hits(&self) -> usize {
        self.stand.hits.load(Ordering::SeqCst)
    }
}

/// An Entra error answer.
struct Refusal {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
}

fn refuse(status: StatusCode, error: &'static str, code: u32, message: impl Into<String>) -> Refusal {
    Refusal { status, error, code, message: message.into() }
}

async fn answer(State(stand): State<Arc<Stand>>, headers: HeaderMap, body: Bytes) -> Response {
    let hit = stand.hits.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::time::sleep(std::time::Duration::from_millis(stand.delay_ms.load(Ordering::SeqCst))).await;
    match stand.check(&headers, &body) {
        Ok(()) => Json(json!({
            "token_type": "Bearer",
            "expires_in": stand.expires_in.load(Ordering::SeqCst),
            "ext_expires_in": stand.expires_in.load(Ordering::SeqCst),
            "access_token": format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.app-token-{hit}.sig"),
        }))
        .into_response(),
        Err(refusal) => {
            let description = format!(
                "AADSTS{}: {}\r\nTrace ID: 0b2f5a55-1d3c-4f6e-8a7b-9c0d1e2f3a4b\r\nCorrelation ID: 7e3c1d4b-2a5f-4c6d-9e8f-0a1b2c3d4e5f\r\nTimestamp: 2026-03-02 09:30:00Z",
                refusal.code, refusal.message
            );
            let body = json!({
                "error": refusal.error,
                "error_description": description,
                "error_codes": [refusal.code],
                "timestamp": "2026-03-02 09:30:00Z",
                "trace_id": "0b2f5a55-1d3c-4f6e-8a7b-9c0d1e2f3a4b",
                "correlation_id": "7e3c1d4b-2a5f-4c6d-9e8f-0a1b2c3d4e5f",
                "error_uri": format!("https://login.microsoftonline.com/error?code={}", refusal.code),
            });
            (refusal.status, Json(body)).into_response()
        }
    }
}

impl Stand {
    fn check(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
        let bad_request = |code, message: &str| refuse(StatusCode::BAD_REQUEST, "invalid_request", code, message);
        if headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some("application/x-www-form-urlencoded") {
            return Err(bad_request(900144, "The request body must contain the following parameter: 'grant_type'."));
        }
        let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
        let field = |name: &str| {
            let mut values = form.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str());
            let first = values.next();
            if values.next().is_some() { Err(bad_request(90014, &format!("The parameter '{name}' is repeated."))) } else { Ok(first) }
        };
        if field("grant_type")? != Some("client_credentials") {
            return Err(refuse(StatusCode::BAD_REQUEST, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."));
        }
        if field("client_id")? != Some(BROKER_CLIENT_ID) {
            return Err(refuse(StatusCode::BAD_REQUEST, "unauthorized_client", 700016, "Application not found in the directory."));
        }
        if field("scope")? != Some(GRAPH_DEFAULT_SCOPE) {
            return Err(refuse(StatusCode::BAD_REQUEST, "invalid_scope", 1002012, "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier."));
        }
        match self.expect {
            Expect::Secret(expected) => {
                if field("client_assertion")?.is_some() || field("client_assertion_type")?.is_some() {
                    return Err(bad_request(50027, "A client assertion was sent to an app that expects a secret."));
                }
                let sent = field("client_secret")?.unwrap_or_default();
                if sent != expected {
                    // Entra does not echo the secret; this stand-in does, to prove the
                    // source never passes it on.
                    return Err(refuse(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        7000215,
                        format!("Invalid client secret provided ('{sent}'). Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{BROKER_CLIENT_ID}'."),
                    ));
                }
            }
            Expect::Certificate => {
                if field("client_secret")?.is_some() {
                    return Err(bad_request(50027, "A client secret was sent with a client assertion."));
                }
                if field("client_assertion_type")? != Some(CLIENT_ASSERTION_TYPE) {
                    return Err(bad_request(700023, "The client assertion type is not jwt-bearer."));
                }
                let assertion = field("client_assertion")?.ok_or_else(|| refuse(StatusCode::UNAUTHORIZED, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."))?;
                self.verify_assertion(assertion).map_err(|reason| refuse(StatusCode::UNAUTHORIZED, "invalid_client", 700027, format!("The certificate with identifier used to sign the client assertion is not registered on application, or: {reason}")))?;
            }
        }
        Ok(())
    }

    /// As Entra checks it: signed by the registered certificate's key, named by thumbprint,
    /// for this endpoint, from and about the app, short-lived, with a `jti`.
    fn verify_assertion(&self, assertion: &str) -> Result<(), String> {
        let der = test_cert_der();
        let header = jsonwebtoken::decode_header(assertion).map_err(|e| e.to_string())?;
        if header.alg != Algorithm::PS256 {
            return Err(format!("alg {:?}", header.alg));
        }
        if header.x5t_s256.as_deref() != Some(URL_SAFE_NO_PAD.encode(Sha256::digest(&der)).as_str()) {
            return Err("x5t#S256 does not match".into());
        }
        if header.x5t.as_deref() != Some(URL_SAFE_NO_PAD.encode(<sha1::Sha1 as sha1::Digest>::digest(&der)).as_str()) {
            return Err("x5t does not match".into());
        }
        let jwk = Signer::rsa("cert").jwk();
        let key = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
        let mut rules = Validation::new(Algorithm::PS256);
        rules.set_audience(&[&self.url]);
        rules.set_issuer(&[BROKER_CLIENT_ID]);
        rules.sub = Some(BROKER_CLIENT_ID.into());
        rules.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
        rules.validate_nbf = true;
        rules.leeway = 5;
        let claims = jsonwebtoken::decode::<Value>(assertion, &key, &rules).map_err(|e| e.to_string())?.claims;
        claims["jti"].as_str().and_then(|jti| jti.parse::<Uuid>().ok()).ok_or("no jti")?;
        let (iat, exp) = (claims["iat"].as_i64().ok_or("no iat")?, claims["exp"].as_i64().ok_or("no exp")?);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        if (iat - now).abs() > 5 || exp - iat > 600 || exp <= now {
            return Err("the assertion's lifetime is not within 10 minutes from now".into());
        }
        Ok(())
    }
}

#[test]
fn the_test_certificate_holds_the_test_key() {
    // The stand-in verifies with the key pair's public half; the certificate it names by
    // thumbprint must carry that same key.
    let modulus = URL_SAFE_NO_PAD.decode(Signer::rsa("cert").jwk()["n"].as_str().unwrap()).unwrap();
    assert!(test_cert_der().windows(modulus.len()).any(|window| window == modulus));
}

#[test]
fn token_urls_follow_the_authority() {
    let public = Url::parse(PUBLIC_CLOUD_AUTHORITY).unwrap();
    assert_eq!(entra_token_url(&public, TENANT).unwrap().as_str(), format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"));
    let us = Url::parse("https://login.microsoftonline.us/").unwrap();
    assert_eq!(entra_token_url(&us, "contoso.onmicrosoft.us").unwrap().as_str(), "https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token");
}

#[tokio::test]
async fn a_secret_obtains_a_token() {
    let entra = TokenEndpoint::start(Expect::Secret(SECRET)).await;
    let before = OffsetDateTime::now_utc();
    let token = entra.source(secret(SECRET)).token().await.unwrap();
    assert_eq!(token.bearer(), "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.app-token-1.sig");
    let lifetime = token.expires_at() - before;
    assert!(lifetime > time::Duration::seconds(3590) && lifetime <= time::Duration::seconds(3600), "{lifetime}");
}

#[tokio::test]
async fn a_certificate_obtains_a_token() {
    let entra = TokenEndpoint::start(Expect::Certificate).await;
    let token = entra.source(certificate()).token().await.unwrap();
    assert_eq!(token.bearer(), "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.app-token-1.sig");
}

#[tokio::test]
async fn a_wrong_certificate_is_refused() {
    let entra = TokenEndpoint::start(Expect::Certificate).await;
    let mut der = test_cert_der();
    let last = der.len() - 1;
    der[last] ^= 1;
    let credential = GraphCredential::Certificate { private_key_pem: Zeroizing::new(TEST_KEY_PEM.into()), certificate_der: der };
    let error = entra.source(credential).token().await.unwrap_err();
    assert_eq!(error.aadsts_code(), Some(700027), "{error}");
}

#[tokio::test]
async fn the_token_is_reused_while_it_has_more_than_five_minutes_left() {
    let entra = TokenEndpoint::start(Expect::Secret(SECRET)).await;
    let source = entra.source(secret(SECRET));
    let first = source.token().await.unwrap();
    let second = source.token().await.unwrap();
    assert_eq!(first.bearer(), second.bearer());
    assert_eq!(entra.hits(), 1);

    entra.stand.expires_in.store(310, Ordering::SeqCst);
    source.invalidate();
    source.token().await.unwrap();
    source.token().await.unwrap();
    assert_eq!(entra.hits(), 2, "310 s left is still more than the margin");
}

#[tokio::test]
async fn a_token_with_less_than_five_minutes_left_is_replaced() {
    let entra = TokenEndpoint::start(Expect::Secret(SECRET)).await;
    entra.stand.expires_in.store(299, Ordering::SeqCst);
    let source = entra.source(secret(SECRET));
    let first = source.token().await.unwrap();
    let second = source.token().await.unwrap();
    assert_ne!(first.bearer(), second.bearer());
    assert_eq!(entra.hits(), 2);
}

#[tokio::test]
async fn invalidate_makes_the_next_call_fetch() {
    let entra = TokenEndpoint::start(Expect::Certificate).await;
    let source = entra.source(certificate());
    let first = source.token().await.unwrap();
    source.invalidate();
    let second = source.token().await.unwrap();
    assert_ne!(first.bearer(), second.bearer());
    assert_eq!(entra.hits(), 2);
    source.token().await.unwrap();
    assert_eq!(entra.hits(), 2);
}

#[tokio::test]
async fn concurrent_callers_share_one_fetch() {
    let entra = TokenEndpoint::start(Expect::Certificate).await;
    entra.stand.delay_ms.store(200, Ordering::SeqCst);
    let source = Arc::new(entra.source(certificate()));
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.token().await.unwrap() })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap().bearer(), "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.app-token-1.sig");
    }
    assert_eq!(entra.hits(), 1);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_with_its_aadsts_code_and_without_the_secret() {
    let entra = TokenEndpoint::start(Expect::Secret(SECRET)).await;
    let wrong = "Wr0ng~secret.value-that-must-not-leak";
    let source = entra.source(secret(wrong));
    let error = source.token().await.unwrap_err();
    let AppTokenError::Refused { error: code, description } = &error else { panic!("expected a refusal: {error:?}") };
    assert_eq!(code, "invalid_client");
    assert!(description.starts_with("AADSTS7000215: Invalid client secret provided ("), "{description}");
    assert!(!description.contains("Trace ID"), "only the first line: {description}");
    assert_eq!(error.aadsts_code(), Some(7000215));
    for shown in [error.to_string(), format!("{error:?}"), format!("{source:?}")] {
        assert!(!shown.contains(wrong), "{shown}");
    }
    // Nothing cached: a corrected configuration is tried at once.
    assert!(source.token().await.is_err());
    assert_eq!(entra.hits(), 2);
}

#[tokio::test]
async fn callers_waiting_for_a_failed_fetch_share_its_failure() {
    let entra = TokenEndpoint::start(Expect::Secret(SECRET)).await;
    entra.stand.delay_ms.store(200, Ordering::SeqCst);
    let source = Arc::new(entra.source(secret("wrong")));
    let callers: Vec<_> = (0..4)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.token().await })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap().unwrap_err().aadsts_code(), Some(7000215));
    }
    assert_eq!(entra.hits(), 1);
}

#[tokio::test]
async fn another_scope_can_be_asked_for() {
    let entra = TokenEndpoint::start(Expect::Secret(SECRET)).await;
    let error = entra.source(secret(SECRET)).with_scope("https://graph.microsoft.us/.default").token().await.unwrap_err();
    assert!(matches!(&error, AppTokenError::Refused { error, .. } if error == "invalid_scope"), "{error:?}");
    assert_eq!(error.aadsts_code(), Some(1002012));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let authority = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let source = AppTokenSource::new(entra_token_url(&authority, TENANT).unwrap(), BROKER_CLIENT_ID, secret(SECRET));
    let error = source.token().await.unwrap_err();
    assert!(matches!(error, AppTokenError::Unreachable { .. }), "{error:?}");
    assert!(error.to_string().starts_with("the Entra token endpoint http://127.0.0.1:"), "{error}");
    assert!(!error.to_string().contains(SECRET));
}

#[tokio::test]
async fn an_answer_without_a_token_is_a_protocol_error() {
    let app = Router::new().route("/{tenant}/oauth2/v2.0/token", post(|| async { Json(json!({"token_type": "Bearer", "expires_in": 3599})) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let authority = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let source = AppTokenSource::new(entra_token_url(&authority, TENANT).unwrap(), BROKER_CLIENT_ID, secret(SECRET));
    assert!(matches!(source.token().await, Err(AppTokenError::Protocol { .. })));
}

#[tokio::test]
async fn no_secret_key_or_token_is_ever_shown() {
    let entra = TokenEndpoint::start(Expect::Secret(SECRET)).await;
    let source = entra.source(secret(SECRET));
    let token = source.token().await.unwrap();
    let key_line = TEST_KEY_PEM.lines().nth(1).unwrap();
    let shown = [format!("{token:?}"), format!("{source:?}"), format!("{:?}", certificate()), format!("{:?}", secret(SECRET))];
    for shown in &shown {
        assert!(!shown.contains(SECRET) && !shown.contains(key_line) && !shown.contains("app-token") && !shown.contains("PRIVATE"), "{shown}");
    }
    assert!(shown[2].contains(&certificate().thumbprint_sha256().unwrap()), "a certificate shows its thumbprint: {}", shown[2]);
}

/// A scratch directory for the loading tests, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("tap2key-app-token-{}", Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn credentials_load_from_files() {
    let dir = Scratch::new();
    let key = dir.file("broker.key", TEST_KEY_PEM.as_bytes());
    let pem = dir.file("broker.pem", TEST_CERT_PEM.as_bytes());
    let der = dir.file("broker.cer", &test_cert_der());
    for cert in [&pem, &der] {
        let GraphCredential::Certificate { certificate_der, .. } = GraphCredential::certificate_from_files(&key, cert).unwrap() else { panic!("expected a certificate") };
        assert_eq!(certificate_der, test_cert_der());
    }
    // Key and certificate in one PEM file.
    let both = dir.file("both.pem", format!("{TEST_KEY_PEM}{TEST_CERT_PEM}").as_bytes());
    assert!(GraphCredential::certificate_from_files(&both, &both).is_ok());

    let secret_file = dir.file("secret", format!("  {SECRET}\n").as_bytes());
    let GraphCredential::Secret(loaded) = GraphCredential::secret_from_file(&secret_file).unwrap() else { panic!("expected a secret") };
    assert_eq!(loaded.as_str(), SECRET);
}

#[test]
fn loading_errors_name_the_file_or_variable_but_not_the_content() {
    let dir = Scratch::new();
    let garbage = "this-is-secret-material-not-a-key";
    let bad_key = dir.file("bad.key", garbage.as_bytes());
    let cert = dir.file("broker.pem", TEST_CERT_PEM.as_bytes());
    let missing = dir.0.join("missing.pem");
    let empty = dir.file("empty", b" \n");

    let errors = [
        GraphCredential::certificate_from_files(&bad_key, &cert).unwrap_err(),
        GraphCredential::certificate_from_files(&cert, &bad_key).unwrap_err(),
        GraphCredential::certificate_from_files(&missing, &cert).unwrap_err(),
        GraphCredential::secret_from_file(&missing).unwrap_err(),
        GraphCredential::secret_from_file(&empty).unwrap_err(),
    ];
    assert_eq!(errors[0], CredentialError::InvalidKey { path: bad_key.clone() });
    assert_eq!(errors[1], CredentialError::InvalidKey { path: cert.clone() }, "a certificate is not a key");
    assert!(matches!(&errors[2], CredentialError::Read { path, .. } if *path == missing));
    assert!(errors[3].to_string().starts_with(&format!("could not read the client secret file {}: ", missing.display())), "{}", errors[3]);
    assert_eq!(errors[4], CredentialError::InvalidSecretFile { path: empty });
    for error in &errors {
        assert!(!error.to_string().contains(garbage) && !format!("{error:?}").contains(garbage), "{error}");
    }
    let key = dir.file("broker.key", TEST_KEY_PEM.as_bytes());
    assert_eq!(GraphCredential::certificate_from_files(&key, &bad_key).unwrap_err(), CredentialError::InvalidCertificate { path: bad_key });

    // A certificate for another key pair.
    let mut other = test_cert_der();
    let modulus = URL_SAFE_NO_PAD.decode(Signer::rsa("cert").jwk()["n"].as_str().unwrap()).unwrap();
    let at = other.windows(modulus.len()).position(|window| window == modulus).unwrap();
    other[at + 100] ^= 0xff;
    let other = dir.file("other.cer", &other);
    assert_eq!(GraphCredential::certificate_from_files(&key, &other).unwrap_err(), CredentialError::Mismatch { key_path: key.clone(), cert_path: other });

    let name = format!("TAP2KEY_TEST_UNSET_{}", Uuid::new_v4().simple());
    let error = GraphCredential::secret_from_env(&name).unwrap_err();
    assert_eq!(error.to_string(), format!("the environment variable {name} is not set; it should hold the client secret"));
}
