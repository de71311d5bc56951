//! What the person asks for. The UI sends these; the session decides what they mean.

use serde::Deserialize;
use ts_rs::TS;

use crate::secret::SecretText;

/// What the person asks for. PINs arrive as `SecretText`: zeroized, never printed, never
/// sent back out.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
#[serde(tag = "intent", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Intent {
    /// "This is my work address."
    SubmitWorkAddress { address: String },
    /// "That is not me": back to the welcome screen with the address kept for editing.
    ChangeWorkAddress,
    /// "Open the sign-in page."
    SignIn,
    /// "Carry on with this key" (from the key-found screen).
    UseKey,
    /// A new PIN for a blank key, typed twice.
    ChoosePin {
        #[ts(type = "string")]
        pin: SecretText,
        #[ts(type = "string")]
        again: SecretText,
    },
    /// The key's PIN.
    EnterPin {
        #[ts(type = "string")]
        pin: SecretText,
    },
    /// The current PIN and a new one typed twice, when the key demands a change.
    ChangePin {
        #[ts(type = "string")]
        current: SecretText,
        #[ts(type = "string")]
        new: SecretText,
        #[ts(type = "string")]
        again: SecretText,
    },
    /// "Stop waiting": cancels a touch the key waits for, or the sign-in page.
    Cancel,
    /// The name for the new passkey.
    NameKey { name: String },
    /// After a failure: try again.
    Retry,
    /// After a failed test sign-in: take the registration back.
    RemoveRegistration,
    /// Back to the welcome screen; everything of this session is forgotten.
    StartOver,
}

impl Intent {
    /// The intent's tag, as in JSON: safe to log.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SubmitWorkAddress { .. } => "submitWorkAddress",
            Self::ChangeWorkAddress => "changeWorkAddress",
            Self::SignIn => "signIn",
            Self::UseKey => "useKey",
            Self::ChoosePin { .. } => "choosePin",
            Self::EnterPin { .. } => "enterPin",
            Self::ChangePin { .. } => "changePin",
            Self::Cancel => "cancel",
            Self::NameKey { .. } => "nameKey",
            Self::Retry => "retry",
            Self::RemoveRegistration => "removeRegistration",
            Self::StartOver => "startOver",
        }
    }
}
