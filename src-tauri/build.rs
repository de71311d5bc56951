// Declaring the app's commands makes them subject to the capability files: a command that
// no capability grants to a window cannot be called from it.
const COMMANDS: &[&str] = &["app_info", "current_step", "send_intent", "touch_virtual_key", "still_here"];

/// Only in builds for the end-to-end tests (feature `e2e`); granted at run time by `e2e.rs`.
const E2E_COMMANDS: &[&str] = &["e2e_sign_in_window"];

fn main() {
    let commands: Vec<&str> = if std::env::var_os("CARGO_FEATURE_E2E").is_some() { [COMMANDS, E2E_COMMANDS].concat() } else { COMMANDS.to_vec() };
    let commands: &'static [&'static str] = Box::leak(commands.into_boxed_slice());
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands));
    tauri_build::try_build(attributes).expect("tauri build script failed");
}
