//! The commands the window may call (each is declared in build.rs and granted in
//! capabilities/main.json). They only hand intents to the flow and report its state.

use tap2key_flow::{Intent, Step};
use tauri::{AppHandle, Runtime, State};

use crate::{
    demo::Demo,
    ipc::{AppInfo, CommandError, Mode},
    kiosk::Activity,
    person::Person,
};

#[tauri::command]
pub fn app_info(mode: State<'_, Mode>, demo: State<'_, Option<Demo>>, activity: State<'_, Option<Activity>>) -> AppInfo {
    AppInfo { version: env!("CARGO_PKG_VERSION").into(), mode: *mode, demo: demo.as_ref().map(Demo::info), kiosk: activity.is_some() }
}

/// The window asks for this once it has loaded, so its log line marks "first screen up"
/// (scripts/measure times start-up by it).
#[tauri::command]
pub fn current_step<R: Runtime>(app: AppHandle<R>, person: State<'_, Person>) -> Step {
    let step = person.step(&app);
    tracing::debug!(step = step.name(), "window asked for the current step");
    step
}

/// Hands the intent to the flow; the steps it leads to arrive as `step-changed` events.
#[tauri::command]
pub fn send_intent<R: Runtime>(app: AppHandle<R>, person: State<'_, Person>, activity: State<'_, Option<Activity>>, intent: Intent) {
    if let Some(activity) = activity.as_ref() {
        activity.seen();
    }
    let start_over = matches!(intent, Intent::StartOver);
    if start_over && activity.is_some() {
        // On a kiosk, "start over" is the next person: wipe everything, not just the flow.
        tauri::async_runtime::spawn(async move {
            use tauri::Manager;
            app.state::<Person>().next(&app).await;
        });
        return;
    }
    person.send(&app, intent);
}

/// Demo: "touch" the virtual key.
#[tauri::command]
pub fn touch_virtual_key(demo: State<'_, Option<Demo>>) -> Result<(), CommandError> {
    match demo.as_ref() {
        Some(demo) if demo.touch() => Ok(()),
        _ => Err(CommandError::NoVirtualKey),
    }
}

/// Kiosk: the person is still here (they moved or typed, or answered the idle warning).
#[tauri::command]
pub fn still_here(activity: State<'_, Option<Activity>>) {
    if let Some(activity) = activity.as_ref() {
        activity.seen();
    }
}
