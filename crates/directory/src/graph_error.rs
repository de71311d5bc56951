//! Graph's error answers, read: the status says most of it, and a `400`'s message says
//! which of the refusals the flow can explain (Graph gives them all the code
//! `invalidRequest`, so the words are all there is to go on).

use reqwest::{StatusCode, header::HeaderMap};
use serde::Deserialize;

use crate::{DirectoryError, http::unavailable};

/// Graph's envelope: `{"error": {"code", "message", "innerError"}}`.
#[derive(Default, Deserialize)]
struct Envelope {
    #[serde(default)]
    error: Inner,
}

#[derive(Default, Deserialize)]
struct Inner {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// Messages are shown to people and kept in logs of the flow: bounded.
const MAX_MESSAGE: usize = 600;

/// A non-2xx answer from Graph, as a [`DirectoryError`].
pub(crate) fn from_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> DirectoryError {
    if let Some(error) = unavailable(status, headers) {
        return error;
    }
    let Envelope { error: Inner { code, mut message } } = serde_json::from_slice(body).unwrap_or_default();
    if message.chars().count() > MAX_MESSAGE {
        message = message.chars().take(MAX_MESSAGE).collect::<String>() + "…";
    }
    match status {
        StatusCode::UNAUTHORIZED => DirectoryError::SessionExpired,
        StatusCode::FORBIDDEN => DirectoryError::Forbidden { message },
        StatusCode::NOT_FOUND => DirectoryError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => DirectoryError::SelfServiceNotSupported,
        StatusCode::BAD_REQUEST => classify_bad_request(code, message),
        other => DirectoryError::Refused { status: other.as_u16(), code, message },
    }
}

/// What a `400` is about, by its message (the directory's words, see crates/server
/// graph/register.rs and graph/relying_party.rs):
///
/// - "This security key is already registered …" → [`DirectoryError::AlreadyRegistered`]
/// - "The security key model (AAGUID …) is not allowed by your organization.", any other
///   "not allowed" that names an AAGUID or a key restriction (Graph's own wording is not
///   documented), and
///   "The security key's attestation is not from a certificate authority your
///   organization trusts …" → [`DirectoryError::ModelNotAllowed`]
/// - "The challenge in clientDataJSON has expired, was already used, or was not issued
///   …" → [`DirectoryError::ChallengeExpired`]
/// - anything else → [`DirectoryError::Refused`] with the message.
pub(crate) fn classify_bad_request(code: String, message: String) -> DirectoryError {
    let words = message.to_lowercase();
    let has = |needle: &str| words.contains(needle);
    if has("already registered") {
        DirectoryError::AlreadyRegistered { message }
    } else if has("not allowed by your organization")
        || (has("not allowed") && (has("aaguid") || has("key restriction")))
        || (has("attestation") && has("trust"))
    {
        DirectoryError::ModelNotAllowed { message }
    } else if has("challenge") && (has("expired") || has("already used") || has("not issued")) {
        DirectoryError::ChallengeExpired
    } else {
        DirectoryError::Refused { status: 400, code, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(message: &str) -> DirectoryError {
        classify_bad_request("invalidRequest".into(), message.into())
    }

    #[test]
    fn already_registered() {
        let message = "This security key is already registered: its credential is in the directory. Delete that method first to register the key again.";
        assert_eq!(classify(message), DirectoryError::AlreadyRegistered { message: message.into() });
    }

    #[test]
    fn model_not_allowed() {
        let message = "The security key model (AAGUID 74617032-6b65-792d-766b-65792d303031) is not allowed by your organization.";
        assert_eq!(classify(message), DirectoryError::ModelNotAllowed { message: message.into() });
        let message = "The security key model is not allowed by your organization.";
        assert_eq!(classify(message), DirectoryError::ModelNotAllowed { message: message.into() });
        let message = "The security key model with AAGUID 74617032-6b65-792d-766b-65792d303031 is not allowed by the FIDO2 key restriction policy of this organization.";
        assert_eq!(classify(message), DirectoryError::ModelNotAllowed { message: message.into() });
        let message = "Query options are not allowed on this request.";
        assert!(matches!(classify(message), DirectoryError::Refused { .. }));
    }

    #[test]
    fn attestation_not_trusted() {
        let message = "The security key's attestation is not from a certificate authority your organization trusts, so the key cannot be registered.";
        assert_eq!(classify(message), DirectoryError::ModelNotAllowed { message: message.into() });
    }

    #[test]
    fn challenge_expired_used_or_not_issued() {
        let message = "The challenge in clientDataJSON has expired, was already used, or was not issued to this user for this ceremony. Start again with a new challenge.";
        assert_eq!(classify(message), DirectoryError::ChallengeExpired);
    }

    #[test]
    fn everything_else_is_refused_with_its_words() {
        for message in [
            "displayName can be at most 30 characters long.",
            "The attestation signature does not verify: the attestationObject was changed or made by something else.",
            "The challenge in clientDataJSON is not the one this ceremony was started with.",
            "The attestation format \"tpm\" is not accepted; send packed or none.",
        ] {
            assert_eq!(classify(message), DirectoryError::Refused { status: 400, code: "invalidRequest".into(), message: message.into() }, "{message}");
        }
    }

    #[test]
    fn statuses() {
        let body = br#"{"error":{"code":"accessDenied","message":"Not you.","innerError":{"date":"2026-11-22T09:00:00Z"}}}"#;
        let none = HeaderMap::new();
        assert_eq!(from_response(StatusCode::UNAUTHORIZED, &none, body), DirectoryError::SessionExpired);
        assert_eq!(from_response(StatusCode::FORBIDDEN, &none, body), DirectoryError::Forbidden { message: "Not you.".into() });
        assert_eq!(from_response(StatusCode::NOT_FOUND, &none, body), DirectoryError::NotFound);
        assert_eq!(from_response(StatusCode::METHOD_NOT_ALLOWED, &none, body), DirectoryError::SelfServiceNotSupported);
        assert_eq!(from_response(StatusCode::SERVICE_UNAVAILABLE, &none, body), DirectoryError::Unavailable { retry_after_seconds: None });
        assert_eq!(
            from_response(StatusCode::CONFLICT, &none, body),
            DirectoryError::Refused { status: 409, code: "accessDenied".into(), message: "Not you.".into() }
        );
        assert_eq!(
            from_response(StatusCode::UNSUPPORTED_MEDIA_TYPE, &none, b"<html>proxy</html>"),
            DirectoryError::Refused { status: 415, code: String::new(), message: String::new() }
        );
    }
}
