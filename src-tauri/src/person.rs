//! The person at the app right now: their onboarding session, and the task that shows each
//! of its steps in the window. A kiosk replaces it for the next person.

use std::sync::Mutex;

use tap2key_flow::{Intent, Onboarding, OnboardingConfig, Step};
use tauri::{AppHandle, Emitter, Runtime, async_runtime::JoinHandle};

use crate::{ipc::STEP_CHANGED, signin_window};

/// Makes a fresh session's configuration (the same for every person).
pub type Configure = Box<dyn Fn() -> OnboardingConfig + Send + Sync>;

pub struct Person {
    configure: Configure,
    current: Mutex<Option<Current>>,
}

struct Current {
    onboarding: Onboarding,
    shows_steps: JoinHandle<()>,
}

impl Person {
    pub fn new(configure: Configure) -> Self {
        Self { configure, current: Mutex::new(None) }
    }

    /// Starts the first person's session unless it runs already: at setup, or at the
    /// window's first call, whichever comes first.
    pub fn begin<R: Runtime>(&self, app: &AppHandle<R>) {
        let mut current = self.lock();
        if current.is_none() {
            *current = Some(self.start(app));
        }
    }

    pub fn step<R: Runtime>(&self, app: &AppHandle<R>) -> Step {
        self.begin(app);
        self.lock().as_ref().map(|current| current.onboarding.step()).unwrap_or_default()
    }

    pub fn send<R: Runtime>(&self, app: &AppHandle<R>, intent: Intent) {
        self.begin(app);
        tracing::debug!(intent = intent.name(), "intent");
        if let Some(current) = self.lock().as_ref() {
            current.onboarding.send(intent);
        }
    }

    /// The next person: the old session forgets everything (tokens, PIN, a passkey not
    /// registered is deleted from the key), the sign-in window and its cookies go, and a
    /// new session starts at the welcome screen.
    pub async fn next<R: Runtime>(&self, app: &AppHandle<R>) {
        let old = self.lock().take();
        signin_window::close(app);
        if let Some(old) = old {
            old.shows_steps.abort();
            old.onboarding.close().await;
        }
        let current = self.start(app);
        let _ = app.emit(STEP_CHANGED, current.onboarding.step());
        *self.lock() = Some(current);
        tracing::info!("ready for the next person");
    }

    fn start<R: Runtime>(&self, app: &AppHandle<R>) -> Current {
        let config = (self.configure)();
        // The session's tasks run on the app's runtime, whichever thread asks.
        let tauri::async_runtime::RuntimeHandle::Tokio(runtime) = tauri::async_runtime::handle();
        let onboarding = {
            let _entered = runtime.enter();
            Onboarding::start(config)
        };
        let mut steps = onboarding.steps();
        let app = app.clone();
        let shows_steps = tauri::async_runtime::spawn(async move {
            while steps.changed().await.is_ok() {
                let step = steps.borrow_and_update().clone();
                signin_window::follow(&app, &step);
                if let Err(error) = app.emit(STEP_CHANGED, &step) {
                    tracing::warn!(%error, "could not show the step");
                }
            }
        });
        Current { onboarding, shows_steps }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Current>> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }
}
