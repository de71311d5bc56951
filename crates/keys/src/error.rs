//! What can go wrong with a security key, in terms the onboarding flow acts on.

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    #[error("no security key is plugged in")]
    NoKey,
    #[error("the security key was removed")]
    Removed,
    #[error("wrong PIN; {retries_left} attempts left")]
    PinInvalid { retries_left: u8 },
    #[error("the PIN is blocked after too many wrong attempts; the key must be reset")]
    PinBlocked,
    #[error("three wrong PINs in a row; remove the key and insert it again")]
    PinAuthBlocked,
    #[error("the key has no PIN yet")]
    PinNotSet,
    #[error("the key needs its PIN for this")]
    PinRequired,
    #[error("the key refused the new PIN (too short, or the same as before when a change is required)")]
    PinPolicyViolation,
    #[error("the key asks for a new PIN before it can be used")]
    PinChangeRequired,
    #[error("this key is already registered")]
    CredentialExcluded,
    #[error("the key refused the operation")]
    OperationDenied,
    #[error("the key was not touched in time")]
    UserActionTimeout,
    #[error("the operation was cancelled")]
    Cancelled,
    #[error("the key holds no matching credential")]
    NoCredentials,
    #[error("the key has no room for another passkey")]
    KeyStoreFull,
    #[error("the key does not support the algorithms asked for")]
    UnsupportedAlgorithm,
    #[error("the key answered with CTAP error 0x{0:02X}")]
    Ctap(u8),
    #[error("the key's answer could not be understood: {0}")]
    Protocol(String),
    #[error("talking to the key failed: {0}")]
    Transport(String),
    #[error("the key did not answer in time")]
    Timeout,
    #[error("the key is in use by another program")]
    Busy,
}

impl KeyError {
    /// The error for a CTAP status byte (CTAP 2.1 §8.2). PIN_INVALID's retries are filled in
    /// by the caller, which asks the key for them.
    pub fn from_status(status: u8) -> Self {
        match status {
            0x06 => Self::Busy,
            0x19 => Self::CredentialExcluded,
            0x26 => Self::UnsupportedAlgorithm,
            0x27 => Self::OperationDenied,
            0x28 => Self::KeyStoreFull,
            0x2D => Self::Cancelled,
            0x2E => Self::NoCredentials,
            0x2F => Self::UserActionTimeout,
            0x31 => Self::PinInvalid { retries_left: 0 },
            0x32 => Self::PinBlocked,
            0x34 => Self::PinAuthBlocked,
            0x35 => Self::PinNotSet,
            0x36 => Self::PinRequired,
            0x37 => Self::PinPolicyViolation,
            other => Self::Ctap(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_the_flow_meets_has_its_own_error() {
        let statuses = [0x06, 0x19, 0x26, 0x27, 0x28, 0x2D, 0x2E, 0x2F, 0x31, 0x32, 0x34, 0x35, 0x36, 0x37];
        let errors: Vec<KeyError> = statuses.iter().map(|&s| KeyError::from_status(s)).collect();
        assert!(errors.iter().all(|e| !matches!(e, KeyError::Ctap(_))));
        for (i, a) in errors.iter().enumerate() {
            for b in &errors[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(KeyError::from_status(0x44), KeyError::Ctap(0x44));
    }
}
