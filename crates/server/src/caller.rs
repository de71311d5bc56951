//! Who is calling the Graph-shaped API. In the demo directory: the bearer of a valid
//! access token from this directory, with the scope the API requires. In broker mode: the
//! bearer of a valid Entra access token for this broker (see [`crate::entra::broker`]).

use axum::{extract::FromRequestParts, http::request::Parts};

use crate::{app::AppState, graph_error::GraphError, store::User, tokens::ADMIN_ROLE};

pub struct Caller {
    pub user: User,
    /// An Authentication Administrator, who may manage other users' methods
    /// (`/users/{id}/...`). Never in broker mode: the broker acts only for the user who
    /// signed in.
    pub admin: bool,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.admin
    }
}

/// The bearer token of a request, or Graph's answer to a request without one.
pub fn bearer(parts: &Parts) -> Result<&str, GraphError> {
    let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    header
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| GraphError::unauthenticated("Access token is empty."))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = GraphError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, GraphError> {
        let token = bearer(parts)?;
        if let Some(broker) = &state.broker {
            return broker.caller(state, token).await;
        }
        let claims = state
            .keys
            .verify_access(token, &state.issuer(), &state.config.audience, state.clock.now())
            .map_err(|_| GraphError::unauthenticated("Access token has expired or is not yet valid, or was not issued for this API."))?;
        if !claims.scp.split_whitespace().any(|s| s == state.config.scope) {
            return Err(GraphError::forbidden("Either the signed-in user does not have sufficient privileges, or you need to consent to one of the permissions on this API."));
        }
        let user = state.store.user_by_id(claims.oid).await?;
        let user = user.ok_or_else(|| GraphError::unauthenticated("The user in the token no longer exists."))?;
        Ok(Caller { user, admin: claims.roles.iter().any(|r| r == ADMIN_ROLE) })
    }
}
