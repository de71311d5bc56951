//! Everything that crosses between the Rust side and the window, besides the flow's own
//! `Step` and `Intent`. TypeScript declarations for all of it are generated (see
//! `bindings`), never written by hand.

use serde::Serialize;
use ts_rs::TS;

/// The event carrying each new `Step` to the main window.
pub const STEP_CHANGED: &str = "step-changed";
/// The event warning that a kiosk is about to start over for the next person.
pub const IDLE_WARNING: &str = "idle-warning";

/// What the window needs to know about the app it runs in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub mode: Mode,
    /// Set in demo mode: the account and pass "IT" hands over.
    pub demo: Option<DemoInfo>,
    /// A walk-up kiosk: the app starts over for the next person after "done", after a
    /// failure left alone, or when nobody touches it for a while.
    pub kiosk: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// A real directory and real keys.
    Standard,
    /// The built-in demo directory: nothing touches a real account.
    Demo,
}

/// The demo's account, handed over the way IT would: the address and its Temporary Access
/// Pass (a pass for a throwaway account in a directory that lives as long as the app).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DemoInfo {
    pub account: String,
    pub pass: String,
    /// No real key was plugged in: a virtual one is, and the window shows a button that
    /// touches it.
    pub virtual_key: bool,
}

/// The kiosk is about to start over: `seconds_left`, or `None` when the person came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct IdleWarning {
    pub seconds_left: Option<u32>,
}

/// Why a command failed, as the window receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum CommandError {
    /// There is no virtual key to touch (a real key is in use).
    NoVirtualKey,
}
