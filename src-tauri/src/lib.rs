//! The desktop app: a thin Tauri shell that wires the onboarding flow to a window.
//! It holds no onboarding logic; that lives in the domain crates under `crates/`.

mod commands;
mod demo;
#[cfg(feature = "e2e")]
mod e2e;
mod ipc;
mod kiosk;
mod launch;
mod options;
mod person;
mod signin_window;

#[cfg(test)]
mod bindings;
#[cfg(test)]
mod tests;

use tauri::{Manager, Runtime, WindowEvent};

pub use launch::Launch;
pub use options::Options;

/// Everything the app registers, on any runtime: the real one in `run`, the mock one in tests.
pub fn builder<R: Runtime>(builder: tauri::Builder<R>, launch: Launch) -> tauri::Builder<R> {
    let kiosk = launch.kiosk.is_some();
    builder
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            // A second launch brings the running wizard to the front instead of opening
            // a second one that would compete for the same security key.
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        .manage(launch.mode)
        .manage(person::Person::new(launch.configure))
        .manage(launch.demo)
        .manage(launch.kiosk)
        .setup(move |app| {
            #[cfg(feature = "e2e")]
            e2e::grant(app)?;
            app.state::<person::Person>().begin(app.handle());
            if kiosk {
                if let Some(window) = app.get_webview_window("main") {
                    let _ = window.set_decorations(false);
                    let _ = window.set_resizable(false);
                    let _ = window.set_always_on_top(true);
                    let _ = window.set_fullscreen(true);
                }
                kiosk::watch_idle(app.handle().clone());
            }
            Ok(())
        })
        .on_window_event(move |window, event| {
            // A kiosk's window stays: the next person needs it.
            if let WindowEvent::CloseRequested { api, .. } = event
                && kiosk
                && window.label() == "main"
            {
                api.prevent_close();
            }
        })
        .invoke_handler(handlers())
}

#[cfg(not(feature = "e2e"))]
fn handlers<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        commands::app_info,
        commands::current_step,
        commands::send_intent,
        commands::touch_virtual_key,
        commands::still_here,
    ]
}

#[cfg(feature = "e2e")]
fn handlers<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        commands::app_info,
        commands::current_step,
        commands::send_intent,
        commands::touch_virtual_key,
        commands::still_here,
        e2e::e2e_sign_in_window,
    ]
}

pub fn run(options: Options) -> Result<(), String> {
    init_logging();
    let launch = tauri::async_runtime::block_on(Launch::prepare(&options))?;
    tracing::info!(mode = ?launch.mode, kiosk = launch.kiosk.is_some(), "starting");
    let app = builder(tauri::Builder::default(), launch)
        .build(tauri::generate_context!())
        .map_err(|error| format!("the tap2key window could not be started: {error}"))?;
    app.run(|app, event| {
        // Tauri ends the process without running destructors: the demo's database goes now.
        if let tauri::RunEvent::Exit = event
            && let Some(demo) = app.state::<Option<demo::Demo>>().as_ref()
        {
            demo.remove_database();
        }
    });
    Ok(())
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
