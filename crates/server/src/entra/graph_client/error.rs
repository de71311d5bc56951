//! What went wrong upstream, and what the desktop app is told about it.
//!
//! The app shows the message of the [`GraphError`] to the person at the key (and IT reads
//! it over their shoulder), and reads its status: a `401` sends the person to sign in again,
//! a `403` says the account may not do this, a `400`'s words say which refusal it is
//! (crates/directory/src/graph_error.rs), a `5xx` is "try again later". So a problem with
//! the *broker's* credentials must never look like the person's `401`.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::Value;

use crate::{entra::AppTokenError, graph_error::GraphError};

/// Graph's messages are passed on to people and logs: bounded.
const MAX_MESSAGE: usize = 600;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Throttled or unavailable (`429`/`502`/`503`/`504`) after the retries, a
    /// `Retry-After` longer than the policy allows (passed on), no connection, or a timeout.
    #[error("Microsoft Graph is busy or unavailable{}", retry_after.map(|d| format!(" (retry after {} s)", d.as_secs())).unwrap_or_default())]
    Unavailable { retry_after: Option<Duration> },
    /// The broker could not get its own Graph token (Entra refused its credential:
    /// `AADSTS...`).
    #[error("the broker could not get its Graph token: {0}")]
    AppCredentialsRefused(AppTokenError),
    /// Graph refused the broker's token, and a freshly fetched one too.
    #[error("Microsoft Graph refused the broker's token (401), also after fetching a new one: {message}")]
    Unauthorized { message: String },
    #[error("Microsoft Graph refused (403 {code}): {message}")]
    Forbidden { code: String, message: String },
    #[error("Microsoft Graph refused the request (400 {code}): {message}")]
    BadRequest { code: String, message: String },
    #[error("Microsoft Graph found no such user or method (404)")]
    NotFound,
    #[error("Microsoft Graph does not allow this method on this URL (405)")]
    MethodNotAllowed,
    #[error("Microsoft Graph answered {status} {code}: {message}")]
    Other { status: u16, code: String, message: String },
    /// An answer that is not what Graph sends: not JSON, too large, a list without
    /// `value`, a next page elsewhere.
    #[error("Microsoft Graph's answer could not be used: {0}")]
    Protocol(String),
}

/// The advice for a `403`: Graph says only that it refused; these are the two switches
/// that cause it (FACTS: the API requires "Allow self-service set up").
const FORBIDDEN_ADVICE: &str = "IT: in the Entra admin center, under Authentication methods › Policies › Passkey (FIDO2), enable passkeys for this person's group and turn on \"Allow self-service set up\"; and check that the onboarding service's app registration has the Microsoft Graph application permission UserAuthMethod-Passkey.ReadWrite.All with admin consent.";

impl UpstreamError {
    /// A non-2xx answer other than the retried ones, from Graph's error envelope
    /// (`{"error": {"code", "message", "innerError"}}`), read leniently: a missing or odd
    /// envelope leaves the code and message empty.
    pub(super) fn from_answer(status: StatusCode, body: &[u8]) -> Self {
        let (code, message) = envelope(body);
        match status {
            StatusCode::UNAUTHORIZED => Self::Unauthorized { message },
            StatusCode::FORBIDDEN => Self::Forbidden { code, message },
            StatusCode::BAD_REQUEST => Self::BadRequest { code, message },
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            other => Self::Other { status: other.as_u16(), code, message },
        }
    }

    /// Graph's error code, for the log (empty when there is none).
    pub fn code(&self) -> &str {
        match self {
            Self::Forbidden { code, .. } | Self::BadRequest { code, .. } | Self::Other { code, .. } => code,
            _ => "",
        }
    }

    /// How long Graph asked to be left alone, when it did; also in
    /// [`to_graph_error`](Self::to_graph_error)'s `retry_after`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// What the desktop app receives from the broker.
    pub fn to_graph_error(&self) -> GraphError {
        const UNAVAILABLE: &str = "serviceNotAvailable";
        match self {
            Self::Unavailable { retry_after } => {
                GraphError::new(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE, "Microsoft Graph is busy or unavailable right now; try again in a minute.").with_retry_after(*retry_after)
            }
            Self::AppCredentialsRefused(error) => {
                let reason = match (error.aadsts_code(), error) {
                    (Some(code), _) => format!(" (AADSTS{code})"),
                    (None, AppTokenError::Refused { error, .. }) => format!(" ({error})"),
                    (None, _) => String::new(),
                };
                GraphError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    UNAVAILABLE,
                    format!("The onboarding service could not sign in to Microsoft Graph{reason}. IT: check the service's certificate or client secret and its app registration."),
                )
            }
            // The broker's token, not the person's: a 401 would send them to sign in again.
            Self::Unauthorized { .. } => GraphError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                UNAVAILABLE,
                "Microsoft Graph did not accept the onboarding service's own sign-in. IT: check the service's app registration, its certificate or client secret, and its Graph permission.",
            ),
            Self::Forbidden { message, .. } => GraphError::forbidden(format!("Microsoft Graph refused: {}. {FORBIDDEN_ADVICE}", sentence(message, "access denied"))),
            // As Graph wrote it: the app tells the refusals apart by their words.
            Self::BadRequest { message, .. } => GraphError::bad_request(message.clone()),
            Self::NotFound => GraphError::not_found("Microsoft Graph has no such user or passkey."),
            Self::MethodNotAllowed => bad_gateway("Microsoft Graph does not allow this request (405 methodNotAllowed)."),
            Self::Other { status, code, message } => bad_gateway(format!("Microsoft Graph answered {status}{}: {}.", if code.is_empty() { String::new() } else { format!(" {code}") }, sentence(message, "no reason given"))),
            Self::Protocol(_) => bad_gateway("Microsoft Graph gave an answer the onboarding service could not read."),
        }
    }
}

fn bad_gateway(message: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_GATEWAY, "badGateway", message)
}

/// Graph's message without its final full stop (the caller adds one), or `otherwise`.
fn sentence<'a>(message: &'a str, otherwise: &'a str) -> &'a str {
    match message.trim().trim_end_matches('.') {
        "" => otherwise,
        text => text,
    }
}

/// `(code, message)` from Graph's envelope; a bare `{"error": "text"}` gives the code.
fn envelope(body: &[u8]) -> (String, String) {
    let value: Value = serde_json::from_slice(body).unwrap_or_default();
    let error = value.get("error").unwrap_or(&Value::Null);
    let text = |field: &str| error.get(field).and_then(Value::as_str).unwrap_or_default();
    let code = error.as_str().unwrap_or_else(|| text("code"));
    (bounded(code, 100), bounded(text("message"), MAX_MESSAGE))
}

/// At most `max` characters, control characters (a log line's end) as spaces.
fn bounded(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_is_read_leniently() {
        let full = br#"{"error":{"code":"badRequest","message":"Bad.\nLine","innerError":{"date":"2026-03-02T09:30:00","request-id":"r","client-request-id":"c"}}}"#;
        assert_eq!(envelope(full), ("badRequest".into(), "Bad. Line".into()));
        assert_eq!(envelope(br#"{"error":"invalid_token"}"#), ("invalid_token".into(), String::new()));
        assert_eq!(envelope(br#"{"error":{"message":7}}"#), (String::new(), String::new()));
        assert_eq!(envelope(b"<html>Bad gateway</html>"), (String::new(), String::new()));
        let long = format!(r#"{{"error":{{"code":"x","message":"{}"}}}}"#, "a".repeat(2000));
        assert_eq!(envelope(long.as_bytes()).1.chars().count(), MAX_MESSAGE + 1);
    }

    #[test]
    fn what_the_app_is_told() {
        let busy = UpstreamError::Unavailable { retry_after: Some(Duration::from_secs(30)) }.to_graph_error();
        assert_eq!((busy.status, busy.retry_after), (StatusCode::SERVICE_UNAVAILABLE, Some(Duration::from_secs(30))));
        assert_eq!(busy.message, "Microsoft Graph is busy or unavailable right now; try again in a minute.");

        let refused = AppTokenError::Refused { error: "invalid_client".into(), description: "AADSTS7000215: Invalid client secret provided.".into() };
        let credentials = UpstreamError::AppCredentialsRefused(refused).to_graph_error();
        assert_eq!(credentials.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(credentials.message.starts_with("The onboarding service could not sign in to Microsoft Graph (AADSTS7000215). IT:"), "{}", credentials.message);
        let odd = UpstreamError::AppCredentialsRefused(AppTokenError::InvalidCredential("x")).to_graph_error();
        assert!(odd.message.starts_with("The onboarding service could not sign in to Microsoft Graph. IT:"), "{}", odd.message);

        let unauthorized = UpstreamError::Unauthorized { message: "Access token has expired.".into() }.to_graph_error();
        assert_eq!(unauthorized.status, StatusCode::SERVICE_UNAVAILABLE);

        let forbidden = UpstreamError::Forbidden { code: "accessDenied".into(), message: "Request Authorization failed.".into() }.to_graph_error();
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
        assert!(forbidden.message.starts_with("Microsoft Graph refused: Request Authorization failed. IT:"), "{}", forbidden.message);
        for words in ["Passkey (FIDO2)", "Allow self-service set up", "UserAuthMethod-Passkey.ReadWrite.All", "admin consent"] {
            assert!(forbidden.message.contains(words), "{words}");
        }

        let words = "The security key model is not allowed by your organization.";
        let bad = UpstreamError::BadRequest { code: "invalidRequest".into(), message: words.into() }.to_graph_error();
        assert_eq!((bad.status, bad.message.as_str()), (StatusCode::BAD_REQUEST, words));

        assert_eq!(UpstreamError::NotFound.to_graph_error().status, StatusCode::NOT_FOUND);
        assert_eq!(UpstreamError::MethodNotAllowed.to_graph_error().status, StatusCode::BAD_GATEWAY);
        let other = UpstreamError::Other { status: 409, code: "conflict".into(), message: "Already there.".into() }.to_graph_error();
        assert_eq!((other.status, other.message.as_str()), (StatusCode::BAD_GATEWAY, "Microsoft Graph answered 409 conflict: Already there."));
        assert_eq!(UpstreamError::Protocol("x".into()).to_graph_error().status, StatusCode::BAD_GATEWAY);
    }
}
