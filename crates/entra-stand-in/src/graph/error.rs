//! Graph's error envelope ("Microsoft Graph error responses and resource types"):
//!
//! ```json
//! {"error": {"code": "…", "message": "…",
//!            "innerError": {"date": "2022-12-22T08:00:18", "request-id": "…", "client-request-id": "…"}}}
//! ```

use axum::http::{HeaderName, StatusCode, header};
use serde_json::{Value, json};

use super::Context;

#[derive(Debug)]
pub(crate) struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub headers: Vec<(HeaderName, String)>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// 400 with the passkey API's `invalidRequest` code.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalidRequest", message)
    }

    /// 400 `BadRequest`, OData's code for a request it cannot route or read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 401 InvalidAuthenticationToken, with the `WWW-Authenticate` challenge Graph sends.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        let challenge = r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#;
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
        .with_header(header::WWW_AUTHENTICATE, challenge)
    }

    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(&self, context: &Context) -> Value {
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": context.date,
                    "request-id": context.request_id,
                    "client-request-id": context.client_request_id,
                },
            },
        })
    }
}
