//! Signing in with a Temporary Access Pass the way Entra ID does it: OAuth 2.0
//! authorization code with PKCE (S256 only), `state`, `nonce` and `login_hint`, on
//! Entra's paths (`/{tenant}/oauth2/v2.0/authorize`, `/token`, `/discovery/v2.0/keys`).

mod authorize;
mod discovery;
mod error;
mod page;
mod pkce;
mod token;

use axum::{Router, routing::get};

use crate::app::AppState;

pub use error::OAuthError;
pub use token::access_token;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth2/v2.0/authorize", get(authorize::show).post(authorize::submit))
        .route("/oauth2/v2.0/token", axum::routing::post(token::exchange))
        .route("/discovery/v2.0/keys", get(discovery::jwks))
        .route("/v2.0/.well-known/openid-configuration", get(discovery::openid_configuration))
        .route("/oauth2/v2.0/signin.css", get(page::stylesheet))
}
