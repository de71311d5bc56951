//! The broker's rules for a user's Entra access token, and the check itself.

use std::collections::HashSet;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{
    jwks::{JwksCache, KeyError},
    rejection::TokenRejection,
};

/// Clock difference tolerated between Entra and this service.
pub const DEFAULT_LEEWAY: Duration = Duration::seconds(120);
/// Registering a passkey needs a sign-in within the last 5 to 10 minutes (Entra's own rule
/// for security-info changes), and a one-time TAP leaves 10 minutes to finish.
pub const DEFAULT_MAX_AUTH_AGE: Duration = Duration::minutes(10);
/// Entra tokens are a few kilobytes; anything far larger is not one.
const MAX_TOKEN_LEN: usize = 64 * 1024;

/// What the broker expects of an access token before acting for its user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntraTokenRules {
    /// Exactly `https://login.microsoftonline.com/{tid}/v2.0`: the issuer of v2 tokens. (A
    /// v1 token says `https://sts.windows.net/{tid}/`; the broker's app registration should
    /// set `requestedAccessTokenVersion: 2` so Entra issues v2 tokens for it.)
    pub issuer: String,
    /// The broker's application ID URI (`api://...`) *and* its client id GUID. The app asks
    /// for `api://.../Passkeys.Register`, but Entra's v2 tokens carry the GUID in `aud`
    /// whichever form was asked for; v1 tokens carry the form that was asked for. Listing
    /// both accepts either without accepting tokens for any other API.
    pub audiences: Vec<String>,
    /// The tenant GUID; `tid` must equal it (ASCII case ignored). The issuer already names
    /// the tenant, but checking `tid` too keeps a misconfigured issuer from opening the
    /// broker to another tenant's users.
    pub tenant_id: String,
    /// The delegated scope the token must grant, as it appears in `scp` (e.g.
    /// `Passkeys.Register`, without the `api://...` prefix). `scp` is a space-separated
    /// list; the scope must be one of its entries exactly.
    pub required_scope: String,
    /// The client applications (GUIDs) whose tokens are accepted: `azp` in v2 tokens,
    /// `appid` in v1 (ASCII case ignored). Without this, any app a user consented to could
    /// obtain a token for the broker and register keys in the user's name.
    pub accepted_client_ids: Vec<String>,
    /// Tolerance for `exp`, `nbf`, `iat` and `auth_time` (clock skew).
    pub leeway: Duration,
    pub freshness: Freshness,
}

/// How recent and how strong the sign-in behind the token must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Freshness {
    /// The sign-in is `auth_time` when the token carries it, else `iat`. Entra does not put
    /// `auth_time` in access tokens by default (it is an optional claim); `iat` is when the
    /// token was issued, which redeeming a refresh token renews without a new sign-in. So
    /// configure the optional claim on the broker's app registration for this check to
    /// mean "signed in recently" rather than "token obtained recently".
    pub max_auth_age: Duration,
    /// If `Some`, at least one of these must appear in `amr`. `None` (the default) checks
    /// nothing: the `amr` value a TAP sign-in yields is not documented, and Entra's v2
    /// access tokens do not carry `amr` at all (only v1 tokens do; see
    /// MicrosoftDocs/azure-docs#85021), so a fixed rule could refuse every real user.
    /// `Some(vec![])` refuses every token.
    pub required_amr: Option<Vec<String>>,
}

impl Default for Freshness {
    fn default() -> Self {
        Self { max_auth_age: DEFAULT_MAX_AUTH_AGE, required_amr: None }
    }
}

/// The user a valid token proves, for the broker to act for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntraUser {
    /// `oid`: the user's object id, the `{id}` in Graph's `/users/{id}/...`. (`sub` is
    /// pairwise per application and not usable with Graph.)
    pub object_id: Uuid,
    pub tenant_id: String,
    /// `preferred_username` (v2) or `upn` (v1): for display only, never for authorization
    /// (users can change it, and guests' is not a UPN of this tenant).
    pub upn: Option<String>,
    /// When the user signed in (`auth_time`, else `iat`).
    pub auth_time: OffsetDateTime,
    /// How the user signed in, if the token says (empty if not).
    pub amr: Vec<String>,
}

impl EntraTokenRules {
    /// Rules for `tenant_id` on the public cloud, with the default leeway and freshness.
    pub fn for_tenant(tenant_id: &str, audiences: Vec<String>, required_scope: &str, accepted_client_ids: Vec<String>) -> Self {
        Self {
            issuer: format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
            audiences,
            tenant_id: tenant_id.to_owned(),
            required_scope: required_scope.to_owned(),
            accepted_client_ids,
            leeway: DEFAULT_LEEWAY,
            freshness: Freshness::default(),
        }
    }

    /// Checks `token` (the bearer value, without `Bearer `) at `now`, fetching the tenant's
    /// keys through `jwks` as needed. Token problems come first (401), then permission
    /// (403), then freshness (401, `signInTooOld`): a caller without the scope learns that
    /// before being sent to sign in again for nothing.
    pub async fn validate(&self, token: &str, jwks: &JwksCache, now: OffsetDateTime) -> Result<EntraUser, TokenRejection> {
        let result = self.check(token, jwks, now).await;
        match &result {
            // The reason only: no token, no claim values.
            Err(reason) => tracing::debug!(?reason, "an Entra access token was refused"),
            Ok(user) => tracing::debug!(tid = %user.tenant_id, oid = %user.object_id, "an Entra access token was accepted"),
        }
        result
    }

    async fn check(&self, token: &str, jwks: &JwksCache, now: OffsetDateTime) -> Result<EntraUser, TokenRejection> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenRejection::Malformed);
        }
        let header = read_header(token)?;
        // Decided from the header alone, before any key: `none` and HS256 never reach a
        // verifier, whatever the key list holds.
        let alg = match header.alg.as_str() {
            "RS256" => Algorithm::RS256,
            "ES256" => Algorithm::ES256,
            _ => return Err(TokenRejection::UnsupportedAlgorithm),
        };
        let kid = header.kid.filter(|kid| !kid.is_empty()).ok_or(TokenRejection::MissingKeyId)?;
        let key = jwks.key(&kid, now).await.map_err(|error| match error {
            KeyError::Unknown => TokenRejection::UnknownKey,
            KeyError::Unavailable(_) => TokenRejection::KeysUnavailable,
        })?;
        if key.algorithm() != alg {
            return Err(TokenRejection::BadSignature);
        }

        // jsonwebtoken checks the signature only; every claim is checked below, each with
        // its own rejection, against `now` rather than the system clock.
        let mut signature_only = Validation::new(alg);
        signature_only.required_spec_claims = HashSet::new();
        signature_only.validate_exp = false;
        signature_only.validate_nbf = false;
        signature_only.validate_aud = false;
        let claims = jsonwebtoken::decode::<Claims>(token, key.decoding_key(), &signature_only)
            .map_err(|error| match error.kind() {
                ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => TokenRejection::Malformed,
                _ => TokenRejection::BadSignature,
            })?
            .claims;
        self.check_claims(claims, now)
    }

    fn check_claims(&self, claims: Claims, now: OffsetDateTime) -> Result<EntraUser, TokenRejection> {
        use TokenRejection as R;

        if claims.iss.ok_or(R::MissingClaim("iss"))? != self.issuer {
            return Err(R::WrongIssuer);
        }
        if !claims.aud.ok_or(R::MissingClaim("aud"))?.any(|aud| self.audiences.iter().any(|ours| ours == aud)) {
            return Err(R::WrongAudience);
        }
        let tid = claims.tid.ok_or(R::MissingClaim("tid"))?;
        if !tid.eq_ignore_ascii_case(&self.tenant_id) {
            return Err(R::WrongTenant);
        }

        let (now_s, leeway) = (now.unix_timestamp(), self.leeway.whole_seconds());
        let in_future = |at: i64| at > now_s.saturating_add(leeway);
        if now_s > claims.exp.ok_or(R::MissingClaim("exp"))?.seconds().saturating_add(leeway) {
            return Err(R::Expired);
        }
        if [claims.nbf, claims.iat].into_iter().flatten().any(|at| in_future(at.seconds())) {
            return Err(R::NotYetValid);
        }
        let object_id = claims.oid.ok_or(R::MissingClaim("oid"))?.parse::<Uuid>().map_err(|_| R::InvalidClaim("oid"))?;

        if !claims.scp.as_deref().unwrap_or_default().split_whitespace().any(|scope| scope == self.required_scope) {
            return Err(R::MissingScope(self.required_scope.clone()));
        }
        let client = claims.azp.or(claims.appid).ok_or(R::ClientNotAccepted)?;
        if !self.accepted_client_ids.iter().any(|accepted| accepted.eq_ignore_ascii_case(&client)) {
            return Err(R::ClientNotAccepted);
        }

        let signed_in = claims.auth_time.or(claims.iat).ok_or(R::MissingClaim("iat"))?.seconds();
        if in_future(signed_in) {
            return Err(R::NotYetValid);
        }
        if now_s.saturating_sub(signed_in) > self.freshness.max_auth_age.whole_seconds() {
            return Err(R::SignInTooOld);
        }
        if let Some(required) = &self.freshness.required_amr
            && !claims.amr.iter().any(|method| required.contains(method))
        {
            return Err(R::SignInMethodNotAccepted);
        }

        Ok(EntraUser {
            object_id,
            tenant_id: tid,
            upn: claims.preferred_username.or(claims.upn),
            auth_time: OffsetDateTime::from_unix_timestamp(signed_in).map_err(|_| R::InvalidClaim("auth_time"))?,
            amr: claims.amr,
        })
    }
}

/// The JOSE header, read by hand so an `alg` jsonwebtoken has no name for (`none`) is a
/// clear [`TokenRejection::UnsupportedAlgorithm`] rather than a parse error.
#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
    kid: Option<String>,
    /// Extensions the verifier must understand (RFC 7515 §4.1.11); Entra uses none, and
    /// this check understands none, so a token with `crit` is refused.
    crit: Option<serde_json::Value>,
}

fn read_header(token: &str) -> Result<JoseHeader, TokenRejection> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenRejection::Malformed);
    };
    let json = URL_SAFE_NO_PAD.decode(header).map_err(|_| TokenRejection::Malformed)?;
    let header: JoseHeader = serde_json::from_slice(&json).map_err(|_| TokenRejection::Malformed)?;
    if header.crit.is_some() {
        return Err(TokenRejection::Malformed);
    }
    Ok(header)
}

/// The claims the check reads; Entra's many others (`aio`, `uti`, `rh`, `xms_*`, ...) are
/// ignored. All optional here, so a missing one is named in its rejection.
#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    aud: Option<Audience>,
    tid: Option<String>,
    exp: Option<NumericDate>,
    nbf: Option<NumericDate>,
    iat: Option<NumericDate>,
    auth_time: Option<NumericDate>,
    oid: Option<String>,
    scp: Option<String>,
    azp: Option<String>,
    appid: Option<String>,
    preferred_username: Option<String>,
    upn: Option<String>,
    #[serde(default)]
    amr: Vec<String>,
}

/// `aud` is one string in Entra's tokens; JWT allows a list.
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn any(&self, mut matches: impl FnMut(&str) -> bool) -> bool {
        match self {
            Self::One(aud) => matches(aud),
            Self::Many(auds) => auds.iter().any(|aud| matches(aud)),
        }
    }
}

/// Seconds since the epoch; JWT allows fractions (Entra sends whole seconds).
#[derive(Clone, Copy, Deserialize)]
#[serde(untagged)]
enum NumericDate {
    Whole(i64),
    Fraction(f64),
}

impl NumericDate {
    fn seconds(self) -> i64 {
        match self {
            Self::Whole(seconds) => seconds,
            Self::Fraction(seconds) => seconds.floor() as i64,
        }
    }
}

#[cfg(test)]
mod tests;
