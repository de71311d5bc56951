//! OAuth 2.0 errors in Entra's shape: `{error, error_description, error_codes, timestamp,
//! trace_id, correlation_id}`, with AADSTS codes where Entra has a well-known one.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: StatusCode,
    /// RFC 6749's code: invalid_request, invalid_client, invalid_grant, unsupported_grant_type, ...
    pub error: &'static str,
    pub aadsts: Option<u32>,
    pub description: String,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, aadsts: Option<u32>, description: impl Into<String>) -> Self {
        Self { status, error, aadsts, description: description.into() }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", Some(900144), description)
    }

    pub fn invalid_grant(aadsts: u32, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", Some(aadsts), description)
    }

    pub fn description_with_code(&self) -> String {
        match self.aadsts {
            Some(code) => format!("AADSTS{code}: {}", self.description),
            None => self.description.clone(),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.error,
            "error_description": self.description_with_code(),
            "error_codes": self.aadsts.into_iter().collect::<Vec<_>>(),
            "timestamp": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "trace_id": Uuid::new_v4(),
            "correlation_id": Uuid::new_v4(),
        });
        (self.status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
    }
}
