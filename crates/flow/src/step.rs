//! The states of one onboarding session, as plain data a UI can render without logic.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::work_address::{AddressProblem, WorkAddress};

/// Where one person is in the onboarding job.
///
/// Later steps (finding the key, PIN, creating and registering the passkey, the test
/// sign-in) join this enum as the flow grows; a UI that renders a `Step` it does not
/// know yet shows nothing rather than guessing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "step", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Step {
    /// The person has not said who they are yet. `typed` is what they entered last, so a
    /// problem can be shown next to it and going back keeps it.
    Welcome { typed: String, problem: Option<AddressProblem> },
    /// We know who is about to sign in; the directory's own sign-in page, where the
    /// Temporary Access Pass is typed, comes next.
    ReadyToSignIn { account: WorkAddress },
}

impl Step {
    /// The step's tag, as in JSON: safe to log, since it carries none of the step's data.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Welcome { .. } => "welcome",
            Self::ReadyToSignIn { .. } => "readyToSignIn",
        }
    }
}

impl Default for Step {
    fn default() -> Self {
        Self::Welcome { typed: String::new(), problem: None }
    }
}
