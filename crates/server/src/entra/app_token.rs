//! The broker's own Graph token: OAuth 2.0 client credentials against Entra's v2 token
//! endpoint (`{authority}/{tenant}/oauth2/v2.0/token`).
//!
//! The broker proves itself with a certificate (preferred: a signed client assertion, so no
//! shared secret travels) or a client secret (fallback). The token is cached and reused
//! while it has more than [`REFRESH_MARGIN`] left; concurrent callers share one fetch. When
//! Graph answers `401` the caller [`invalidate`](AppTokenSource::invalidate)s once and
//! retries.
//!
//! Nothing here ever prints the secret, the private key, a client assertion or the token:
//! `Debug` is redacted and errors carry only Entra's `error` and the first line of its
//! `error_description` (the `AADSTS...` message).

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Url;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

/// Entra's public cloud; national clouds have their own (e.g.
/// `https://login.microsoftonline.us`).
pub const PUBLIC_CLOUD_AUTHORITY: &str = "https://login.microsoftonline.com";
/// Every application permission granted to the broker, for Graph on the public cloud
/// (national clouds: `https://graph.microsoft.us/.default`, ...).
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";
/// A cached token is used only while it has more than this left.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// How long a client assertion is valid (Entra refuses long-lived ones).
pub const ASSERTION_LIFETIME: time::Duration = time::Duration::minutes(10);

const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// A token response is a few kilobytes.
const MAX_RESPONSE: usize = 256 * 1024;
/// Entra's `error_description` first lines are short; anything longer is cut.
const MAX_DESCRIPTION: usize = 512;

/// How the broker proves itself to Entra. Cloning copies the secret into another
/// zeroizing buffer (each is wiped on drop).
#[derive(Clone)]
pub enum GraphCredential {
    /// A certificate registered on the app: requests carry a client assertion (PS256 JWT)
    /// signed with the private key, naming the certificate by thumbprint.
    Certificate {
        /// The RSA private key, PEM (PKCS#1 or PKCS#8).
        private_key_pem: Zeroizing<String>,
        /// The certificate (DER) uploaded to the app registration.
        certificate_der: Vec<u8>,
    },
    /// A client secret (the secret's *value*, not its id).
    Secret(Zeroizing<String>),
}

impl GraphCredential {
    /// The private key (PEM) and its certificate (PEM or DER) from files. The key is checked
    /// to be a usable RSA key now rather than at the first token request.
    pub fn certificate_from_files(key_path: impl AsRef<Path>, cert_path: impl AsRef<Path>) -> Result<Self, CredentialError> {
        let (key_path, cert_path) = (key_path.as_ref(), cert_path.as_ref());
        let key_bytes = read(key_path, "the private key file")?;
        let private_key_pem = std::str::from_utf8(&key_bytes)
            .ok()
            .filter(|pem| signing_key(pem).is_ok())
            .map(|pem| Zeroizing::new(pem.to_owned()))
            .ok_or_else(|| CredentialError::InvalidKey { path: key_path.to_owned() })?;
        let cert_bytes = read(cert_path, "the certificate file")?;
        let certificate_der = certificate_der(&cert_bytes).ok_or_else(|| CredentialError::InvalidCertificate { path: cert_path.to_owned() })?;
        if !certificate_holds_key(&certificate_der, &private_key_pem) {
            return Err(CredentialError::Mismatch { key_path: key_path.to_owned(), cert_path: cert_path.to_owned() });
        }
        Ok(Self::Certificate { private_key_pem, certificate_der })
    }

    /// A client secret from a file (surrounding whitespace and the final newline ignored).
    pub fn secret_from_file(path: impl AsRef<Path>) -> Result<Self, CredentialError> {
        let path = path.as_ref();
        let bytes = read(path, "the client secret file")?;
        let secret = std::str::from_utf8(&bytes).map_err(|_| CredentialError::InvalidSecretFile { path: path.to_owned() })?.trim();
        if secret.is_empty() {
            return Err(CredentialError::InvalidSecretFile { path: path.to_owned() });
        }
        Ok(Self::Secret(Zeroizing::new(secret.to_owned())))
    }

    /// A client secret from the environment variable `name`.
    pub fn secret_from_env(name: &str) -> Result<Self, CredentialError> {
        let value = Zeroizing::new(std::env::var(name).map_err(|error| match error {
            std::env::VarError::NotPresent => CredentialError::MissingVariable { name: name.to_owned() },
            std::env::VarError::NotUnicode(_) => CredentialError::InvalidVariable { name: name.to_owned() },
        })?);
        let secret = value.trim();
        if secret.is_empty() {
            return Err(CredentialError::InvalidVariable { name: name.to_owned() });
        }
        Ok(Self::Secret(Zeroizing::new(secret.to_owned())))
    }

    /// The certificate's SHA-256 thumbprint, base64url (`x5t#S256`); `None` for a secret.
    pub fn thumbprint_sha256(&self) -> Option<String> {
        match self {
            Self::Certificate { certificate_der, .. } => Some(URL_SAFE_NO_PAD.encode(Sha256::digest(certificate_der))),
            Self::Secret(_) => None,
        }
    }
}

/// Shows which kind of credential, and for a certificate its (public) thumbprint.
impl fmt::Debug for GraphCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Certificate { .. } => f.debug_struct("Certificate").field("x5t#S256", &self.thumbprint_sha256().unwrap_or_default()).finish_non_exhaustive(),
            Self::Secret(_) => f.write_str("Secret([redacted])"),
        }
    }
}

fn read(path: &Path, what: &'static str) -> Result<Zeroizing<Vec<u8>>, CredentialError> {
    std::fs::read(path).map(Zeroizing::new).map_err(|error| CredentialError::Read { what, path: path.to_owned(), reason: error.kind().to_string() })
}

/// The first `CERTIFICATE` block of a PEM file, or the bytes themselves if they are DER.
fn certificate_der(bytes: &[u8]) -> Option<Vec<u8>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let der = match std::str::from_utf8(bytes).ok().and_then(|text| text.find(BEGIN).map(|at| &text[at + BEGIN.len()..])) {
        Some(rest) => {
            let body: String = rest[..rest.find(END)?].chars().filter(|c| !c.is_ascii_whitespace()).collect();
            STANDARD.decode(body).ok()?
        }
        None => bytes.to_vec(),
    };
    // An X.509 certificate is a DER SEQUENCE.
    (der.len() > 16 && der[0] == 0x30).then_some(der)
}

/// Whether the certificate carries the private key's public half: its modulus appears in
/// the certificate's DER (as the content of the SubjectPublicKeyInfo's INTEGER). Catches a
/// key and certificate from different pairs, which Entra would only report as a bad
/// assertion signature (AADSTS700027).
fn certificate_holds_key(certificate_der: &[u8], private_key_pem: &str) -> bool {
    let modulus = signing_key(private_key_pem)
        .ok()
        .and_then(|key| jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::RS256).ok())
        .and_then(|jwk| match jwk.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) => URL_SAFE_NO_PAD.decode(rsa.n.trim_end_matches('=')).ok(),
            _ => None,
        });
    modulus.is_some_and(|modulus| !modulus.is_empty() && certificate_der.windows(modulus.len()).any(|window| window == modulus))
}

/// A credential could not be loaded. Names the file or variable, never its content.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("could not read {what} {}: {reason}", path.display())]
    Read { what: &'static str, path: PathBuf, reason: String },
    #[error("{} does not hold an RSA private key in PEM form (PKCS#1 or PKCS#8)", path.display())]
    InvalidKey { path: PathBuf },
    #[error("{} does not hold an X.509 certificate (PEM or DER)", path.display())]
    InvalidCertificate { path: PathBuf },
    #[error("the certificate {} is not for the private key {} (they are from different key pairs)", cert_path.display(), key_path.display())]
    Mismatch { key_path: PathBuf, cert_path: PathBuf },
    #[error("{} does not hold a client secret (it is empty or not text)", path.display())]
    InvalidSecretFile { path: PathBuf },
    #[error("the environment variable {name} is not set; it should hold the client secret")]
    MissingVariable { name: String },
    #[error("the environment variable {name} does not hold a client secret (it is empty or not text)")]
    InvalidVariable { name: String },
}

/// An app-only access token for Graph. `Debug` shows only its expiry.
#[derive(Clone)]
pub struct AppToken {
    bearer: Zeroizing<String>,
    expires_at: OffsetDateTime,
    /// `expires_at` on the monotonic clock, for the cache.
    valid_until: Instant,
}

impl AppToken {
    /// The value for `Authorization: Bearer ...`.
    pub fn bearer(&self) -> &str {
        &self.bearer
    }

    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    fn usable(&self, now: Instant) -> bool {
        self.valid_until.saturating_duration_since(now) > REFRESH_MARGIN
    }
}

impl fmt::Debug for AppToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppToken").field("bearer", &"[redacted]").field("expires_at", &self.expires_at).finish()
    }
}

/// Why no token could be obtained.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppTokenError {
    /// No answer from the token endpoint (network, TLS, timeout, or a 5xx without Entra's
    /// error body): try again later.
    #[error("the Entra token endpoint {url} could not be reached: {reason}")]
    Unreachable { url: String, reason: String },
    /// Entra answered with an OAuth error: `error` is its code (`invalid_client`,
    /// `unauthorized_client`, ...) and `description` the first line of
    /// `error_description`, which starts with the `AADSTS` number.
    #[error("Entra refused the broker's token request ({error}): {description}")]
    Refused { error: String, description: String },
    /// Entra's answer is not a token response.
    #[error("the Entra token endpoint {url} gave an unexpected answer: {reason}")]
    Protocol { url: String, reason: String },
    /// The configured credential cannot be used (the private key is not an RSA key).
    #[error("the broker's credential cannot be used: {0}")]
    InvalidCredential(&'static str),
}

impl AppTokenError {
    /// The `AADSTS` number at the start of a refusal's description, e.g. `7000215`.
    pub fn aadsts_code(&self) -> Option<u32> {
        let Self::Refused { description, .. } = self else { return None };
        let digits = description.strip_prefix("AADSTS")?;
        digits[..digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len())].parse().ok()
    }
}

/// The broker's Graph tokens from one tenant. Share one (it is `Send + Sync`).
pub struct AppTokenSource {
    token_url: Url,
    client_id: String,
    credential: GraphCredential,
    scope: String,
    http: reqwest::Client,
    cache: Mutex<Option<AppToken>>,
    /// Held while fetching, so concurrent callers wait for one fetch.
    fetching: tokio::sync::Mutex<FetchLog>,
    /// `FetchLog::attempts` (finished fetches), readable without waiting for the lock: a
    /// caller that saw fewer than the log shows arrived while a fetch was under way.
    attempts: AtomicU64,
}

#[derive(Default)]
struct FetchLog {
    attempts: u64,
    last_failure: Option<AppTokenError>,
}

impl fmt::Debug for AppTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppTokenSource")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("credential", &self.credential)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// `{authority}/{tenant}/oauth2/v2.0/token`, e.g. for [`PUBLIC_CLOUD_AUTHORITY`]. `None` if
/// `authority` cannot have a path (`mailto:`, ...).
pub fn entra_token_url(authority: &Url, tenant: &str) -> Option<Url> {
    let mut url = authority.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut().ok()?.pop_if_empty().extend([tenant, "oauth2", "v2.0", "token"]);
    Some(url)
}

impl AppTokenSource {
    /// Tokens for [`GRAPH_DEFAULT_SCOPE`] from `token_url` (see [`entra_token_url`]) for the
    /// app `client_id`. Nothing is fetched until the first [`token`](Self::token).
    pub fn new(token_url: Url, client_id: impl Into<String>, credential: GraphCredential) -> Self {
        let http = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build().unwrap_or_else(|_| reqwest::Client::new());
        Self {
            token_url,
            client_id: client_id.into(),
            credential,
            scope: GRAPH_DEFAULT_SCOPE.to_owned(),
            http,
            cache: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(FetchLog::default()),
            attempts: AtomicU64::new(0),
        }
    }

    /// Another scope, e.g. `https://graph.microsoft.us/.default` in a national cloud.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// Over a client the caller configured (proxy, timeouts).
    pub fn with_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// The cached token while it has more than [`REFRESH_MARGIN`] left, else a new one.
    /// Concurrent callers share one fetch, and its failure: callers that were waiting for
    /// a fetch that failed get its error rather than each trying again (while Entra is
    /// unreachable, one timeout instead of a queue of them). A failure is not cached: the
    /// next call after it tries again.
    pub async fn token(&self) -> Result<AppToken, AppTokenError> {
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        let seen = self.attempts.load(Ordering::SeqCst);
        let mut log = self.fetching.lock().await;
        // Another caller may have fetched while this one waited.
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        if log.attempts != seen
            && let Some(error) = &log.last_failure
        {
            return Err(error.clone());
        }
        let result = self.fetch().await;
        log.last_failure = result.as_ref().err().cloned();
        log.attempts += 1;
        self.attempts.store(log.attempts, Ordering::SeqCst);
        match &result {
            Ok(token) => {
                tracing::debug!(expires_at = %token.expires_at, "obtained the broker's Graph token");
                *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
            }
            Err(error) => tracing::warn!(%error, "the broker's Graph token could not be obtained"),
        }
        result
    }

    /// Drops the cached token, so the next [`token`](Self::token) fetches a new one. For
    /// when Graph answered `401` to the cached token (revoked, or permissions changed).
    pub fn invalidate(&self) {
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn cached(&self) -> Option<AppToken> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner).as_ref().filter(|token| token.usable(Instant::now())).cloned()
    }

    async fn fetch(&self) -> Result<AppToken, AppTokenError> {
        let url = self.token_url.to_string();
        let assertion;
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials"), ("client_id", &self.client_id), ("scope", &self.scope)];
        match &self.credential {
            GraphCredential::Certificate { private_key_pem, certificate_der } => {
                assertion = client_assertion(private_key_pem, certificate_der, &self.client_id, &url, OffsetDateTime::now_utc())?;
                form.extend([("client_assertion_type", CLIENT_ASSERTION_TYPE), ("client_assertion", assertion.as_str())]);
            }
            GraphCredential::Secret(secret) => form.push(("client_secret", secret.as_str())),
        }

        let unreachable = |reason: String| AppTokenError::Unreachable { url: url.clone(), reason };
        let protocol = |reason: &str| AppTokenError::Protocol { url: url.clone(), reason: reason.to_owned() };
        let started = Instant::now();
        let mut response = self
            .http
            .post(self.token_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| unreachable(e.without_url().to_string()))?;
        let status = response.status();
        let mut body = Zeroizing::new(Vec::new());
        while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(e.without_url().to_string()))? {
            if body.len() + chunk.len() > MAX_RESPONSE {
                return Err(protocol("the answer is implausibly large"));
            }
            body.extend_from_slice(&chunk);
        }

        if !status.is_success() {
            return Err(match serde_json::from_slice::<ErrorResponse>(&body) {
                Ok(refusal) => AppTokenError::Refused { error: refusal.error, description: self.first_line(refusal.error_description.as_deref().unwrap_or_default()) },
                Err(_) if status.is_server_error() => unreachable(format!("the server answered {status}")),
                Err(_) => AppTokenError::Protocol { url: url.clone(), reason: format!("the server answered {status} without an OAuth error") },
            });
        }
        let answer: TokenResponse = serde_json::from_slice(&body).map_err(|_| protocol("the answer is not a token response"))?;
        if !answer.token_type.eq_ignore_ascii_case("bearer") {
            return Err(protocol("the token is not a bearer token"));
        }
        let bearer = Zeroizing::new(answer.access_token);
        if bearer.is_empty() {
            return Err(protocol("the access token is empty"));
        }
        let lifetime = answer.expires_in.seconds().ok_or_else(|| protocol("expires_in is not a number of seconds"))?;
        Ok(AppToken {
            bearer,
            expires_at: OffsetDateTime::now_utc() + time::Duration::seconds(lifetime as i64),
            // From when the request was sent: the token may have been issued then.
            valid_until: started + Duration::from_secs(lifetime),
        })
    }

    /// The first line of an `error_description`, shortened, with the secret (should Entra
    /// ever echo it) blanked out.
    fn first_line(&self, description: &str) -> String {
        let mut line = description.lines().next().unwrap_or_default().trim().to_owned();
        if let GraphCredential::Secret(secret) = &self.credential
            && !secret.is_empty()
        {
            line = line.replace(secret.as_str(), "[redacted]");
        }
        if line.len() > MAX_DESCRIPTION {
            let mut end = MAX_DESCRIPTION;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
            line.push('…');
        }
        line
    }
}

/// The client assertion Entra expects for a certificate credential: PS256 (what Microsoft's
/// certificate-credential documentation now specifies; RS256 is the older form), the certificate
/// named by `x5t#S256` (and the older SHA-1 `x5t`), `aud` the token endpoint, `iss` = `sub`
/// = the client id, a fresh `jti`, valid for [`ASSERTION_LIFETIME`].
fn client_assertion(private_key_pem: &str, certificate_der: &[u8], client_id: &str, token_url: &str, now: OffsetDateTime) -> Result<Zeroizing<String>, AppTokenError> {
    let key = signing_key(private_key_pem).map_err(|_| AppTokenError::InvalidCredential("the private key is not an RSA private key in PEM form"))?;
    let mut header = Header::new(Algorithm::PS256);
    header.typ = Some("JWT".into());
    header.x5t = Some(URL_SAFE_NO_PAD.encode(<sha1::Sha1 as sha1::Digest>::digest(certificate_der)));
    header.x5t_s256 = Some(URL_SAFE_NO_PAD.encode(Sha256::digest(certificate_der)));
    let now = now.unix_timestamp();
    let claims = serde_json::json!({
        "aud": token_url,
        "iss": client_id,
        "sub": client_id,
        "jti": Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME.whole_seconds(),
    });
    jsonwebtoken::encode(&header, &claims, &key).map(Zeroizing::new).map_err(|_| AppTokenError::InvalidCredential("the client assertion could not be signed"))
}

/// The RSA private key in `pem`, checked by signing with it: jsonwebtoken accepts an RSA
/// *public* key (or a certificate) as an encoding key and fails only when signing.
fn signing_key(pem: &str) -> Result<EncodingKey, jsonwebtoken::errors::Error> {
    let key = EncodingKey::from_rsa_pem(pem.as_bytes())?;
    jsonwebtoken::crypto::sign(b"probe", &key, Algorithm::PS256)?;
    Ok(key)
}

#[derive(Deserialize)]
struct TokenResponse {
    token_type: String,
    access_token: String,
    expires_in: Seconds,
}

/// Entra sends a number; some OAuth servers (and Entra's v1 endpoint) send a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(u64),
    Text(String),
}

impl Seconds {
    fn seconds(&self) -> Option<u64> {
        match self {
            Self::Number(seconds) => Some(*seconds),
            Self::Text(text) => text.parse().ok(),
        }
    }
}

/// Entra's OAuth error body; `error_codes`, `trace_id`, `correlation_id`, ... are ignored.
#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    error_description: Option<String>,
}

#[cfg(test)]
mod tests;
