//! The states of one onboarding session, as plain data a UI can render without logic.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{
    failure::{Cleanup, Failure, WayForward},
    key_name::NameProblem,
    pin_policy::{PinProblem, PinRules},
    work_address::{AddressProblem, WorkAddress},
};

/// Where one person is in the onboarding job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "step", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Step {
    /// The person has not said who they are yet. `typed` is what they entered last, so a
    /// problem can be shown next to it and going back keeps it.
    Welcome { typed: String, problem: Option<AddressProblem> },
    /// We know who is about to sign in; the directory's own sign-in page, where the
    /// Temporary Access Pass is typed, comes next.
    ReadyToSignIn { account: WorkAddress },
    /// The directory's sign-in page is open (`url` once it is ready to be shown); the
    /// Temporary Access Pass is typed there, never into tap2key.
    SigningIn { account: WorkAddress, url: Option<String> },
    /// Signed in; waiting for a key. `keys` is how many are plugged in: none ("insert your
    /// key") or several ("touch the one you want"; `touch` once they blink).
    FindingKey { keys: usize, touch: bool },
    /// What the key is and what it needs next.
    KeyFound { key: KeyDescription },
    /// A blank key: the person chooses its PIN (twice), under `rules`.
    ChoosePin { key: KeyDescription, rules: PinRules, problem: Option<PinProblem> },
    /// The key has a PIN: the person types it.
    EnterPin { key: KeyDescription, problem: Option<PinProblem> },
    /// The key demands a new PIN before use (forcePINChange): the current one, then a new one.
    ChangePin { key: KeyDescription, rules: PinRules, problem: Option<PinProblem> },
    /// The key is checking or storing the PIN.
    CheckingPin,
    /// The key makes the passkey; `touch` when it waits for a touch.
    CreatingPasskey { touch: bool },
    /// The passkey exists on the key; the person names it (a default is offered).
    NamingKey { suggested: String, problem: Option<NameProblem> },
    /// The directory is registering the passkey.
    Registering { name: String },
    /// A sign-in with the new passkey that the directory verifies; `touch` when the key
    /// waits for a touch.
    TestSignIn { touch: bool },
    /// Registered and proven to work.
    Done { key: RegisteredKey },
    /// Something went wrong: what, what was tidied up, and what the person can do now.
    Failed { failure: Failure, cleanup: Vec<Cleanup>, ways_forward: Vec<WayForward> },
    /// Undoing a registration whose test sign-in failed, at the person's request.
    RemovingRegistration,
}

impl Step {
    /// The step's tag, as in JSON: safe to log, since it carries none of the step's data.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Welcome { .. } => "welcome",
            Self::ReadyToSignIn { .. } => "readyToSignIn",
            Self::SigningIn { .. } => "signingIn",
            Self::FindingKey { .. } => "findingKey",
            Self::KeyFound { .. } => "keyFound",
            Self::ChoosePin { .. } => "choosePin",
            Self::EnterPin { .. } => "enterPin",
            Self::ChangePin { .. } => "changePin",
            Self::CheckingPin => "checkingPin",
            Self::CreatingPasskey { .. } => "creatingPasskey",
            Self::NamingKey { .. } => "namingKey",
            Self::Registering { .. } => "registering",
            Self::TestSignIn { .. } => "testSignIn",
            Self::Done { .. } => "done",
            Self::Failed { .. } => "failed",
            Self::RemovingRegistration => "removingRegistration",
        }
    }

    /// Whether the key is waiting for a touch right now.
    pub fn wants_touch(&self) -> bool {
        matches!(
            self,
            Self::FindingKey { touch: true, .. } | Self::CreatingPasskey { touch: true } | Self::TestSignIn { touch: true }
        )
    }
}

impl Default for Step {
    fn default() -> Self {
        Self::Welcome { typed: String::new(), problem: None }
    }
}

/// What the "key found" screen shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeyDescription {
    /// The model's name, or "Security key" when the model is not known.
    pub model: String,
    /// The model's AAGUID, as the directory lists it.
    pub aaguid: String,
    pub pin: PinState,
    /// The shortest PIN this key accepts, in characters.
    pub min_pin_length: usize,
    /// How many more passkeys fit on the key, when it says.
    #[ts(type = "number | null")]
    pub free_passkey_slots: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum PinState {
    /// A blank key: a PIN is chosen now.
    NotSet,
    /// A PIN is set; `retries` wrong tries are left before the key blocks it.
    Set { retries: u8 },
    /// A PIN is set but the key demands a new one before use.
    ChangeRequired { retries: u8 },
    /// Three wrong PINs in a row: the key must be re-inserted before the next try.
    ReinsertNeeded { retries: u8 },
    /// Too many wrong PINs: only a reset (which wipes the key) makes it usable again.
    Blocked,
}

/// The passkey as the directory registered it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredKey {
    /// The directory's id of the new authentication method.
    pub method_id: String,
    pub name: String,
    pub aaguid: Option<String>,
    pub model: Option<String>,
    /// The signature counter the directory saw in the test sign-in.
    pub sign_count: u32,
}
