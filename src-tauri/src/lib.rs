//! The desktop app: a thin Tauri shell that wires the onboarding flow to a window.
//! It holds no onboarding logic; that lives in the domain crates under `crates/`.

mod commands;
mod ipc;
mod options;

#[cfg(test)]
mod bindings;
#[cfg(test)]
mod tests;

use tauri::{Manager, Runtime};

pub use options::Options;

/// Everything the app registers, on any runtime: the real one in `run`, the mock one in tests.
pub fn builder<R: Runtime>(builder: tauri::Builder<R>, options: &Options) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            // A second launch brings the running wizard to the front instead of opening
            // a second one that would compete for the same security key.
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        .manage(options.mode())
        .manage(commands::CurrentSession::default())
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::current_step,
            commands::send_intent,
        ])
}

pub fn run(options: Options) {
    init_logging();
    tracing::info!(mode = ?options.mode(), "starting");
    builder(tauri::Builder::default(), &options)
        .run(tauri::generate_context!())
        .expect("the tap2key window could not be started");
}

fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TAP2KEY_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // webauthn-rs traces whole ceremony states, challenges included: never below info.
    let filter = filter.add_directive("webauthn_rs_core=info".parse().expect("a valid directive"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
