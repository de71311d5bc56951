//! Who is calling Graph: the bearer token checked as Graph checks it (signed by the
//! tenant, `aud` Graph, `iss` the tenant's v1 issuer, current by the stand-in's clock,
//! not revoked by `expire_app_tokens`), then what it may do.
//!
//! Messages are Graph's own where they are known from public reports: "Access token is
//! empty.", "CompactToken parsing failed with error code: 80049217" (not a JWT), "Access
//! token validation failure. Invalid audience.", "Access token has expired or is not yet
//! valid."; and 403 Authorization_RequestDenied "Insufficient privileges to complete the
//! operation." for an app without the permission.

use axum::http::{HeaderMap, StatusCode, header};

use super::error::GraphError;
use crate::{
    state::Shared,
    tokens::{GRAPH_APP_ID, GRAPH_AUDIENCE, PASSKEY_ROLE},
};

/// Application permissions that allow the passkey API (least privileged first).
const APP_ROLES: [&str; 2] = [PASSKEY_ROLE, "UserAuthenticationMethod.ReadWrite.All"];

pub(crate) enum Caller {
    App { roles: Vec<String> },
    Delegated,
}

pub(crate) fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Caller, GraphError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ if value.is_empty() => "",
        _ => return Err(GraphError::unauthenticated("Access token is empty.")),
    };
    if token.is_empty() {
        return Err(GraphError::unauthenticated("Access token is empty."));
    }
    if token.split('.').count() != 3 {
        return Err(GraphError::unauthenticated(
            "CompactToken parsing failed with error code: 80049217",
        ));
    }
    let claims = shared.verified_claims(token).ok_or_else(|| {
        GraphError::unauthenticated("Access token validation failure. Invalid signature.")
    })?;
    let aud = claims["aud"].as_str().unwrap_or_default();
    if aud != GRAPH_AUDIENCE && aud != GRAPH_APP_ID {
        return Err(GraphError::unauthenticated(
            "Access token validation failure. Invalid audience.",
        ));
    }
    if claims["iss"].as_str()
        != Some(format!("https://sts.windows.net/{}/", shared.config.tenant_id).as_str())
    {
        return Err(GraphError::unauthenticated(
            "Access token validation failure. Invalid issuer.",
        ));
    }
    let now = shared.now().unix_timestamp();
    let current = claims["exp"].as_i64().is_some_and(|exp| exp > now)
        && claims["nbf"].as_i64().is_none_or(|nbf| nbf <= now);
    let revoked = claims["uti"]
        .as_str()
        .is_some_and(|uti| shared.lock().revoked_utis.contains(uti));
    if !current || revoked {
        return Err(GraphError::unauthenticated(
            "Access token has expired or is not yet valid.",
        ));
    }
    if claims["idtyp"] == "app" {
        let roles = claims["roles"]
            .as_array()
            .map(|roles| {
                roles
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Caller::App { roles })
    } else {
        Ok(Caller::Delegated)
    }
}

/// Whether the caller may manage another user's passkeys. Delegated callers would need the
/// Authentication Administrator role, which no stand-in user has.
pub(crate) fn authorize(caller: &Caller) -> Result<(), GraphError> {
    match caller {
        Caller::App { roles } if roles.iter().any(|r| APP_ROLES.contains(&r.as_str())) => Ok(()),
        _ => Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )),
    }
}
