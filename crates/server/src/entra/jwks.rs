//! The tenant's signing keys, fetched from `{authority}/{tenant}/discovery/v2.0/keys` and
//! cached.
//!
//! Entra rotates its signing keys (and can roll them early after an incident), so a token
//! naming a `kid` the cache has not seen triggers one refetch. That refetch is rate-limited
//! *globally*, not per `kid`: the `kid` comes from the token, so an attacker could invent a
//! new one per request and, with a per-`kid` limit, make the broker hammer Entra. Entra
//! publishes new keys well before it signs with them, so one refetch every
//! [`REFETCH_INTERVAL`] is enough to follow a real rotation. The whole set is also refreshed
//! once it is [`MAX_KEY_AGE`] old, so a key Entra withdraws stops being trusted.
//!
//! Time is the `now` the caller passes (the service's [`Clock`](crate::Clock), movable in
//! tests), like every other expiry in the service.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse},
};
use reqwest::Url;
use time::{Duration, OffsetDateTime};

/// At most one refetch for an unknown `kid` within this long (all `kid`s together).
pub const REFETCH_INTERVAL: Duration = Duration::minutes(5);
/// The key set is fetched again on first use after it is this old (Microsoft's guidance is
/// to refresh at least daily).
pub const MAX_KEY_AGE: Duration = Duration::hours(24);
/// After a failed fetch, no new attempt for this long: while Entra is unreachable each
/// request fails fast instead of queueing behind another timeout.
pub const RETRY_AFTER_FAILURE: Duration = Duration::seconds(30);

const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Entra's key list is a few kilobytes.
const MAX_DOCUMENT: usize = 512 * 1024;
/// RSA keys shorter than this are not trusted (Entra's are 2048 bits).
const MIN_RSA_BITS: usize = 2048;

/// One usable public key and the only algorithm it is accepted for.
#[derive(Clone)]
pub struct SigningKey {
    alg: Algorithm,
    key: DecodingKey,
}

impl SigningKey {
    /// RS256 for an RSA key (Entra), ES256 for a P-256 key (the demo directory).
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }
}

/// The key list could not be fetched or read. Names the URL (configuration, not a secret)
/// and what went wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the tenant's signing keys could not be fetched from {url}: {reason}")]
pub struct JwksError {
    url: String,
    reason: String,
}

/// Why [`JwksCache::key`] has no key to give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The tenant does not publish this `kid` (after a refetch, or a refetch was not
    /// allowed yet).
    Unknown,
    /// The key list could not be fetched, so the token cannot be checked either way.
    Unavailable(JwksError),
}

/// The keys as last fetched.
struct Snapshot {
    keys: HashMap<String, SigningKey>,
    fetched_at: OffsetDateTime,
}

#[derive(Default)]
struct FetchLog {
    last_refetch: Option<OffsetDateTime>,
    last_failure: Option<(OffsetDateTime, JwksError)>,
}

/// The signing keys of one tenant. Share one per tenant (it is `Send + Sync`).
pub struct JwksCache {
    url: Url,
    http: reqwest::Client,
    /// Read on every validation; replaced only by a fetch.
    current: RwLock<Option<Arc<Snapshot>>>,
    /// Held while fetching: concurrent requests for the same new `kid` wait for one fetch
    /// instead of each making one. Tokens with known keys never wait for it.
    fetches: tokio::sync::Mutex<FetchLog>,
}

impl JwksCache {
    /// A cache for the key list at `url`, e.g.
    /// `https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys`. Nothing is fetched
    /// until the first token arrives.
    pub fn new(url: Url) -> Self {
        let http = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build().unwrap_or_else(|_| reqwest::Client::new());
        Self::with_client(http, url)
    }

    /// As [`JwksCache::new`], over a client the caller configured (proxy, timeouts).
    pub fn with_client(http: reqwest::Client, url: Url) -> Self {
        Self { url, http, current: RwLock::new(None), fetches: tokio::sync::Mutex::new(FetchLog::default()) }
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The key named `kid`: from the cache if it is there, else after (at most) one
    /// rate-limited refetch.
    pub async fn key(&self, kid: &str, now: OffsetDateTime) -> Result<SigningKey, KeyError> {
        if let Some(snapshot) = self.snapshot()
            && !is_stale(&snapshot, now)
            && let Some(key) = snapshot.keys.get(kid)
        {
            return Ok(key.clone());
        }

        let mut log = self.fetches.lock().await;
        // Another request may have fetched while this one waited for the lock.
        let (snapshot, just_fetched) = match self.snapshot() {
            Some(snapshot) if !is_stale(&snapshot, now) => (snapshot, false),
            cached => match self.fetch(&mut log, now).await {
                Ok(fresh) => (fresh, true),
                // Keys a day old beat no keys while Entra is unreachable; the next attempt
                // comes after RETRY_AFTER_FAILURE.
                Err(error) => match cached {
                    Some(stale) => (stale, false),
                    None => return Err(KeyError::Unavailable(error)),
                },
            },
        };
        if let Some(key) = snapshot.keys.get(kid) {
            return Ok(key.clone());
        }
        if just_fetched || log.last_refetch.is_some_and(|at| (now - at).abs() < REFETCH_INTERVAL) {
            return Err(KeyError::Unknown);
        }
        if let Some(error) = in_backoff(&log, now) {
            return Err(KeyError::Unavailable(error));
        }
        log.last_refetch = Some(now);
        let fresh = self.fetch(&mut log, now).await.map_err(KeyError::Unavailable)?;
        fresh.keys.get(kid).cloned().ok_or(KeyError::Unknown)
    }

    fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Fetches and installs the key list, unless the last attempt failed moments ago.
    async fn fetch(&self, log: &mut FetchLog, now: OffsetDateTime) -> Result<Arc<Snapshot>, JwksError> {
        if let Some(error) = in_backoff(log, now) {
            return Err(error);
        }
        match self.download().await {
            Ok(keys) => {
                tracing::debug!(url = %self.url, keys = keys.len(), "fetched the tenant's signing keys");
                let snapshot = Arc::new(Snapshot { keys, fetched_at: now });
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(snapshot.clone());
                log.last_failure = None;
                Ok(snapshot)
            }
            Err(error) => {
                tracing::warn!(%error, "the tenant's signing keys could not be fetched");
                log.last_failure = Some((now, error.clone()));
                Err(error)
            }
        }
    }

    async fn download(&self) -> Result<HashMap<String, SigningKey>, JwksError> {
        let failed = |reason: String| JwksError { url: self.url.to_string(), reason };
        let mut response = self
            .http
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| failed(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("the server answered {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.without_url().to_string()))? {
            if body.len() + chunk.len() > MAX_DOCUMENT {
                return Err(failed("the key list is implausibly large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        let document: serde_json::Value = serde_json::from_slice(&body).map_err(|_| failed("the answer is not JSON".into()))?;
        parse_key_set(&document).map_err(|reason| failed(reason.into()))
    }
}

fn is_stale(snapshot: &Snapshot, now: OffsetDateTime) -> bool {
    now - snapshot.fetched_at >= MAX_KEY_AGE
}

fn in_backoff(log: &FetchLog, now: OffsetDateTime) -> Option<JwksError> {
    log.last_failure.as_ref().filter(|(at, _)| (now - *at).abs() < RETRY_AFTER_FAILURE).map(|(_, error)| error.clone())
}

/// The usable keys of a JWKS document by `kid`. Keys of other kinds (symmetric, other
/// curves, encryption keys, short RSA) are left out rather than failing the set, and never
/// become usable: that is what keeps an `HS256` token from being "verified" with a
/// published key as its secret.
pub(crate) fn parse_key_set(document: &serde_json::Value) -> Result<HashMap<String, SigningKey>, &'static str> {
    let listed = document.get("keys").and_then(|keys| keys.as_array()).ok_or("the answer has no key list")?;
    let keys: HashMap<_, _> = listed.iter().filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok()).filter_map(|jwk| usable(&jwk)).collect();
    if keys.is_empty() {
        return Err("the key list has no usable signing key");
    }
    Ok(keys)
}

fn usable(jwk: &Jwk) -> Option<(String, SigningKey)> {
    let kid = jwk.common.key_id.clone().filter(|kid| !kid.is_empty())?;
    if jwk.common.public_key_use.as_ref().is_some_and(|usage| *usage != PublicKeyUse::Signature) {
        return None;
    }
    // Entra's list has no `alg`; where one is given it must agree with the key type.
    let (alg, key) = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) if matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256)) => {
            let modulus = URL_SAFE_NO_PAD.decode(rsa.n.trim_end_matches('=')).ok()?;
            let bits = modulus.iter().position(|&b| b != 0).map_or(0, |first| (modulus.len() - first) * 8);
            if bits < MIN_RSA_BITS {
                return None;
            }
            (Algorithm::RS256, DecodingKey::from_rsa_components(&rsa.n, &rsa.e).ok()?)
        }
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 && matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::ES256)) => {
            (Algorithm::ES256, DecodingKey::from_ec_components(&ec.x, &ec.y).ok()?)
        }
        _ => return None,
    };
    Some((kid, SigningKey { alg, key }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::entra::test_support::{KeyServer, Signer, t0};

    #[test]
    fn only_signing_keys_of_the_two_accepted_kinds_are_kept() {
        let rsa = Signer::rsa("rsa-1");
        let ec = Signer::ec("ec-1");
        let mut p384 = Signer::ec("p384").jwk();
        p384["crv"] = json!("P-384");
        let mut encryption = Signer::rsa("enc").jwk();
        encryption["use"] = json!("enc");
        let mut mislabelled = Signer::ec("mislabelled").jwk();
        mislabelled["alg"] = json!("RS256");
        let keys = parse_key_set(&json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "symmetric"},
            {"kty": "RSA", "kid": "short", "n": URL_SAFE_NO_PAD.encode([0xff; 128]), "e": "AQAB"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty": "RSA", "kid": "future", "alg": "RS9000", "n": "AQAB", "e": "AQAB"},
            p384, encryption, mislabelled, rsa.jwk(), ec.jwk(),
        ]}))
        .unwrap();
        let mut kids: Vec<_> = keys.iter().map(|(kid, key)| (kid.as_str(), key.algorithm())).collect();
        kids.sort_by_key(|(kid, _)| *kid);
        assert_eq!(kids, [("ec-1", Algorithm::ES256), ("rsa-1", Algorithm::RS256)]);
        assert_eq!(parse_key_set(&json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "symmetric"}]})).err(), Some("the key list has no usable signing key"));
        assert_eq!(parse_key_set(&json!({"value": []})).err(), Some("the answer has no key list"));
    }

    #[tokio::test]
    async fn a_fetch_failure_is_a_clear_error_and_the_cache_recovers() {
        let signer = Signer::rsa("rsa-1");
        let server = KeyServer::start(vec![signer.jwk()]).await;
        server.set_failing(true);
        let cache = JwksCache::new(server.url());
        let Err(KeyError::Unavailable(error)) = cache.key("rsa-1", t0()).await else { panic!("expected the fetch to fail") };
        assert!(error.to_string().starts_with("the tenant's signing keys could not be fetched from http://127.0.0.1:"), "{error}");
        assert!(error.to_string().ends_with("the server answered 500 Internal Server Error"), "{error}");

        // Entra is back, but the last failure was moments ago: fail fast, no new attempt.
        server.set_failing(false);
        assert!(matches!(cache.key("rsa-1", t0() + Duration::seconds(5)).await, Err(KeyError::Unavailable(_))));
        assert_eq!(server.hits(), 1);
        let key = cache.key("rsa-1", t0() + RETRY_AFTER_FAILURE).await.unwrap();
        assert_eq!(key.algorithm(), Algorithm::RS256);
        assert_eq!(server.hits(), 2);
    }

    #[tokio::test]
    async fn an_unreachable_tenant_is_a_clear_error() {
        // A port that was free a moment ago: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/demo/discovery/v2.0/keys", listener.local_addr().unwrap())).unwrap();
        drop(listener);
        let Err(KeyError::Unavailable(error)) = JwksCache::new(url).key("rsa-1", t0()).await else { panic!("expected the fetch to fail") };
        assert!(error.to_string().starts_with("the tenant's signing keys could not be fetched"), "{error}");
    }

    #[tokio::test]
    async fn keys_are_fetched_once_and_refreshed_when_a_day_old() {
        let old = Signer::rsa("old");
        let server = KeyServer::start(vec![old.jwk()]).await;
        let cache = JwksCache::new(server.url());
        for minutes in [0, 1, 60] {
            cache.key("old", t0() + Duration::minutes(minutes)).await.unwrap();
        }
        assert_eq!(server.hits(), 1);

        // Entra withdrew the key: once the set is a day old, the key stops being trusted.
        server.set_keys(vec![Signer::ec("new").jwk()]);
        assert_eq!(cache.key("old", t0() + MAX_KEY_AGE).await.err(), Some(KeyError::Unknown));
        assert_eq!(server.hits(), 2, "refreshed, and no second refetch right after it");

        // A stale set still serves while Entra is unreachable.
        server.set_failing(true);
        let later = t0() + MAX_KEY_AGE + MAX_KEY_AGE;
        assert_eq!(cache.key("new", later).await.unwrap().algorithm(), Algorithm::ES256);
    }
}
