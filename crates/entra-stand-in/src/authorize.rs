//! `{tenant}/oauth2/v2.0/authorize`: the sign-in page (GET) and the pass typed into it
//! (POST), for the desktop app's authorization code + PKCE sign-in (FACTS.md "Signing in
//! with a TAP"; "Microsoft identity platform and OAuth 2.0 authorization code flow").
//!
//! - A wrong client or redirect URI is an error page, never a redirect (RFC 6749
//!   §4.1.2.1). The desktop app's redirect is `http://localhost` with any port and path:
//!   Entra ignores the port for `localhost`; `127.0.0.1` only works through the manifest
//!   and `[::1]` not at all, so both are AADSTS50011 here.
//! - Other request errors go back to the app as `error`/`error_description` on the redirect.
//! - PKCE S256 is required. Entra itself only insists on PKCE for SPA redirects; our
//!   contract says the desktop app always uses S256, so a missing or `plain` challenge is
//!   refused with AADSTS9002325 (the code Entra uses for missing PKCE; the message for
//!   `plain` is ours).
//! - A wrong, expired or used pass shows the page again with a notice: Entra shows TAP
//!   problems on its own page.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use time::Duration;
use uuid::Uuid;

use crate::{
    discovery::unknown_tenant,
    page::{self, Notice},
    scopes,
    state::{AuthorizationCode, Shared},
};

/// Entra's authorization codes live 10 minutes.
const CODE_LIFETIME: Duration = Duration::minutes(10);

type Params = Vec<(String, String)>;

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(crate) async fn show(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params: Params = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    if let Some(refusal) = refusal(&shared, &tenant, &params) {
        return refusal;
    }
    page::sign_in(
        &params,
        param(&params, "login_hint").unwrap_or_default(),
        None,
    )
}

pub(crate) async fn submit(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    // The form posts its fields; a query on the POST is read too, as Entra reads both.
    let mut params: Params = url::form_urlencoded::parse(&body).into_owned().collect();
    params.extend(url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned());
    if let Some(refusal) = refusal(&shared, &tenant, &params) {
        return refusal;
    }
    let username = param(&params, "username")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let pass = param(&params, "pass").unwrap_or_default().trim().to_owned();
    let now = shared.now();
    let mut inner = shared.lock();
    let Some(user) = inner.user(&username).cloned() else {
        drop(inner);
        let notice = Notice {
            code: "user_not_found",
            message: "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.",
        };
        return page::sign_in(&params, &username, Some(notice));
    };
    let problem = match inner.taps.get_mut(&user.oid) {
        Some(tap) if tap.pass != pass => Some(Notice {
            code: "tap_wrong",
            message: "Your Temporary Access Pass is incorrect. Check it and try again.",
        }),
        Some(tap) if now >= tap.expires => Some(Notice {
            code: "tap_expired",
            message: "Your Temporary Access Pass has expired. Contact your admin for a new one.",
        }),
        Some(tap) if tap.one_time && tap.used => Some(Notice {
            code: "tap_used",
            message: "Your Temporary Access Pass was already used. Contact your admin for a new one.",
        }),
        Some(tap) => {
            tap.used = true;
            None
        }
        None => Some(Notice {
            code: "tap_wrong",
            message: "Your Temporary Access Pass is incorrect. Check it and try again.",
        }),
    };
    if let Some(notice) = problem {
        drop(inner);
        return page::sign_in(&params, &username, Some(notice));
    }
    let tap_expires = inner.taps.get(&user.oid).map_or(now, |tap| tap.expires);
    let code = URL_SAFE_NO_PAD.encode((0..96).map(|_| rand::random::<u8>()).collect::<Vec<_>>());
    let record = AuthorizationCode {
        user: user.oid,
        client_id: param(&params, "client_id").unwrap_or_default().to_owned(),
        redirect_uri: param(&params, "redirect_uri")
            .unwrap_or_default()
            .to_owned(),
        code_challenge: param(&params, "code_challenge")
            .unwrap_or_default()
            .to_owned(),
        scope: param(&params, "scope").unwrap_or_default().to_owned(),
        nonce: param(&params, "nonce").map(str::to_owned),
        auth_time: now,
        expires: now + CODE_LIFETIME,
        tap_expires,
    };
    inner.codes.insert(code.clone(), record);
    drop(inner);
    let mut back = vec![("code", code.as_str())];
    if let Some(state) = param(&params, "state") {
        back.push(("state", state));
    }
    // Entra adds session_state to the redirect; apps ignore it.
    let session_state = Uuid::new_v4().to_string();
    back.push(("session_state", &session_state));
    redirect(param(&params, "redirect_uri").unwrap_or_default(), &back)
}

/// The checks the GET and the POST share: the page is not shown (or the pass not taken)
/// for a request Entra would refuse.
fn refusal(shared: &Shared, tenant: &str, params: &Params) -> Option<Response> {
    if !shared.is_tenant(tenant) {
        return Some(unknown_tenant(shared, tenant));
    }
    let client_id = param(params, "client_id").unwrap_or_default();
    if !client_id.eq_ignore_ascii_case(&shared.config.desktop_client_id.to_string()) {
        // AADSTS700016 (documented): UnauthorizedClient_DoesNotMatchRequest.
        return Some(page::error(
            700_016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'.",
                shared.config.tenant_domain
            ),
        ));
    }
    let redirect_uri = param(params, "redirect_uri").unwrap_or_default();
    if !redirect_allowed(redirect_uri) {
        // AADSTS50011 (documented): InvalidReplyTo.
        return Some(page::error(
            50_011,
            &format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'."
            ),
        ));
    }
    let state = param(params, "state");
    let back = |error: &str, code: u32, message: &str| {
        Some(redirect_error(redirect_uri, state, error, code, message))
    };
    match param(params, "response_type") {
        Some("code") => {}
        None => {
            return back(
                "invalid_request",
                900_144,
                "The request body must contain the following parameter: 'response_type'.",
            );
        }
        Some(other) => {
            return back(
                "unsupported_response_type",
                700_054,
                &format!("response_type '{other}' is not enabled for the application."),
            );
        }
    }
    match (
        param(params, "code_challenge"),
        param(params, "code_challenge_method"),
    ) {
        (Some(challenge), Some("S256"))
            if challenge.len() == 43 && URL_SAFE_NO_PAD.decode(challenge).is_ok() => {}
        (Some(_), Some("S256")) => {
            return back(
                "invalid_request",
                9_002_325,
                "The code_challenge is not a base64url SHA-256 digest.",
            );
        }
        (Some(_), Some(method)) => {
            return back(
                "invalid_request",
                9_002_325,
                &format!(
                    "Proof Key for Code Exchange is required with code_challenge_method S256, not '{method}'."
                ),
            );
        }
        _ => {
            return back(
                "invalid_request",
                9_002_325,
                "Proof Key for Code Exchange is required for this authorization code request.",
            );
        }
    }
    if let Err(error) = scopes::parse(shared, param(params, "scope").unwrap_or_default()) {
        return back(error.error, error.code, &error.message);
    }
    None
}

/// `http://localhost`, any port, any path (and nothing that cannot go into a Location).
fn redirect_allowed(uri: &str) -> bool {
    if !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    let Some(rest) = uri.strip_prefix("http://localhost") else {
        return false;
    };
    let (port, path) = match rest.strip_prefix(':') {
        Some(rest) => rest.split_at(rest.find('/').unwrap_or(rest.len())),
        None => ("", rest),
    };
    (port.is_empty() || port.parse::<u16>().is_ok())
        && (path.is_empty() || path.starts_with('/'))
        && !path.contains(['?', '#'])
}

fn redirect_error(
    uri: &str,
    state: Option<&str>,
    error: &str,
    code: u32,
    message: &str,
) -> Response {
    let description = format!("AADSTS{code}: {message}");
    let mut params = vec![
        ("error", error),
        ("error_description", description.as_str()),
    ];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect(uri, &params)
}

fn redirect(uri: &str, params: &[(&str, &str)]) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    match header::HeaderValue::from_str(&format!("{uri}?{query}")) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => page::error(50_011, "The redirect URI is not valid."),
    }
}

#[cfg(test)]
mod tests {
    use super::redirect_allowed;

    #[test]
    fn localhost_on_any_port_and_path_only() {
        for ok in [
            "http://localhost",
            "http://localhost:8400/",
            "http://localhost:1/callback",
        ] {
            assert!(redirect_allowed(ok), "{ok}");
        }
        for bad in [
            "http://127.0.0.1:8400/",
            "http://[::1]:8400/",
            "https://localhost/",
            "http://localhost.evil/",
            "http://localhost@evil/",
            "http://localhost:99999/",
        ] {
            assert!(!redirect_allowed(bad), "{bad}");
        }
    }
}
