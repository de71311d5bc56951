//! What the person asks for. The UI sends these; the session decides what they mean.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "intent", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Intent {
    /// "This is my work address."
    SubmitWorkAddress { address: String },
    /// "That is not me": back to the welcome screen with the address kept for editing.
    ChangeWorkAddress,
}

impl Intent {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::SubmitWorkAddress { .. } => "submitWorkAddress",
            Self::ChangeWorkAddress => "changeWorkAddress",
        }
    }
}
