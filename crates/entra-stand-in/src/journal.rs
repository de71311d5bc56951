//! The journal: every request to Graph and to the token endpoint, in order, with what was
//! answered. Secrets never go in: a bearer token shows as `Bearer <app-token>`,
//! `Bearer <user-token>` or `Bearer <unknown>`, and a form's `client_secret`,
//! `client_assertion`, `code_verifier` and `code` as `<redacted>`.

use std::sync::Arc;

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value};

use crate::state::Shared;

/// Bodies larger than this are refused (Graph's passkey bodies are a few kilobytes).
const MAX_BODY: usize = 1024 * 1024;
const REDACTED_FIELDS: [&str; 4] = ["client_secret", "client_assertion", "code_verifier", "code"];

#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    /// JSON bodies as sent; form bodies as an object with secrets redacted; other text as a string.
    pub body: Option<Value>,
    pub status: u16,
}

fn journaled(path: &str) -> bool {
    path.starts_with("/graph/") || path.ends_with("/oauth2/v2.0/token")
}

pub(crate) async fn record(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if !journaled(request.uri().path()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return (
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
        )
            .into_response();
    };
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
            let text = if name == header::AUTHORIZATION {
                redact_authorization(&shared, &text)
            } else {
                text
            };
            (name.as_str().to_owned(), text)
        })
        .collect();
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body = if bytes.is_empty() {
        None
    } else if is_form {
        let form: Map<String, Value> = url::form_urlencoded::parse(&bytes)
            .map(|(k, v)| {
                let value = if REDACTED_FIELDS.contains(&k.as_ref()) {
                    "<redacted>".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), Value::String(value))
            })
            .collect();
        Some(Value::Object(form))
    } else {
        Some(
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        )
    };
    let method = parts.method.to_string();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status().as_u16();
    shared.lock().journal.push(Recorded {
        method,
        path,
        query,
        headers,
        body,
        status,
    });
    response
}

fn redact_authorization(shared: &Shared, value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            format!("Bearer {}", shared.token_label(token.trim()))
        }
        Some((scheme, _)) => format!("{scheme} <redacted>"),
        None => "<redacted>".to_owned(),
    }
}
