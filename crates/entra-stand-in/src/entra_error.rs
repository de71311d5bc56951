//! Entra's token endpoint error JSON ("Microsoft Entra authentication and authorization
//! error codes", learn.microsoft.com/entra/identity-platform/reference-error-codes):
//!
//! ```json
//! {"error": "invalid_scope",
//!  "error_description": "AADSTS70011: … \r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: 2016-01-09 02:02:12Z",
//!  "error_codes": [70011], "timestamp": "2016-01-09 02:02:12Z",
//!  "trace_id": "…", "correlation_id": "…", "error_uri": "https://login.microsoftonline.com/error?code=70011"}
//! ```
//!
//! `invalid_client` answers 401, everything else 400, as Entra does.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use time::{OffsetDateTime, macros::format_description};
use uuid::Uuid;

pub(crate) struct EntraError {
    pub error: &'static str,
    pub code: u32,
    pub message: String,
}

impl EntraError {
    pub fn new(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            error,
            code,
            message: message.into(),
        }
    }

    pub fn respond(self, now: OffsetDateTime) -> Response {
        let status = if self.error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        self.respond_with(status, now)
    }

    pub fn respond_with(self, status: StatusCode, now: OffsetDateTime) -> Response {
        let timestamp = now
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]Z"
            ))
            .unwrap_or_default();
        let (trace, correlation) = (Uuid::new_v4(), Uuid::new_v4());
        let body = json!({
            "error": self.error,
            "error_description": format!("AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}", self.code, self.message),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        (
            status,
            [(header::CACHE_CONTROL, "no-store, no-cache")],
            Json(body),
        )
            .into_response()
    }
}
