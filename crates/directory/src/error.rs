//! What can go wrong with the directory, in the terms the onboarding flow acts on: each
//! variant has one thing to tell the person (wait, sign in again, ask IT, fetch fresh
//! options). Display texts never carry a token, a code, a verifier, a challenge or a pass.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// A connection error or a timeout: nothing was answered.
    #[error("the directory could not be reached")]
    Unreachable,
    /// 429, 503 or another 5xx: the directory is there but cannot serve now.
    #[error("the directory is busy or unavailable{}", retry_hint(*.retry_after_seconds))]
    Unavailable { retry_after_seconds: Option<u64> },
    /// The sign-in page sent the person back with an error.
    #[error("the sign-in was refused: {0}")]
    SignIn(SignInProblem),
    /// The answer does not belong to this sign-in: state, nonce or ID token mismatch.
    #[error("the sign-in answer does not belong to this sign-in (state, nonce or ID token); start again")]
    SignInTampered,
    /// 401 from Graph: the token expired or was refused; sign in again.
    #[error("the sign-in has expired or was not accepted; sign in again")]
    SessionExpired,
    /// 403 with Graph's message.
    #[error("the directory does not allow this: {message}")]
    Forbidden { message: String },
    /// 405 methodNotAllowed: Microsoft's `/me` passkey API today. The organisation needs
    /// tap2key's onboarding service (broker mode).
    #[error("Microsoft Graph does not yet let apps register security keys for the signed-in person (405 on /me); use tap2key's onboarding service")]
    SelfServiceNotSupported,
    /// 400 saying the key (its credential) is registered already.
    #[error("this security key is already registered: {message}")]
    AlreadyRegistered { message: String },
    /// 400 saying the key model (AAGUID) is not allowed or its attestation not trusted.
    #[error("this security key model is not allowed: {message}")]
    ModelNotAllowed { message: String },
    /// 400 saying the challenge expired, was used or was never issued: fetch fresh options.
    #[error("the registration challenge has expired or was already used; start again with new options")]
    ChallengeExpired,
    /// Direct mode: the test sign-in, checked in the app against the key's attested public
    /// key, did not verify; the message says which check failed.
    #[error("the test sign-in did not verify: {message}")]
    TestSignInFailed { message: String },
    /// Direct mode: the method was not registered by this app in this session, so its public
    /// key is unknown here (Graph has no test sign-in and does not hand keys out).
    #[error("this key was not registered in this session, so it cannot be tested here: Microsoft Graph has no test sign-in")]
    TestSignInUnavailable,
    /// 404: the method is gone.
    #[error("the directory has no such security key method")]
    NotFound,
    /// Any other 4xx, with Graph's code and message.
    #[error("the directory refused the request ({status} {code}): {message}")]
    Refused { status: u16, code: String, message: String },
    /// An answer not in the expected shape.
    #[error("the directory's answer was not understood: {0}")]
    Protocol(String),
}

fn retry_hint(seconds: Option<u64>) -> String {
    match seconds {
        Some(seconds) => format!("; try again in {seconds} seconds"),
        None => "; try again in a minute".to_owned(),
    }
}

/// Why the sign-in page sent the person back: each needs IT (or time) to fix, and the
/// flow says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SignInProblem {
    TapExpired,
    TapNotYetValid,
    TapUsed,
    TapMissing,
    /// Too many wrong passes.
    Locked,
    /// Refused for another reason (or the person cancelled).
    Denied,
}

impl SignInProblem {
    /// The problem an OAuth error redirect names (`error` and Entra's `error_subcode`).
    pub fn from_subcode(subcode: Option<&str>) -> Self {
        match subcode.unwrap_or_default() {
            "tap_expired" => Self::TapExpired,
            "tap_not_yet_valid" => Self::TapNotYetValid,
            "tap_used" => Self::TapUsed,
            "tap_missing" => Self::TapMissing,
            "locked" => Self::Locked,
            _ => Self::Denied,
        }
    }
}

impl fmt::Display for SignInProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TapExpired => "the Temporary Access Pass has expired",
            Self::TapNotYetValid => "the Temporary Access Pass is not valid yet",
            Self::TapUsed => "the one-time Temporary Access Pass was already used",
            Self::TapMissing => "there is no Temporary Access Pass for this account",
            Self::Locked => "too many wrong passes",
            Self::Denied => "the directory refused the sign-in",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcodes_name_their_problem() {
        for (subcode, problem) in [
            (Some("tap_expired"), SignInProblem::TapExpired),
            (Some("tap_not_yet_valid"), SignInProblem::TapNotYetValid),
            (Some("tap_used"), SignInProblem::TapUsed),
            (Some("tap_missing"), SignInProblem::TapMissing),
            (Some("locked"), SignInProblem::Locked),
            (Some("cancel"), SignInProblem::Denied),
            (None, SignInProblem::Denied),
        ] {
            assert_eq!(SignInProblem::from_subcode(subcode), problem, "{subcode:?}");
        }
        assert_eq!(serde_json::to_string(&SignInProblem::TapNotYetValid).unwrap(), r#""tapNotYetValid""#);
    }

    #[test]
    fn display_texts_say_what_to_do() {
        assert_eq!(DirectoryError::Unavailable { retry_after_seconds: Some(30) }.to_string(), "the directory is busy or unavailable; try again in 30 seconds");
        assert_eq!(DirectoryError::SignIn(SignInProblem::TapUsed).to_string(), "the sign-in was refused: the one-time Temporary Access Pass was already used");
        let refused = DirectoryError::Refused { status: 400, code: "invalidRequest".into(), message: "displayName is required.".into() };
        assert_eq!(refused.to_string(), "the directory refused the request (400 invalidRequest): displayName is required.");
    }
}
