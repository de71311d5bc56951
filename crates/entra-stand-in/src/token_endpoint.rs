//! `POST {tenant}/oauth2/v2.0/token`: the desktop app's code redemption (public client,
//! PKCE) and the broker's client credentials grant (see `client_credentials`).
//!
//! Error codes: documented in the AADSTS reference (or seen in Microsoft's Q&A answers):
//! 900144 (a required parameter is missing), 700016 (unknown application), 50011
//! (redirect URI mismatch), 70008 (expired code), 54005 (code already redeemed), 50148
//! (code_verifier does not match the code_challenge), 70000 (invalid grant), 70003
//! (unsupported grant type), 700025 (a public client presented a credential), 90033
//! (transient error) — and the client credentials codes listed in `client_credentials`.
//! Ours: 90024 for an injected 500 (Entra's 5xx bodies are not documented).

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{
    client_credentials,
    config::{Fault, Route},
    discovery::unknown_tenant,
    entra_error::EntraError,
    scopes::{self, Resource},
    state::Shared,
    tokens::{Audience, UserToken, opaque},
};

pub(crate) type Form = Vec<(String, String)>;

pub(crate) fn field<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = shared.now();
    let fault = shared.lock().take_fault(Route::Token);
    if let Some(fault) = fault {
        return fault_response(&shared, fault);
    }
    if !shared.is_tenant(&tenant) {
        return unknown_tenant(&shared, &tenant);
    }
    if query.is_some() {
        // Secrets and assertions in a URL end up in logs. Entra reads the body only and
        // ignores the query, so the request is still served; the violation is recorded.
        shared.violation("token request with a query string (parameters belong in the form body)");
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        shared.violation("token request that is not application/x-www-form-urlencoded");
        return EntraError::new(
            "invalid_request",
            900_144,
            "The request body must contain the following parameter: 'grant_type'.",
        )
        .respond(now);
    }
    let form: Form = url::form_urlencoded::parse(&body).into_owned().collect();
    match field(&form, "grant_type") {
        Some("authorization_code") => authorization_code(&shared, &form),
        Some("client_credentials") => client_credentials::grant(&shared, &form),
        Some("refresh_token") => EntraError::new(
            "invalid_grant",
            70_000,
            "Provided grant is invalid or malformed (the stand-in does not redeem refresh tokens).",
        )
        .respond(now),
        Some(other) => EntraError::new(
            "unsupported_grant_type",
            70_003,
            format!("The app requested an unsupported grant type '{other}'."),
        )
        .respond(now),
        None => EntraError::new(
            "invalid_request",
            900_144,
            "The request body must contain the following parameter: 'grant_type'.",
        )
        .respond(now),
    }
}

fn authorization_code(shared: &Shared, form: &Form) -> Response {
    let now = shared.now();
    let fail = |error: &'static str, code: u32, message: String| {
        EntraError::new(error, code, message).respond(now)
    };
    let client_id = field(form, "client_id").unwrap_or_default();
    if client_id.is_empty() {
        return fail(
            "invalid_request",
            900_144,
            "The request body must contain the following parameter: 'client_id'.".into(),
        );
    }
    if !client_id.eq_ignore_ascii_case(&shared.config.desktop_client_id.to_string()) {
        return fail(
            "unauthorized_client",
            700_016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'.",
                shared.config.tenant_domain
            ),
        );
    }
    if field(form, "client_secret").is_some() || field(form, "client_assertion").is_some() {
        shared.violation("the desktop app (a public client) sent a client credential");
        return fail("invalid_client", 700_025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.".into());
    }
    let Some(code) = field(form, "code") else {
        return fail(
            "invalid_request",
            900_144,
            "The request body must contain the following parameter: 'code'.".into(),
        );
    };
    let Some(verifier) = field(form, "code_verifier") else {
        return fail(
            "invalid_request",
            900_144,
            "The request body must contain the following parameter: 'code_verifier'.".into(),
        );
    };
    // One use: the code is taken whatever happens next.
    let Some(record) = shared.lock().codes.remove(code) else {
        return fail("invalid_grant", 54_005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.".into());
    };
    if now >= record.expires {
        return fail("invalid_grant", 70_008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.".into());
    }
    if !record.client_id.eq_ignore_ascii_case(client_id) {
        return fail(
            "invalid_grant",
            70_000,
            "Provided grant is invalid or malformed.".into(),
        );
    }
    if field(form, "redirect_uri") != Some(record.redirect_uri.as_str()) {
        return fail("invalid_grant", 50_011, "The redirect URI specified in the request does not match the redirect URI used in the authorization request.".into());
    }
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != record.code_challenge {
        return fail("invalid_grant", 50_148, "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.".into());
    }
    let scope = field(form, "scope").unwrap_or(&record.scope);
    let scopes = match scopes::parse(shared, scope) {
        Ok(scopes) => scopes,
        Err(error) => return error.respond(now),
    };
    let Some(user) = shared
        .lock()
        .users
        .iter()
        .find(|u| u.oid == record.user)
        .cloned()
    else {
        return fail(
            "invalid_grant",
            50_034,
            "The user account does not exist in the directory.".into(),
        );
    };
    let expires = (now + shared.config.access_token_lifetime).min(record.tap_expires);
    let audience = match scopes.resource {
        Resource::Broker => Audience::Broker,
        Resource::Graph => Audience::Graph,
    };
    let access_token = shared.user_access_token(&UserToken {
        user: &user,
        audience,
        scp: scopes.names.join(" "),
        auth_time: record.auth_time,
        expires,
    });
    let lifetime = (expires - now).whole_seconds().max(0);
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scopes.response_scope(),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    });
    if scopes.oidc.iter().any(|s| s == "openid") {
        body["id_token"] = json!(shared.id_token(
            &user,
            record.nonce.as_deref(),
            record.auth_time,
            now + time::Duration::hours(1)
        ));
    }
    if scopes.offline() {
        body["refresh_token"] = json!(format!("1.{}", opaque(600)));
    }
    token_response(body)
}

pub(crate) fn token_response(body: serde_json::Value) -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-store, no-cache"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(body),
    )
        .into_response()
}

/// A fault injected on the token endpoint, in Entra's error JSON.
fn fault_response(shared: &Shared, fault: Fault) -> Response {
    use axum::http::StatusCode;
    let now = shared.now();
    match fault {
        Fault::TooManyRequests {
            retry_after_seconds,
        } => {
            let mut response = EntraError::new(
                "temporarily_unavailable",
                90_033,
                "A transient error has occurred. Please try again.",
            )
            .respond_with(StatusCode::TOO_MANY_REQUESTS, now);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_seconds.into());
            response
        }
        Fault::ServiceUnavailable {
            retry_after_seconds,
        } => {
            let mut response = EntraError::new(
                "temporarily_unavailable",
                90_033,
                "A transient error has occurred. Please try again.",
            )
            .respond_with(StatusCode::SERVICE_UNAVAILABLE, now);
            if let Some(seconds) = retry_after_seconds {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, seconds.into());
            }
            response
        }
        Fault::ExpiredToken => EntraError::new(
            "invalid_grant",
            70_008,
            "The provided authorization code or refresh token has expired.",
        )
        .respond(now),
        Fault::InternalServerError => {
            EntraError::new("server_error", 90_024, "An internal server error occurred.")
                .respond_with(StatusCode::INTERNAL_SERVER_ERROR, now)
        }
    }
}
