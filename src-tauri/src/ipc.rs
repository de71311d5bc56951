//! Everything that crosses between the Rust side and the window, besides the flow's own
//! `Step` and `Intent`. TypeScript declarations for all of it are generated (see
//! `bindings`), never written by hand.

use serde::Serialize;
use tap2key_flow::NotNow;
use ts_rs::TS;

/// The event carrying each new `Step` to the main window.
pub const STEP_CHANGED: &str = "step-changed";

/// What the window needs to know about the app it runs in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub mode: Mode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// A real directory and real keys.
    Standard,
    /// The built-in demo directory: nothing touches a real account.
    Demo,
}

/// Why a command failed, as the window receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum CommandError {
    /// The intent does not fit the current step (a late double click, say); the window
    /// should render the step it is sent and carry on.
    NotNow { intent: String, step: String },
}

impl From<NotNow> for CommandError {
    fn from(refusal: NotNow) -> Self {
        Self::NotNow { intent: refusal.intent.into(), step: refusal.step.into() }
    }
}
