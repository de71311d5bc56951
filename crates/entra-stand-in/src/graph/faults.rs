//! Injected transient failures, shaped as Graph sends them ("Microsoft Graph throttling
//! guidance"; "Microsoft Graph error responses"): 429 `TooManyRequests` with
//! `Retry-After` in seconds, 503 `serviceNotAvailable` (with or without `Retry-After`),
//! 401 for a token that expired in flight, 500 `generalException`.

use axum::http::{StatusCode, header};

use super::error::GraphError;
use crate::config::Fault;

pub(crate) fn answer(fault: Fault) -> GraphError {
    match fault {
        Fault::TooManyRequests { retry_after_seconds } => GraphError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests from Identifier:tap2key-broker under category:throttle.aad.ags.authenticationmethods. Please try again later.",
        )
        .with_header(header::RETRY_AFTER, retry_after_seconds.to_string()),
        Fault::ServiceUnavailable { retry_after_seconds } => {
            let error = GraphError::new(StatusCode::SERVICE_UNAVAILABLE, "serviceNotAvailable", "The service is temporarily unavailable. Please try again later.");
            match retry_after_seconds {
                Some(seconds) => error.with_header(header::RETRY_AFTER, seconds.to_string()),
                None => error,
            }
        }
        Fault::ExpiredToken => GraphError::unauthenticated("Lifetime validation failed, the token is expired."),
        Fault::InternalServerError => GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", "General exception while processing."),
    }
}
