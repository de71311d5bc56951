//! The tokens Entra issues, claim for claim ("Access token claims reference", "ID token
//! claims reference" on learn.microsoft.com), and how Graph checks the ones it receives.
//!
//! - User access tokens for the broker are v2 (`ver` "2.0", `iss` `{authority}{tid}/v2.0`,
//!   `aud` the broker's client id GUID whichever form the scope was asked in, `scp`,
//!   `azp`/`azpacr`, a pairwise `sub`; v2 tokens carry no `amr`).
//! - Graph tokens are v1 (`iss` `https://sts.windows.net/{tid}/`, `aud`
//!   `https://graph.microsoft.com`): app-only ones carry `appid`, `idtyp` "app" and
//!   `roles`; delegated ones (direct mode) `scp`.
//! - Opaque claims (`aio`, `rh`, `uti`, `xms_*`) are there so that a consumer that refuses
//!   unknown claims fails here as it would against Entra.
//!
//! Not faithful: real Graph tokens carry a `nonce` in the JOSE header that makes them
//! unverifiable for anyone but Graph; here they verify with the published JWKS.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::state::{Shared, User};

/// Graph's audience in v1 tokens.
pub(crate) const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
/// Graph's well-known application id (its `aud` in some tokens, and in `WWW-Authenticate`).
pub(crate) const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// The least-privileged application permission for the passkey API.
pub(crate) const PASSKEY_ROLE: &str = "UserAuthMethod-Passkey.ReadWrite.All";

/// What a delegated token is for.
pub(crate) enum Audience {
    /// The broker's API (v2 token).
    Broker,
    /// Graph (v1 token), with the Graph scopes granted.
    Graph,
}

pub(crate) struct UserToken<'a> {
    pub user: &'a User,
    pub audience: Audience,
    /// `scp`: space-separated scope names without the resource.
    pub scp: String,
    pub auth_time: OffsetDateTime,
    pub expires: OffsetDateTime,
}

fn secs(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

/// An opaque base64url string of `len` random bytes (`uti`, `rh`, `aio` look like this).
pub(crate) fn opaque(len: usize) -> String {
    let bytes: Vec<u8> = (0..len).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Entra's pairwise `sub`: stable per user and app, different across apps, not the oid.
fn pairwise_sub(user: Uuid, app: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(
        [
            b"stand-in sub\0".as_slice(),
            user.as_bytes(),
            app.as_bytes(),
        ]
        .concat(),
    ))
}

impl Shared {
    fn sign(&self, claims: &Value) -> String {
        let key = &self.signing_keys[self.lock().active_key];
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".into());
        header.kid = Some(key.kid.clone());
        header.x5t = Some(key.kid.clone());
        // The claims are plain JSON and the key is a fixed, valid RSA key: signing cannot fail.
        jsonwebtoken::encode(&header, claims, &key.encoding).unwrap_or_default()
    }

    pub fn user_access_token(&self, token: &UserToken<'_>) -> String {
        let now = self.now();
        let tid = self.config.tenant_id.to_string();
        let mut claims = match token.audience {
            Audience::Broker => {
                let aud = self.config.broker_client_id.to_string();
                json!({
                    "aud": aud,
                    "iss": self.issuer(),
                    "iat": secs(now), "nbf": secs(now), "exp": secs(token.expires),
                    "aio": opaque(48),
                    "azp": self.config.desktop_client_id.to_string(),
                    "azpacr": "0",
                    "name": token.user.display_name,
                    "oid": token.user.oid.to_string(),
                    "preferred_username": token.user.upn,
                    "rh": format!("1.{}AAA.", opaque(24)),
                    "scp": token.scp,
                    "sid": Uuid::new_v4().to_string(),
                    "sub": pairwise_sub(token.user.oid, &aud),
                    "tid": tid,
                    "uti": opaque(16),
                    "ver": "2.0",
                    "xms_ftd": opaque(32),
                })
            }
            Audience::Graph => json!({
                "aud": GRAPH_AUDIENCE,
                "iss": format!("https://sts.windows.net/{tid}/"),
                "iat": secs(now), "nbf": secs(now), "exp": secs(token.expires),
                "acct": 0,
                "acr": "1",
                "aio": opaque(48),
                "amr": ["pwd", "mfa"],
                "app_displayname": "tap2key",
                "appid": self.config.desktop_client_id.to_string(),
                "appidacr": "0",
                "idtyp": "user",
                "name": token.user.display_name,
                "oid": token.user.oid.to_string(),
                "rh": format!("1.{}AAA.", opaque(24)),
                "scp": token.scp,
                "sub": pairwise_sub(token.user.oid, GRAPH_APP_ID),
                "tid": tid,
                "unique_name": token.user.upn,
                "upn": token.user.upn,
                "uti": opaque(16),
                "ver": "1.0",
            }),
        };
        if self.config.include_auth_time {
            claims["auth_time"] = json!(secs(token.auth_time));
        }
        self.sign(&claims)
    }

    pub fn id_token(
        &self,
        user: &User,
        nonce: Option<&str>,
        auth_time: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> String {
        let now = self.now();
        let aud = self.config.desktop_client_id.to_string();
        let mut claims = json!({
            "aud": aud,
            "iss": self.issuer(),
            "iat": secs(now), "nbf": secs(now), "exp": secs(expires),
            "auth_time": secs(auth_time),
            "name": user.display_name,
            "oid": user.oid.to_string(),
            "preferred_username": user.upn,
            "rh": format!("1.{}AAA.", opaque(24)),
            "sid": Uuid::new_v4().to_string(),
            "sub": pairwise_sub(user.oid, &aud),
            "tid": self.config.tenant_id.to_string(),
            "uti": opaque(16),
            "ver": "2.0",
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        self.sign(&claims)
    }

    /// The broker's app-only Graph token (v1). `appidacr` "2" for a certificate, "1" for a secret.
    pub fn app_token(&self, with_certificate: bool) -> (String, OffsetDateTime) {
        let now = self.now();
        let expires = now + self.config.app_token_lifetime;
        let tid = self.config.tenant_id.to_string();
        let uti = opaque(16);
        let service_principal = Uuid::from_bytes(
            Sha256::digest(self.config.broker_client_id.as_bytes())[..16]
                .try_into()
                .unwrap_or([0; 16]),
        )
        .to_string();
        let mut claims = json!({
            "aud": GRAPH_AUDIENCE,
            "iss": format!("https://sts.windows.net/{tid}/"),
            "iat": secs(now), "nbf": secs(now), "exp": secs(expires),
            "aio": opaque(48),
            "app_displayname": "tap2key broker",
            "appid": self.config.broker_client_id.to_string(),
            "appidacr": if with_certificate { "2" } else { "1" },
            "idp": format!("https://sts.windows.net/{tid}/"),
            "idtyp": "app",
            "oid": service_principal,
            "rh": format!("1.{}AAA.", opaque(24)),
            "sub": service_principal,
            "tenant_region_scope": "EU",
            "tid": tid,
            "uti": uti,
            "ver": "1.0",
            "wids": ["0997a1d0-0d1d-4acb-b408-d5ca73121e90"],
            "xms_tcdt": 1_700_000_000,
        });
        let mut inner = self.lock();
        if inner.graph_permission {
            claims["roles"] = json!([PASSKEY_ROLE]);
        }
        inner.app_token_utis.push(uti);
        drop(inner);
        (self.sign(&claims), expires)
    }

    /// A token this stand-in signed (either key), its claims; times are not checked here.
    pub fn verified_claims(&self, token: &str) -> Option<Value> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let key = self
            .signing_keys
            .iter()
            .find(|key| Some(&key.kid) == header.kid.as_ref())?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_aud = false;
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(token, &key.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }

    /// How the journal shows a bearer token: never the token itself.
    pub fn token_label(&self, token: &str) -> &'static str {
        match self.verified_claims(token) {
            Some(claims) if claims["idtyp"] == "app" => "<app-token>",
            Some(_) => "<user-token>",
            None => "<unknown>",
        }
    }
}
