//! The authorize endpoint: the sign-in page (GET) and the pass it takes (POST).
//!
//! Errors that a person can fix by typing again (an unknown address, a wrong pass) show the
//! page again with the problem. Errors only IT can fix (the pass expired, is not valid yet,
//! was already used, or too many wrong attempts) go back to the app as OAuth errors, each
//! with its own `error_subcode`, so the app can say what to do next.

use axum::{
    Form,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{
    page::{self, Notice},
    pkce,
};
use crate::{
    app::AppState,
    store::{AuditAction, AuditEvent, AuthorizationCode, TapCheck, User},
};

const LOCKED: &str = "AADSTS50053: Too many wrong passes. Ask IT for a new Temporary Access Pass, or wait 15 minutes.";

/// The query (GET) or hidden fields (POST) of an authorization request.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AuthorizeRequest {
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub response_type: String,
    #[serde(default)]
    pub redirect_uri: String,
    #[serde(default)]
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    #[serde(default)]
    pub code_challenge: String,
    #[serde(default)]
    pub code_challenge_method: String,
    pub login_hint: Option<String>,
    pub prompt: Option<String>,
}

impl AuthorizeRequest {
    /// The parameters to carry through the form as hidden fields.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("client_id", self.client_id.clone()),
            ("response_type", self.response_type.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("scope", self.scope.clone()),
            ("code_challenge", self.code_challenge.clone()),
            ("code_challenge_method", self.code_challenge_method.clone()),
        ];
        for (name, value) in [("state", &self.state), ("nonce", &self.nonce), ("login_hint", &self.login_hint), ("prompt", &self.prompt)] {
            if let Some(value) = value {
                pairs.push((name, value.clone()));
            }
        }
        pairs
    }
}

/// What the sign-in form posts: the request, the address and the pass.
#[derive(Deserialize)]
pub struct SignIn {
    #[serde(flatten)]
    request: AuthorizeRequest,
    #[serde(default)]
    username: String,
    #[serde(default)]
    pass: Zeroizing<String>,
}

pub async fn show(State(state): State<AppState>, Query(request): Query<AuthorizeRequest>) -> Response {
    if let Some(response) = refusal(&state, &request) {
        return response;
    }
    let username = request.login_hint.clone().unwrap_or_default();
    page::render(&request, &username, None, StatusCode::OK)
}

pub async fn submit(State(state): State<AppState>, Form(form): Form<SignIn>) -> Response {
    let request = &form.request;
    if let Some(response) = refusal(&state, request) {
        return response;
    }
    let now = state.clock.now();
    let Some(user) = lookup(&state, &form.username).await else {
        // Only something shaped like an address is kept: people type passes into the wrong
        // field, and the audit trail must never hold one.
        let typed = form.username.trim();
        let address_like = typed.contains('@') && typed.len() <= 113 && !typed.contains(char::is_whitespace);
        audit(&state, None, address_like.then_some(typed), "user_not_found").await;
        let notice = Notice { code: "user_not_found", message: "We couldn't find an account with that address. Check it and try again.".into() };
        return page::render(request, &form.username, Some(notice), StatusCode::OK);
    };
    // One attempt per user at a time: checking the lockout, hashing the pass and counting a
    // failure must not interleave, or parallel guesses would all see a clean count.
    let _turn = state.sign_in_turn(user.id).await;
    if locked(&state, &user).await {
        audit(&state, Some(&user), None, "locked").await;
        return redirect_error(request, "access_denied", "locked", LOCKED);
    }
    match tap_check(&state, &user, &form.pass).await {
        Ok(TapCheck::Accepted { .. }) => {}
        Ok(TapCheck::Wrong) => {
            let _ = state.store.record_failed_sign_in(user.id, now).await;
            audit(&state, Some(&user), None, "tap_wrong").await;
            if locked(&state, &user).await {
                return redirect_error(request, "access_denied", "locked", LOCKED);
            }
            let notice = Notice { code: "tap_wrong", message: "That pass isn't right. Check it and try again.".into() };
            return page::render(request, &form.username, Some(notice), StatusCode::OK);
        }
        Ok(refusal) => {
            let (subcode, description) = refusal_text(&refusal);
            audit(&state, Some(&user), None, subcode).await;
            return redirect_error(request, "access_denied", subcode, description);
        }
        Err(response) => return response,
    }
    audit(&state, Some(&user), None, "success").await;
    issue_code(&state, request, &user).await
}

/// Client and redirect URI first: if either is wrong, nothing may be sent to the redirect
/// URI (RFC 6749 §4.1.2.1), so the error is shown here. Then the rest, sent back.
fn refusal(state: &AppState, request: &AuthorizeRequest) -> Option<Response> {
    if !state.config.client_ids.contains(&request.client_id) {
        return Some(error_page(StatusCode::BAD_REQUEST, "AADSTS700016: This application is not known to the directory."));
    }
    if !redirect_allowed(&request.redirect_uri) {
        return Some(error_page(StatusCode::BAD_REQUEST, "AADSTS50011: The redirect URI does not match the ones registered for this application."));
    }
    if request.response_type != "code" {
        return Some(redirect_error(request, "unsupported_response_type", "", "AADSTS70000: Only the authorization code flow is supported."));
    }
    if request.code_challenge_method != "S256" || !pkce::valid_challenge(&request.code_challenge) {
        return Some(redirect_error(request, "invalid_request", "", "AADSTS900144: PKCE with code_challenge_method S256 is required."));
    }
    if !request.scope.split_whitespace().any(|s| s == state.config.full_scope()) {
        return Some(redirect_error(request, "invalid_scope", "", "AADSTS70011: The requested scope is not valid."));
    }
    None
}

/// A desktop app redirects to `http://localhost` on any port (as Entra matches it).
fn redirect_allowed(uri: &str) -> bool {
    // Visible ASCII only: anything else could not go into a Location header unchanged.
    if !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    let Some(rest) = uri.strip_prefix("http://localhost") else { return false };
    let (port, path) = match rest.strip_prefix(':') {
        Some(rest) => rest.split_at(rest.find('/').unwrap_or(rest.len())),
        None => ("", rest),
    };
    (port.is_empty() || port.parse::<u16>().is_ok()) && (path.is_empty() || path.starts_with('/')) && !path.contains(['?', '#'])
}

async fn lookup(state: &AppState, username: &str) -> Option<User> {
    state.store.user_by_upn(username.trim()).await.ok().flatten()
}

async fn locked(state: &AppState, user: &User) -> bool {
    let since = state.clock.now() - state.config.lockout_window;
    let failures = state.store.failed_sign_ins_since(user.id, since).await.unwrap_or(u32::MAX);
    failures >= state.config.max_failed_sign_ins
}

async fn tap_check(state: &AppState, user: &User, pass: &str) -> Result<TapCheck, Response> {
    state.store.check_tap(user.id, pass.trim(), state.clock.now()).await.map_err(|error| {
        tracing::error!(%error, "the directory could not check a pass");
        error_page(StatusCode::SERVICE_UNAVAILABLE, "The directory is not available right now. Try again in a minute.")
    })
}

fn refusal_text(refusal: &TapCheck) -> (&'static str, &'static str) {
    match refusal {
        TapCheck::Expired => ("tap_expired", "The Temporary Access Pass has expired. Ask IT for a new one."),
        TapCheck::NotYetValid => ("tap_not_yet_valid", "The Temporary Access Pass is not valid yet. Try again at the time IT gave you."),
        TapCheck::Used => ("tap_used", "This one-time Temporary Access Pass was already used. Ask IT for a new one."),
        TapCheck::NoPass => ("tap_missing", "There is no Temporary Access Pass for this account. Ask IT for one."),
        TapCheck::Accepted { .. } | TapCheck::Wrong => ("", ""),
    }
}

async fn issue_code(state: &AppState, request: &AuthorizeRequest, user: &User) -> Response {
    let now = state.clock.now();
    let code = Zeroizing::new(URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
    let hash: [u8; 32] = Sha256::digest(code.as_bytes()).into();
    let record = AuthorizationCode {
        user: user.id,
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        scope: request.scope.clone(),
        nonce: request.nonce.clone(),
        auth_time: now,
        expires: now + state.config.code_lifetime,
    };
    if let Err(error) = state.store.save_code(&hash, &record).await {
        tracing::error!(%error, "could not store an authorization code");
        return error_page(StatusCode::SERVICE_UNAVAILABLE, "The directory is not available right now. Try again in a minute.");
    }
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    redirect(&request.redirect_uri, &params)
}

fn redirect_error(request: &AuthorizeRequest, error: &str, subcode: &str, description: &str) -> Response {
    let mut params = vec![("error", error), ("error_description", description)];
    if !subcode.is_empty() {
        params.push(("error_subcode", subcode));
    }
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    redirect(&request.redirect_uri, &params)
}

fn redirect(uri: &str, params: &[(&str, &str)]) -> Response {
    let query: String = params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&");
    // The URI was checked to be visible ASCII and the query is percent-encoded, so this
    // header value is always valid; still, never answer a redirect without a Location.
    match header::HeaderValue::from_str(&format!("{uri}?{query}")) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location), (header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"))]).into_response(),
        Err(_) => error_page(StatusCode::BAD_REQUEST, "AADSTS50011: The redirect URI is not valid."),
    }
}

/// application/x-www-form-urlencoded, as a query component.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in problem</title><link rel="stylesheet" href="signin.css"></head><body><main><h1>Sign-in problem</h1><p class="alert" role="alert">{}</p></main></body></html>"#,
        page::escape(message)
    );
    (status, [(header::CACHE_CONTROL, "no-store")], axum::response::Html(body)).into_response()
}

async fn audit(state: &AppState, user: Option<&User>, typed_upn: Option<&str>, outcome: &str) {
    let event = AuditEvent {
        at: state.clock.now(),
        user: user.map(|u| u.id),
        upn: user.map(|u| u.upn.clone()).or_else(|| typed_upn.map(str::to_owned)),
        action: AuditAction::SignIn,
        outcome: outcome.to_owned(),
        detail: "Temporary Access Pass".into(),
    };
    if let Err(error) = state.store.audit(&event).await {
        tracing::error!(%error, "could not write the audit trail");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_localhost_loopback_redirects_are_allowed_on_any_port() {
        for ok in ["http://localhost", "http://localhost:8400", "http://localhost:8400/callback", "http://localhost/cb"] {
            assert!(redirect_allowed(ok), "{ok}");
        }
        for bad in ["https://localhost", "http://localhost.evil.com", "http://localhost:99999", "http://localhost@evil.com", "http://127.0.0.1:80", "http://localhost:80/cb?x=1", "", "http://localhost/\n", "http://localhost/a b", "http://localhost/é"] {
            assert!(!redirect_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
