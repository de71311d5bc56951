// Declaring the app's commands makes them subject to the capability files: a command that
// no capability grants to a window cannot be called from it.
const COMMANDS: &[&str] = &["app_info", "current_step", "send_intent", "touch_virtual_key", "still_here"];

fn main() {
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri build script failed");
}
