//! End-to-end test support, compiled only with the `e2e` feature: the sign-in window is an
//! incognito webview that WebDriver cannot see, so a test types the Temporary Access Pass
//! into it through this command, run from the main window.

use tauri::{AppHandle, Manager, Runtime, ipc::CapabilityBuilder};

/// Runs `script` in the sign-in window; `false` when that window is not open.
#[tauri::command]
pub fn e2e_sign_in_window<R: Runtime>(app: AppHandle<R>, script: String) -> bool {
    match app.get_webview_window("signin") {
        Some(window) => window.eval(script).is_ok(),
        None => false,
    }
}

/// Grants the main window the command above.
pub fn grant<R: Runtime>(app: &tauri::App<R>) -> tauri::Result<()> {
    app.add_capability(CapabilityBuilder::new("e2e").window("main").permission("allow-e2e-sign-in-window"))
}
