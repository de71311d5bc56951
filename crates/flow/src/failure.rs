//! Everything that can stop an onboarding, each with what the person can do next.
//!
//! A failure carries no secret and no raw protocol detail beyond a message the directory
//! wrote for people; the UI turns each kind into plain words.

use serde::{Deserialize, Serialize};
use tap2key_directory::{DirectoryError, SignInProblem};
use tap2key_keys::KeyError;
use ts_rs::TS;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Failure {
    /// The directory's sign-in page sent the person back: the pass expired, was used,
    /// is not valid yet, does not exist, or the account is locked.
    SignInRefused { problem: SignInCause },
    /// The answer from the sign-in page did not match what was asked (a stale or forged
    /// redirect): nothing was accepted.
    SignInNotTrusted,
    /// The directory cannot be reached (network down, wrong address).
    DirectoryUnreachable,
    /// The directory answered that it is busy or down for now.
    DirectoryUnavailable,
    /// The sign-in is no longer valid (it expired, or the pass behind it did).
    SessionExpired,
    /// The directory does not let people register their own keys (Microsoft Graph's `/me`
    /// today): the organisation needs the onboarding service.
    SelfServiceNotSupported,
    /// The directory refused, with its reason (for example self-service setup turned off).
    DirectoryRefused { message: String },
    /// The directory says the signed-in account may not do this (for example IT staff
    /// without the right role); trying again cannot help.
    NotPermitted { message: String },
    /// This key is registered for this person already.
    AlreadyRegistered,
    /// The organisation does not allow this key model.
    ModelNotAllowed { model: String, message: String },
    /// The key was pulled out while it was needed.
    KeyRemoved,
    /// Too many wrong PINs: the key is blocked until it is reset, which wipes it.
    PinBlocked,
    /// Three wrong PINs in a row: the key takes no more tries until it is re-inserted.
    PinTriesPaused,
    /// The key was not touched in time.
    NoTouch,
    /// The person cancelled while the key waited for a touch.
    Cancelled,
    /// The key has no room for another passkey.
    KeyFull,
    /// The key cannot do what registration needs (no PIN, no discoverable credentials, no
    /// ES256).
    KeyNotSuitable,
    /// The key answered in a way that makes no sense, or talking to it failed.
    KeyTrouble,
    /// The key is registered, but the sign-in with it did not verify.
    TestSignInFailed { message: String },
}

/// Why the sign-in page sent the person back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SignInCause {
    PassExpired,
    PassNotYetValid,
    PassAlreadyUsed,
    NoPass,
    AccountLocked,
    Denied,
}

/// What the person can do after a failure; the UI shows one button (or one instruction)
/// for each, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum WayForward {
    /// Try the same thing again.
    Retry,
    /// Pull the key out and put it back in; the flow carries on by itself.
    ReinsertKey,
    /// Sign in again (with a new pass if the old one was for one use).
    SignInAgain,
    /// Use a different key.
    UseAnotherKey,
    /// Only IT can fix this; the message says what to ask for.
    AskIt,
    /// Take back the registration that did not pass its test.
    RemoveRegistration,
    /// Begin again from the welcome screen.
    StartOver,
}

/// What the flow tidied up (or could not) after a failure, so nothing is left half done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Cleanup {
    /// The passkey made on the key was deleted from it again.
    PasskeyRemovedFromKey,
    /// The passkey made on the key could not be deleted (the key was gone); it is unused
    /// and harmless, and resetting the key removes it.
    PasskeyLeftOnKey,
    /// The registration was taken back from the directory.
    RegistrationRemoved,
}

impl Failure {
    /// The failure's tag, as in JSON: safe to log.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SignInRefused { .. } => "signInRefused",
            Self::SignInNotTrusted => "signInNotTrusted",
            Self::DirectoryUnreachable => "directoryUnreachable",
            Self::DirectoryUnavailable => "directoryUnavailable",
            Self::SessionExpired => "sessionExpired",
            Self::SelfServiceNotSupported => "selfServiceNotSupported",
            Self::DirectoryRefused { .. } => "directoryRefused",
            Self::NotPermitted { .. } => "notPermitted",
            Self::AlreadyRegistered => "alreadyRegistered",
            Self::ModelNotAllowed { .. } => "modelNotAllowed",
            Self::KeyRemoved => "keyRemoved",
            Self::PinBlocked => "pinBlocked",
            Self::PinTriesPaused => "pinTriesPaused",
            Self::NoTouch => "noTouch",
            Self::Cancelled => "cancelled",
            Self::KeyFull => "keyFull",
            Self::KeyNotSuitable => "keyNotSuitable",
            Self::KeyTrouble => "keyTrouble",
            Self::TestSignInFailed { .. } => "testSignInFailed",
        }
    }

    pub fn ways_forward(&self) -> Vec<WayForward> {
        use WayForward::*;
        match self {
            Self::SignInRefused { problem: SignInCause::PassNotYetValid } => vec![SignInAgain, AskIt],
            Self::SignInRefused { .. } => vec![AskIt, StartOver],
            Self::SignInNotTrusted => vec![SignInAgain],
            Self::DirectoryUnreachable | Self::DirectoryUnavailable => vec![Retry, StartOver],
            Self::SessionExpired => vec![SignInAgain],
            Self::SelfServiceNotSupported => vec![AskIt, StartOver],
            Self::DirectoryRefused { .. } => vec![Retry, AskIt],
            Self::NotPermitted { .. } => vec![AskIt, StartOver],
            Self::AlreadyRegistered => vec![UseAnotherKey, StartOver],
            Self::ModelNotAllowed { .. } => vec![UseAnotherKey, AskIt],
            Self::KeyRemoved => vec![ReinsertKey],
            Self::PinBlocked => vec![UseAnotherKey, AskIt],
            Self::PinTriesPaused => vec![ReinsertKey],
            Self::NoTouch | Self::Cancelled => vec![Retry],
            Self::KeyFull | Self::KeyNotSuitable => vec![UseAnotherKey, AskIt],
            Self::KeyTrouble => vec![Retry, ReinsertKey],
            Self::TestSignInFailed { .. } => vec![Retry, RemoveRegistration],
        }
    }

    /// The key's error, where it ends the current step.
    pub fn from_key(error: &KeyError) -> Self {
        match error {
            KeyError::NoKey | KeyError::Removed => Self::KeyRemoved,
            KeyError::PinBlocked => Self::PinBlocked,
            KeyError::PinAuthBlocked => Self::PinTriesPaused,
            KeyError::CredentialExcluded => Self::AlreadyRegistered,
            KeyError::UserActionTimeout | KeyError::Timeout => Self::NoTouch,
            KeyError::Cancelled | KeyError::OperationDenied => Self::Cancelled,
            KeyError::KeyStoreFull => Self::KeyFull,
            KeyError::UnsupportedAlgorithm | KeyError::PinNotSet => Self::KeyNotSuitable,
            KeyError::PinInvalid { .. }
            | KeyError::PinRequired
            | KeyError::PinPolicyViolation
            | KeyError::PinChangeRequired
            | KeyError::NoCredentials
            | KeyError::Ctap(_)
            | KeyError::Protocol(_)
            | KeyError::Transport(_)
            | KeyError::Busy => Self::KeyTrouble,
        }
    }

    /// The directory's error. `model` names the key, for a refusal of its model.
    pub fn from_directory(error: &DirectoryError, model: &str) -> Self {
        match error {
            DirectoryError::Unreachable => Self::DirectoryUnreachable,
            DirectoryError::Unavailable { .. } => Self::DirectoryUnavailable,
            DirectoryError::SignIn(problem) => Self::SignInRefused { problem: (*problem).into() },
            DirectoryError::SignInTampered => Self::SignInNotTrusted,
            DirectoryError::SessionExpired => Self::SessionExpired,
            DirectoryError::SelfServiceNotSupported => Self::SelfServiceNotSupported,
            DirectoryError::AlreadyRegistered { .. } => Self::AlreadyRegistered,
            DirectoryError::ModelNotAllowed { message } => Self::ModelNotAllowed { model: model.to_owned(), message: message.clone() },
            DirectoryError::Forbidden { message } => Self::NotPermitted { message: message.clone() },
            DirectoryError::Refused { message, .. } => Self::DirectoryRefused { message: message.clone() },
            // Fresh options are fetched before this could reach the person; if it still
            // does, a retry starts over with fresh ones.
            DirectoryError::ChallengeExpired => Self::DirectoryRefused { message: "The registration took too long. Try again.".into() },
            DirectoryError::NotFound => Self::DirectoryRefused { message: "The directory could not find this account or this registration.".into() },
            DirectoryError::Protocol(_) => Self::DirectoryRefused { message: "The directory's answer could not be understood.".into() },
            // Direct mode's test sign-in, checked in the app.
            DirectoryError::TestSignInFailed { message } => Self::TestSignInFailed { message: message.clone() },
            DirectoryError::TestSignInUnavailable => Self::TestSignInFailed {
                message: "This key was not registered in this session, so it cannot be tested here: Microsoft Graph has no test sign-in. Sign in with the key to check it.".into(),
            },
        }
    }
}

impl From<SignInProblem> for SignInCause {
    fn from(problem: SignInProblem) -> Self {
        match problem {
            SignInProblem::TapExpired => Self::PassExpired,
            SignInProblem::TapNotYetValid => Self::PassNotYetValid,
            SignInProblem::TapUsed => Self::PassAlreadyUsed,
            SignInProblem::TapMissing => Self::NoPass,
            SignInProblem::Locked => Self::AccountLocked,
            SignInProblem::Denied => Self::Denied,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_has_a_way_forward() {
        let failures = [
            Failure::SignInRefused { problem: SignInCause::PassExpired },
            Failure::SignInNotTrusted,
            Failure::DirectoryUnreachable,
            Failure::DirectoryUnavailable,
            Failure::SessionExpired,
            Failure::SelfServiceNotSupported,
            Failure::DirectoryRefused { message: "no".into() },
            Failure::NotPermitted { message: "no".into() },
            Failure::AlreadyRegistered,
            Failure::ModelNotAllowed { model: "m".into(), message: "no".into() },
            Failure::KeyRemoved,
            Failure::PinBlocked,
            Failure::PinTriesPaused,
            Failure::NoTouch,
            Failure::Cancelled,
            Failure::KeyFull,
            Failure::KeyNotSuitable,
            Failure::KeyTrouble,
            Failure::TestSignInFailed { message: "no".into() },
        ];
        for failure in failures {
            assert!(!failure.ways_forward().is_empty(), "{failure:?}");
        }
    }

    #[test]
    fn a_test_sign_in_checked_in_the_app_fails_as_a_test_sign_in() {
        let failed = DirectoryError::TestSignInFailed { message: "The signature does not verify.".into() };
        assert_eq!(Failure::from_directory(&failed, "m"), Failure::TestSignInFailed { message: "The signature does not verify.".into() });
        let Failure::TestSignInFailed { message } = Failure::from_directory(&DirectoryError::TestSignInUnavailable, "m") else { panic!() };
        assert!(message.contains("Microsoft Graph has no test sign-in"), "{message}");
        assert_eq!(Failure::from_directory(&DirectoryError::SelfServiceNotSupported, "m").ways_forward(), [WayForward::AskIt, WayForward::StartOver]);
    }

    #[test]
    fn failures_cross_json_tagged_by_kind() {
        let json = serde_json::to_value(Failure::SignInRefused { problem: SignInCause::PassAlreadyUsed }).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "signInRefused", "problem": "passAlreadyUsed"}));
    }
}
