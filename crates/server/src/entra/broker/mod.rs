//! Broker mode: the Graph-shaped passkey API the desktop app speaks, served for users who
//! signed in at Entra, and carried out in Entra through Microsoft Graph with the broker's
//! application permission, for exactly the user whose token came with the request.
//!
//! | app → broker | broker → Graph (`/users/{oid}/...`) |
//! |---|---|
//! | `GET  /v1.0/me/authentication/fido2Methods/creationOptions` | `GET .../creationOptions`; the challenge is remembered to verify the answer |
//! | `POST /v1.0/me/authentication/fido2Methods` | the attestation is verified here first (key policy, model named in refusals), then `POST`, then the method is looked for in the list; the public key is kept |
//! | `GET  /v1.0/me/authentication/fido2Methods[/{id}]` | `GET .../fido2Methods` |
//! | `DELETE /v1.0/me/authentication/fido2Methods/{id}` | `DELETE .../{id}`; the kept public key goes too |
//! | `POST .../{id}/testSignIn/begin`, `/finish` | nothing: verified here against the kept public key (Graph has no such call) |
//!
//! Every call is written to the audit trail, refusals included; never a token, challenge
//! or key.

mod methods;
mod options;
mod register;

use axum::{
    Router,
    routing::{get, post},
};
use reqwest::Url;

use super::{AppTokenSource, BrokerConfig, EntraTokenRules, JwksCache, graph_client::GraphClient};
use crate::{app::AppState, caller::Caller, graph, graph_error::GraphError};

/// What broker mode runs on, built once at start.
pub struct Broker {
    pub config: BrokerConfig,
    rules: EntraTokenRules,
    jwks: JwksCache,
    pub graph: GraphClient,
}

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("the authority {0} does not make Entra URLs")]
    Authority(Url),
}

impl Broker {
    pub fn new(config: BrokerConfig, http: reqwest::Client) -> Result<Self, BrokerError> {
        let (jwks_url, token_url) = match (config.jwks_url(), config.token_url()) {
            (Ok(jwks), Ok(token)) => (jwks, token),
            _ => return Err(BrokerError::Authority(config.authority.clone())),
        };
        let tokens = AppTokenSource::new(token_url, config.client_id.clone(), config.credential.clone())
            .with_scope(config.graph_scope())
            .with_client(http.clone());
        Ok(Self {
            rules: config.token_rules(),
            jwks: JwksCache::with_client(http.clone(), jwks_url),
            graph: GraphClient::new(config.graph.clone(), tokens, http),
            config,
        })
    }

    /// The user a request is for: the token must be a valid Entra access token for this
    /// broker. The user is remembered (object id, UPN) for ceremonies, passkeys and audit.
    pub async fn caller(&self, state: &AppState, token: &str) -> Result<Caller, GraphError> {
        let now = state.clock.now();
        let user = self.rules.validate(token, &self.jwks, now).await?;
        let upn = user.upn.clone().unwrap_or_else(|| user.object_id.to_string());
        let user = state.store.remember_user(user.object_id, &upn, &upn, now).await?;
        Ok(Caller { user, admin: false })
    }
}

/// The same paths as the demo directory's (see [`crate::graph`]), so the app cannot tell
/// them apart. `/users/{id}` works for the caller's own id or UPN only.
pub fn routes() -> Router<AppState> {
    let methods = Router::new()
        .route("/authentication/fido2Methods", get(methods::list).post(register::register))
        .route("/authentication/fido2Methods/creationOptions", get(options::get))
        .route("/authentication/fido2Methods/{id}", get(methods::get_one).delete(methods::delete))
        .route("/authentication/fido2Methods/{id}/testSignIn/begin", post(graph::test_sign_in_begin))
        .route("/authentication/fido2Methods/{id}/testSignIn/finish", post(graph::test_sign_in_finish));
    let version = Router::new().nest("/me", methods.clone()).nest("/users/{user}", methods);
    Router::new().nest("/v1.0", version.clone()).nest("/beta", version).method_not_allowed_fallback(graph::method_not_allowed)
}
