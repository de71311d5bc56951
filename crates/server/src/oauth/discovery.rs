//! The OpenID discovery document and the JWKS, so clients can find the endpoints and
//! verify tokens without configuration beyond the authority URL.

use axum::{Json, extract::State};
use serde_json::{Value, json};

use crate::app::AppState;

pub async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.keys.jwks())
}

pub async fn openid_configuration(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "issuer": state.issuer(),
        "authorization_endpoint": state.tenant_url("/oauth2/v2.0/authorize"),
        "token_endpoint": state.tenant_url("/oauth2/v2.0/token"),
        "jwks_uri": state.tenant_url("/discovery/v2.0/keys"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["openid", "profile", "offline_access", state.config.full_scope()],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "oid", "tid", "upn", "preferred_username", "name", "amr"],
        "tenant_region_scope": "WW",
    }))
}
