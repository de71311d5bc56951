//! The TypeScript declarations of every type that crosses the IPC boundary, generated
//! from the Rust types into `ui/src/generated/ipc.ts`.
//!
//! The file is committed so the UI builds without a Rust toolchain; this test fails when
//! it is stale. `TAP2KEY_WRITE_BINDINGS=1 cargo test -p tap2key bindings` rewrites it.

use std::path::Path;

use tap2key_flow::{
    AddressProblem, Cleanup, Failure, Intent, KeyDescription, NameProblem, PinProblem, PinRules, PinState, RegisteredKey, SignInCause, Step,
    WayForward, WorkAddress,
};
use ts_rs::{Config, TS};

use crate::ipc::{AppInfo, CommandError, DemoInfo, IDLE_WARNING, IdleWarning, Mode, STEP_CHANGED};

fn declaration<T: TS>(cfg: &Config) -> String {
    let docs = T::docs().unwrap_or_default();
    format!("{docs}export {}\n", T::decl(cfg))
}

fn render() -> String {
    let cfg = Config::new();
    let declarations = [
        declaration::<Step>(&cfg),
        declaration::<Intent>(&cfg),
        declaration::<WorkAddress>(&cfg),
        declaration::<AddressProblem>(&cfg),
        declaration::<KeyDescription>(&cfg),
        declaration::<PinState>(&cfg),
        declaration::<PinRules>(&cfg),
        declaration::<PinProblem>(&cfg),
        declaration::<NameProblem>(&cfg),
        declaration::<RegisteredKey>(&cfg),
        declaration::<Failure>(&cfg),
        declaration::<SignInCause>(&cfg),
        declaration::<WayForward>(&cfg),
        declaration::<Cleanup>(&cfg),
        declaration::<AppInfo>(&cfg),
        declaration::<Mode>(&cfg),
        declaration::<DemoInfo>(&cfg),
        declaration::<IdleWarning>(&cfg),
        declaration::<CommandError>(&cfg),
    ];
    format!(
        "// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit.\n\n\
         /** The event carrying each new `Step` to the main window. */\n\
         export const STEP_CHANGED = {STEP_CHANGED:?};\n\n\
         /** The event warning that a kiosk is about to start over (`IdleWarning`). */\n\
         export const IDLE_WARNING = {IDLE_WARNING:?};\n\n{}",
        declarations.join("\n")
    )
}

#[test]
fn typescript_bindings_are_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/generated/ipc.ts");
    let expected = render();
    if std::env::var_os("TAP2KEY_WRITE_BINDINGS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &expected).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "{} is stale: run `TAP2KEY_WRITE_BINDINGS=1 cargo test -p tap2key bindings` and commit it",
        path.display()
    );
}
