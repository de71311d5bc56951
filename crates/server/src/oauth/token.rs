//! The token endpoint: an authorization code and its PKCE verifier for a signed access
//! token (and an ID token carrying the nonce when `openid` was asked for).

use axum::{
    Form, Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{OAuthError, pkce};
use crate::{
    app::AppState,
    store::User,
    tokens::{AccessClaims, IdClaims},
};

#[derive(Deserialize)]
pub struct TokenRequest {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    code: Zeroizing<String>,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    code_verifier: Zeroizing<String>,
}

pub async fn exchange(State(state): State<AppState>, Form(request): Form<TokenRequest>) -> Result<Response, OAuthError> {
    if request.grant_type != "authorization_code" {
        return Err(OAuthError::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", Some(70003), "Only the authorization_code grant is supported."));
    }
    if !state.config.client_ids.contains(&request.client_id) {
        return Err(OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", Some(700016), "This application is not known to the directory."));
    }
    if request.code.is_empty() || request.code_verifier.is_empty() {
        return Err(OAuthError::invalid_request("code and code_verifier are required."));
    }
    let now = state.clock.now();
    let hash: [u8; 32] = Sha256::digest(request.code.as_bytes()).into();
    // Taking the code spends it, whatever happens next: a code is good for one try only.
    let code = state.store.take_code(&hash, now).await.map_err(unavailable)?;
    let code = code.ok_or_else(|| OAuthError::invalid_grant(70008, "The authorization code has expired or was already used."))?;
    if code.client_id != request.client_id || code.redirect_uri != request.redirect_uri {
        return Err(OAuthError::invalid_grant(70000, "The code was issued to another client or redirect URI."));
    }
    if !pkce::verifier_matches(&request.code_verifier, &code.code_challenge) {
        return Err(OAuthError::invalid_grant(501481, "The code_verifier does not match the code_challenge."));
    }
    let user = state.store.user_by_id(code.user).await.map_err(unavailable)?;
    let user = user.ok_or_else(|| OAuthError::invalid_grant(50034, "The user account no longer exists."))?;

    let issued = now.unix_timestamp();
    let expires_in = state.config.access_token_lifetime.whole_seconds();
    let access = access_token(&state, &user, &request.client_id, code.auth_time, Vec::new());
    let mut body = json!({
        "token_type": "Bearer",
        "scope": state.config.full_scope(),
        "expires_in": expires_in,
        "ext_expires_in": expires_in,
        "access_token": access,
    });
    if code.scope.split_whitespace().any(|s| s == "openid") {
        let id = IdClaims {
            iss: state.issuer(),
            aud: request.client_id.clone(),
            sub: user.id.to_string(),
            oid: user.id,
            preferred_username: user.upn.clone(),
            name: user.display_name.clone(),
            nonce: code.nonce.clone(),
            auth_time: code.auth_time.unix_timestamp(),
            iat: issued,
            exp: issued + expires_in,
        };
        body["id_token"] = json!(state.keys.sign(&id));
    }
    Ok(([(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], Json(body)).into_response())
}

/// A signed access token for `user`, as the token endpoint issues it after a TAP sign-in
/// at `auth_time`. Tests also mint administrator tokens with it (`roles`).
pub fn access_token(state: &AppState, user: &User, client_id: &str, auth_time: time::OffsetDateTime, roles: Vec<String>) -> String {
    let issued = state.clock.now().unix_timestamp();
    let claims = AccessClaims {
        iss: state.issuer(),
        aud: state.config.audience.clone(),
        sub: user.id.to_string(),
        oid: user.id,
        tid: state.config.tenant.clone(),
        upn: user.upn.clone(),
        name: user.display_name.clone(),
        azp: client_id.to_owned(),
        scp: state.config.scope.clone(),
        amr: vec!["tap".into(), "mfa".into()],
        auth_time: auth_time.unix_timestamp(),
        iat: issued,
        nbf: issued,
        exp: issued + state.config.access_token_lifetime.whole_seconds(),
        roles,
        ver: "2.0".into(),
    };
    state.keys.sign(&claims)
}

fn unavailable(error: crate::store::StoreError) -> OAuthError {
    tracing::error!(%error, "the directory store failed");
    OAuthError::new(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", None, "The directory is not available right now.")
}
