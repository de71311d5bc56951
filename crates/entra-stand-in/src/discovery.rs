//! `{tenant}/v2.0/.well-known/openid-configuration` and `{tenant}/discovery/v2.0/keys`.
//! Entra names the tenant GUID in `issuer` whichever form the URL used, and lists every
//! key it may sign with: here the first key, and after a rotation both (so a
//! broker that caches the JWKS must fetch it again on an unknown `kid`).

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{entra_error::EntraError, state::Shared};

pub(crate) fn unknown_tenant(shared: &Shared, tenant: &str) -> Response {
    // AADSTS90002 (documented): InvalidTenantName.
    EntraError::new("invalid_tenant", 90002, format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."))
        .respond(shared.now())
}

pub(crate) async fn openid_configuration(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
) -> Response {
    if !shared.is_tenant(&tenant) {
        return unknown_tenant(&shared, &tenant);
    }
    let tid = shared.config.tenant_id;
    let base = format!("{}{tid}", shared.authority);
    Json(json!({
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": shared.issuer(),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/kerberos"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }))
    .into_response()
}

pub(crate) async fn keys(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
) -> Response {
    if !shared.is_tenant(&tenant) {
        return unknown_tenant(&shared, &tenant);
    }
    let published = shared.lock().published_keys;
    let keys: Vec<_> = shared
        .signing_keys
        .iter()
        .zip(published)
        .filter(|(_, listed)| *listed)
        .map(|(key, _)| key.jwk.clone())
        .collect();
    Json(json!({ "keys": keys })).into_response()
}
