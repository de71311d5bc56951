//! End-to-end test support, compiled only with the `e2e` feature: the sign-in window is an
//! incognito webview that WebDriver cannot see, so a test types the Temporary Access Pass
//! into it through this command, run from the main window.

use std::sync::Mutex;

use tap2key_keys::KeyPorts;
use tap2key_virtual_key::{TouchPolicy, VirtualKey, VirtualKeyConfig};
use tauri::{AppHandle, Manager, Runtime, ipc::CapabilityBuilder};

/// The key `--e2e-virtual-key` plugged in, alive as long as the app.
static VIRTUAL_KEY: Mutex<Option<VirtualKey>> = Mutex::new(None);

/// Plugs a virtual key, touched by a quick "person" (0.8 s after it asks), into `ports`: tests of a real directory's path
/// (Entra through the broker) run without a physical key and without the demo.
pub fn plug_in_virtual_key(ports: &KeyPorts) -> Result<(), String> {
    let key = VirtualKey::new(VirtualKeyConfig { touch: TouchPolicy::After(std::time::Duration::from_millis(800)), ..VirtualKeyConfig::default() })
        .map_err(|error| format!("the virtual key could not be made: {error}"))?;
    ports.plug_in(key.plug_in());
    *VIRTUAL_KEY.lock().unwrap_or_else(|e| e.into_inner()) = Some(key);
    Ok(())
}

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
