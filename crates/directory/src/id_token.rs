//! The ID token check: the answer to the token request must be about this sign-in (the
//! nonce we sent), for this app (aud = client id), from this directory (iss as its
//! openid-configuration names it), current (exp), and signed by a key from the JWKS that
//! configuration names. ES256 (the demo directory) and RS256 (Entra), via jsonwebtoken.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::Jwk};
use serde::Deserialize;
use url::Url;

use crate::{DirectoryConfig, DirectoryError, http::get_json};

/// Clock difference tolerated between this computer and the directory.
const LEEWAY: Duration = Duration::from_secs(5 * 60);

/// What the directory's openid-configuration says about its tokens.
#[derive(Clone, Debug)]
pub(crate) struct Discovery {
    /// May hold Entra's `{tenantid}` placeholder (the `organizations` and `common` tenants).
    pub issuer: String,
    pub jwks_uri: Url,
}

impl Discovery {
    /// `{authority}/{tenant}/v2.0/.well-known/openid-configuration`.
    pub async fn fetch(http: &reqwest::Client, config: &DirectoryConfig) -> Result<Self, DirectoryError> {
        let url = config.tenant_url("/v2.0/.well-known/openid-configuration")?;
        let document = get_json(http, url, "sign-in configuration").await?;
        let text = |name: &str| document[name].as_str().map(str::to_owned).ok_or_else(|| DirectoryError::Protocol(format!("the sign-in configuration has no {name}")));
        let jwks_uri = Url::parse(&text("jwks_uri")?).map_err(|_| DirectoryError::Protocol("the sign-in configuration's jwks_uri is not a URL".into()))?;
        Ok(Self { issuer: text("issuer")?, jwks_uri })
    }
}

/// The directory's signing keys. Keys that jsonwebtoken cannot read (other key types) are
/// left out rather than failing the set.
pub(crate) struct SigningKeys(Vec<Jwk>);

impl SigningKeys {
    pub async fn fetch(http: &reqwest::Client, jwks_uri: &Url) -> Result<Self, DirectoryError> {
        let document = get_json(http, jwks_uri.clone(), "signing key list").await?;
        Self::from_json(&document)
    }

    pub fn from_json(document: &serde_json::Value) -> Result<Self, DirectoryError> {
        let keys = document["keys"].as_array().ok_or_else(|| DirectoryError::Protocol("the signing key list has no keys".into()))?;
        Ok(Self(keys.iter().filter_map(|key| serde_json::from_value(key.clone()).ok()).collect()))
    }

    /// The key a token's header names (by `kid`; without one, the only key there is).
    fn find(&self, kid: Option<&str>) -> Option<&Jwk> {
        match kid {
            Some(kid) => self.0.iter().find(|key| key.common.key_id.as_deref() == Some(kid)),
            None if self.0.len() == 1 => self.0.first(),
            None => None,
        }
    }
}

/// What this sign-in expects of its ID token.
pub(crate) struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
}

/// The claims this crate uses. `aud` and `iss` are checked, the rest ignored.
#[derive(Deserialize)]
pub(crate) struct IdClaims {
    pub iss: String,
    pub exp: u64,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub tid: Option<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
}

/// Verifies `token` against `keys` and `expected` at `now`. Every failure is
/// [`DirectoryError::SignInTampered`]: a token that does not check out is not this sign-in's.
pub(crate) fn verify(token: &str, keys: &SigningKeys, expected: &Expected<'_>, now: SystemTime) -> Result<IdClaims, DirectoryError> {
    let tampered = |why: &str| {
        tracing::debug!(why, "sign-in: the ID token was refused");
        DirectoryError::SignInTampered
    };
    let header = jsonwebtoken::decode_header(token).map_err(|_| tampered("not a JWT"))?;
    if !matches!(header.alg, Algorithm::ES256 | Algorithm::RS256) {
        return Err(tampered("algorithm not ES256 or RS256"));
    }
    let jwk = keys.find(header.kid.as_deref()).ok_or_else(|| tampered("signed by a key the directory does not list"))?;
    if jwk.common.key_algorithm.is_some_and(|alg| format!("{alg:?}") != format!("{:?}", header.alg)) {
        return Err(tampered("the key is for another algorithm"));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| tampered("the listed key is not usable"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[expected.client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    // Time and issuer are checked below: time against `now`, the issuer with Entra's
    // `{tenantid}` placeholder filled in.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation).map_err(|_| tampered("signature, audience or claims"))?.claims;

    let issuer = expected.issuer.replace("{tenantid}", claims.tid.as_deref().unwrap_or("{tenantid}"));
    if claims.iss != issuer {
        return Err(tampered("issuer"));
    }
    let expires = UNIX_EPOCH + Duration::from_secs(claims.exp);
    if now >= expires + LEEWAY {
        return Err(tampered("expired"));
    }
    if claims.nonce.as_deref() != Some(expected.nonce) {
        return Err(tampered("nonce"));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{Value, json};
    use tap2key_server::tokens::TokenKeys;

    use super::*;

    const ISSUER: &str = "http://127.0.0.1:8400/demo/v2.0";

    fn expected() -> Expected<'static> {
        Expected { issuer: ISSUER, client_id: "tap2key-desktop", nonce: "n-456" }
    }

    fn claims(now: SystemTime) -> Value {
        let now = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
        json!({
            "iss": ISSUER, "aud": "tap2key-desktop", "sub": "s", "oid": "3f2c7a9e-0000-4000-8000-000000000000",
            "preferred_username": "ada@contoso.com", "name": "Ada", "nonce": "n-456",
            "auth_time": now, "iat": now, "exp": now + 3600,
        })
    }

    /// Signs `claims` with a fresh demo-directory key; the keys that verify it.
    fn es256(claims: &Value) -> (String, SigningKeys) {
        let keys = TokenKeys::generate();
        (keys.sign(claims), SigningKeys::from_json(&keys.jwks()).unwrap())
    }

    #[test]
    fn a_good_token_passes_and_names_the_account() {
        let now = SystemTime::now();
        let (token, keys) = es256(&claims(now));
        let verified = verify(&token, &keys, &expected(), now).unwrap();
        assert_eq!(verified.preferred_username.as_deref(), Some("ada@contoso.com"));
    }

    #[test]
    fn a_wrong_nonce_is_tampering() {
        let now = SystemTime::now();
        let (token, keys) = es256(&claims(now));
        let other = Expected { nonce: "n-other", ..expected() };
        assert_eq!(verify(&token, &keys, &other, now).err(), Some(DirectoryError::SignInTampered));
        let mut without = claims(now);
        without.as_object_mut().unwrap().remove("nonce");
        let (token, keys) = es256(&without);
        assert_eq!(verify(&token, &keys, &expected(), now).err(), Some(DirectoryError::SignInTampered));
    }

    #[test]
    fn issuer_audience_expiry_and_signature_are_checked() {
        let now = SystemTime::now();
        for (name, value) in [("iss", json!("https://evil.example/v2.0")), ("aud", json!("another-app"))] {
            let mut changed = claims(now);
            changed[name] = value;
            let (token, keys) = es256(&changed);
            assert_eq!(verify(&token, &keys, &expected(), now).err(), Some(DirectoryError::SignInTampered), "{name}");
        }
        let (token, keys) = es256(&claims(now));
        let later = now + Duration::from_secs(3600) + LEEWAY;
        assert_eq!(verify(&token, &keys, &expected(), later).err(), Some(DirectoryError::SignInTampered), "expired");
        assert!(verify(&token, &keys, &expected(), later - Duration::from_secs(1)).is_ok(), "within the leeway");

        let (_, other_keys) = es256(&claims(now));
        assert_eq!(verify(&token, &other_keys, &expected(), now).err(), Some(DirectoryError::SignInTampered), "another key");
        let forged = format!("{}.{}", token.rsplit_once('.').unwrap().0, "AAAA");
        assert_eq!(verify(&forged, &keys, &expected(), now).err(), Some(DirectoryError::SignInTampered), "bad signature");
    }

    #[test]
    fn unsigned_and_symmetric_tokens_are_refused() {
        let now = SystemTime::now();
        let (_, keys) = es256(&claims(now));
        let hs256 = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(now), &EncodingKey::from_secret(b"secret")).unwrap();
        assert_eq!(verify(&hs256, &keys, &expected(), now).err(), Some(DirectoryError::SignInTampered));
        let body = hs256.split('.').nth(1).unwrap();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{body}.");
        assert_eq!(verify(&none, &keys, &expected(), now).err(), Some(DirectoryError::SignInTampered));
    }

    /// A throwaway RSA key for this test only (Entra signs with RS256).
    const RSA_TEST_KEY: &str = include_str!("id_token/rsa_test_key.pem");
    const RSA_TEST_N: &str = "rDx-xOn1tfT0OdZ2OkbPAXg4tx6JEHeDl5wF3jQA4D8LDaga5J7HpyI_wLZqT5xphsLjHJrl_fwvwxE-8qopSOUBpWKCtTCvTmom0c2wU0Qiz-1ADtH2i_LbuYL1cWNakXws-CJF3jOmDlwAL-lk1XH2YPWcodszR8cyOiLx6kX8ge-L8HLtBBSoV1YPZOLCyZcrZQPuaJ4zxEn7KFhSYINhON1qxaLIlc6VT-_-4FnC2kGQRoMGvOoYALf8YIXO_Fejx24VRm-tx6PSbrSgrSxjEoffyzLR_cNH2Q8NAAeEQiNBEyuxrL86j_KHDybKbVsCLXiX4sCC8s90RWy5Pw";

    #[test]
    fn rs256_with_entras_tenant_placeholder() {
        let now = SystemTime::now();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("nOo3ZDrODXEK1jKWhXslHR_KXEg".into());
        let mut entra = claims(now);
        entra["iss"] = json!("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0");
        entra["tid"] = json!("72f988bf-86f1-41af-91ab-2d7cd011db47");
        let token = jsonwebtoken::encode(&header, &entra, &EncodingKey::from_rsa_pem(RSA_TEST_KEY.as_bytes()).unwrap()).unwrap();
        // Entra's JWKS: no "alg", extra members, and a key of another kind alongside.
        let keys = SigningKeys::from_json(&json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "symmetric"},
            {"kty": "RSA", "use": "sig", "kid": "nOo3ZDrODXEK1jKWhXslHR_KXEg", "x5t": "nOo3ZDrODXEK1jKWhXslHR_KXEg",
             "n": RSA_TEST_N, "e": "AQAB", "x5c": [], "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0", "cloud_instance_name": "microsoftonline.com"},
        ]}))
        .unwrap();
        let organizations = Expected { issuer: "https://login.microsoftonline.com/{tenantid}/v2.0", ..expected() };
        assert!(verify(&token, &keys, &organizations, now).is_ok());
        let other_tenant = Expected { issuer: "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0", ..expected() };
        assert_eq!(verify(&token, &keys, &other_tenant, now).err(), Some(DirectoryError::SignInTampered));
    }
}
