//! JSON request bodies with Graph's answers to bad ones: `415` for anything not sent as
//! JSON, `413` past the body limit, `400` naming what is wrong with the JSON, all in
//! Graph's error envelope (axum's own rejections are plain text).

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{StatusCode, header},
};
use serde::de::DeserializeOwned;

use crate::graph_error::GraphError;

pub struct GraphJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for GraphJson<T> {
    type Rejection = GraphError;

    async fn from_request(request: Request, state: &S) -> Result<Self, GraphError> {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !is_json(content_type) {
            return Err(GraphError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                "Send the request body as JSON, with Content-Type: application/json.",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                GraphError::new(status, "RequestEntityTooLarge", "The request body is too large.")
            } else {
                GraphError::new(status, "invalidRequest", format!("The request body could not be read: {}", rejection.body_text()))
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(GraphJson)
            .map_err(|error| GraphError::bad_request(format!("The request body is not valid for this call: {error}.")))
    }
}

/// `application/json`, with or without parameters (`; charset=utf-8`), in any case.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_content_types() {
        for yes in ["application/json", "application/json; charset=utf-8", "Application/JSON;odata.metadata=minimal"] {
            assert!(is_json(yes), "{yes}");
        }
        for no in ["", "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "multipart/form-data"] {
            assert!(!is_json(no), "{no}");
        }
    }
}
