//! Errors in Microsoft Graph's envelope: `{"error": {"code", "message", "innerError"}}`
//! with Graph's HTTP status for each kind, so clients written for Graph read ours.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Sent as `Retry-After` (seconds): when a busy upstream said when to come back.
    pub retry_after: Option<std::time::Duration>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }

    pub fn with_retry_after(mut self, retry_after: Option<std::time::Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "accessDenied", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "itemNotFound", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalidRequest", message)
    }

    pub fn unavailable() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "serviceNotAvailable", "The directory is not available right now. Try again in a minute.")
    }
}

impl From<crate::store::StoreError> for GraphError {
    fn from(error: crate::store::StoreError) -> Self {
        tracing::error!(%error, "the directory store failed");
        Self::unavailable()
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let date = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {"date": date, "request-id": Uuid::new_v4(), "client-request-id": Uuid::new_v4()},
            }
        });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(wait) = self.retry_after {
            // Whole seconds, at least one: `Retry-After: 0` would invite a hot loop.
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        }
        response
    }
}
