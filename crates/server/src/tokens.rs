//! Signed JWT access and ID tokens (ES256), and the JWKS that publishes their key.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::{
    SecretKey,
    elliptic_curve::{Generate, sec1::ToSec1Point},
    pkcs8::EncodePrivateKey,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

/// What an access token says, in Entra's claim names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub oid: Uuid,
    pub tid: String,
    pub upn: String,
    pub name: String,
    /// The client that asked for the token.
    pub azp: String,
    /// Space-separated delegated scopes.
    pub scp: String,
    /// How the user signed in: `["tap", "mfa"]` after a Temporary Access Pass.
    pub amr: Vec<String>,
    pub auth_time: i64,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// Directory roles; the demo's administrators hold "Authentication Administrator".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    pub ver: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub oid: Uuid,
    pub preferred_username: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub iat: i64,
    pub exp: i64,
}

pub const ADMIN_ROLE: &str = "Authentication Administrator";

/// The service's token key, made at start-up: tokens from a previous run stop verifying.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    x: String,
    y: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not valid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

impl TokenKeys {
    pub fn generate() -> Self {
        let secret = SecretKey::generate();
        let der = secret.to_pkcs8_der().expect("a P-256 key encodes as PKCS#8");
        let point = secret.public_key().to_sec1_point(false);
        let (x, y) = (URL_SAFE_NO_PAD.encode(point.x().expect("uncompressed")), URL_SAFE_NO_PAD.encode(point.y().expect("uncompressed")));
        // RFC 7638 thumbprint: SHA-256 of the canonical JWK members.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        let decoding = DecodingKey::from_ec_components(&x, &y).expect("our own coordinates are valid");
        Self { encoding: EncodingKey::from_ec_der(der.as_bytes()), decoding, kid, x, y }
    }

    pub fn sign<T: Serialize>(&self, claims: &T) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing with our own key cannot fail")
    }

    /// Verifies signature, issuer, audience and time (30 s of clock skew allowed).
    pub fn verify_access(&self, token: &str, issuer: &str, audience: &str, now: OffsetDateTime) -> Result<AccessClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        // jsonwebtoken checks exp/nbf against the system clock; the service's own clock
        // (movable in tests) is checked below as well.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)?.claims;
        let now = now.unix_timestamp();
        if now >= claims.exp + 30 || now + 30 < claims.nbf {
            return Err(TokenError::Invalid(jsonwebtoken::errors::ErrorKind::ExpiredSignature.into()));
        }
        Ok(claims)
    }

    /// The JWKS document: the one public key, as Entra's `keys` endpoint lists them.
    pub fn jwks(&self) -> serde_json::Value {
        json!({"keys": [{"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid, "x": self.x, "y": self.y}]})
    }
}
