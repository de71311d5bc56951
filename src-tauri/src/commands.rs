//! The commands the window may call (each is declared in build.rs and granted in
//! capabilities/main.json). They only hand intents to the flow and return its state.

use std::sync::Mutex;

use tap2key_flow::{Intent, Session, Step};
use tauri::{AppHandle, Emitter, Runtime, State};

use crate::ipc::{AppInfo, CommandError, Mode, STEP_CHANGED};

/// The one onboarding session this window shows.
#[derive(Default)]
pub struct CurrentSession(pub Mutex<Session>);

#[tauri::command]
pub fn app_info(mode: State<'_, Mode>) -> AppInfo {
    AppInfo { version: env!("CARGO_PKG_VERSION").into(), mode: *mode }
}

/// The window asks for this once it has loaded, so its log line marks "first screen up"
/// (scripts/measure times start-up by it).
#[tauri::command]
pub fn current_step(session: State<'_, CurrentSession>) -> Step {
    let step = lock(&session).step().clone();
    tracing::debug!(step = step.name(), "window asked for the current step");
    step
}

/// Applies the intent and returns the resulting step, which is also broadcast as
/// `step-changed` so that every view of the session stays in step.
#[tauri::command]
pub fn send_intent<R: Runtime>(
    app: AppHandle<R>,
    session: State<'_, CurrentSession>,
    intent: Intent,
) -> Result<Step, CommandError> {
    // The window's wiring to the flow's driver is the wizard's job (issue 6); until then
    // the shell applies intents to the session and carries out nothing.
    let mut session = lock(&session);
    session.apply(intent)?;
    let step = session.step().clone();
    drop(session);
    tracing::info!(step = step.name(), "step changed");
    app.emit(STEP_CHANGED, &step).map_err(|error| tracing::warn!(%error, "could not broadcast the step")).ok();
    Ok(step)
}

fn lock(session: &CurrentSession) -> std::sync::MutexGuard<'_, Session> {
    // A panic while holding the lock leaves a session that is still a valid value: carry on.
    session.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
