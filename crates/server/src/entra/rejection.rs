//! Why an Entra access token was refused, in words for the API caller.
//!
//! Messages follow Microsoft Graph's (`"Access token validation failure. Invalid
//! audience."`) so clients written for Graph read them, and they never contain the token or
//! any claim value: a refusal is returned to whoever sent the token and may be logged.

use axum::http::StatusCode;

use crate::graph_error::GraphError;

/// One variant per reason a token is refused. `Debug` shows only the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenRejection {
    /// Not three base64url parts with a JSON header and claims, or too long to be a token.
    Malformed,
    /// `alg` is not RS256 or ES256: `none`, the HMAC family and everything else are refused
    /// before any key is looked at.
    UnsupportedAlgorithm,
    /// The header has no `kid`, so the key cannot be chosen.
    MissingKeyId,
    /// The tenant does not publish the key the token names, even after a refetch.
    UnknownKey,
    /// The tenant's key list could not be fetched: the token could be good or bad.
    KeysUnavailable,
    /// The signature does not verify with the named key (or the key is for another
    /// algorithm).
    BadSignature,
    /// `iss` is not exactly the tenant's issuer.
    WrongIssuer,
    /// `aud` is not this broker.
    WrongAudience,
    /// `tid` is not the broker's tenant.
    WrongTenant,
    /// `exp` is past, beyond the leeway.
    Expired,
    /// `nbf`, `iat` or `auth_time` is in the future, beyond the leeway.
    NotYetValid,
    /// A claim the check needs is absent (the claim's name).
    MissingClaim(&'static str),
    /// A claim has a value of the wrong form, e.g. `oid` not a GUID (the claim's name).
    InvalidClaim(&'static str),
    /// `scp` does not contain the required scope (its name, from the configuration).
    MissingScope(String),
    /// `azp`/`appid` is not one of the accepted client applications.
    ClientNotAccepted,
    /// The sign-in behind the token (`auth_time`, else `iat`) is older than allowed.
    SignInTooOld,
    /// `amr` has none of the sign-in methods the configuration requires.
    SignInMethodNotAccepted,
}

impl TokenRejection {
    /// 401 for a token that does not prove who the caller is; 403 for a proven caller
    /// without the permission (scope) or through an application that is not accepted;
    /// 503 when the keys to check with could not be fetched. Freshness problems are 401
    /// (the cure is to sign in again) with their own [`code`](Self::code).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingScope(_) | Self::ClientNotAccepted => StatusCode::FORBIDDEN,
            Self::KeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The `error.code` of the Graph-style answer. The desktop app tells "sign in again"
    /// (`signInTooOld`, `signInMethodNotAccepted`) apart from a token that is simply bad
    /// (`InvalidAuthenticationToken`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingScope(_) | Self::ClientNotAccepted => "accessDenied",
            Self::KeysUnavailable => "serviceNotAvailable",
            Self::SignInTooOld => "signInTooOld",
            Self::SignInMethodNotAccepted => "signInMethodNotAccepted",
            _ => "InvalidAuthenticationToken",
        }
    }

    /// What the API caller is told.
    pub fn message(&self) -> String {
        match self {
            Self::Malformed => "Access token validation failure. The token is not a well-formed JWT.".into(),
            Self::UnsupportedAlgorithm => "Access token validation failure. The token's signing algorithm is not accepted.".into(),
            Self::MissingKeyId => "Access token validation failure. The token does not name its signing key.".into(),
            Self::UnknownKey => "Access token validation failure. The token was not signed by a key the tenant publishes.".into(),
            Self::KeysUnavailable => "The tenant's signing keys could not be fetched, so the access token cannot be checked. Try again in a minute.".into(),
            Self::BadSignature => "Access token validation failure. Invalid signature.".into(),
            Self::WrongIssuer => "Access token validation failure. Invalid issuer.".into(),
            Self::WrongAudience => "Access token validation failure. Invalid audience.".into(),
            Self::WrongTenant => "Access token validation failure. The token was issued in another tenant.".into(),
            Self::Expired | Self::NotYetValid => "Access token has expired or is not yet valid.".into(),
            Self::MissingClaim(claim) => format!("Access token validation failure. The token has no {claim} claim."),
            Self::InvalidClaim(claim) => format!("Access token validation failure. The token's {claim} claim is not valid."),
            Self::MissingScope(scope) => format!("The access token does not grant the {scope} permission. Sign in through the tap2key app, which asks for it."),
            Self::ClientNotAccepted => "The application that obtained this access token is not allowed to register passkeys through this service.".into(),
            Self::SignInTooOld => "The sign-in is too old to register a passkey; sign in again.".into(),
            Self::SignInMethodNotAccepted => "The sign-in did not use a method accepted for registering a passkey; sign in again with your Temporary Access Pass.".into(),
        }
    }
}

impl std::fmt::Display for TokenRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for TokenRejection {}

/// Answered in Graph's error envelope, like the rest of the API.
impl From<TokenRejection> for GraphError {
    fn from(rejection: TokenRejection) -> Self {
        GraphError::new(rejection.status(), rejection.code(), rejection.message())
    }
}
