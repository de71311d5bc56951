//! The walk-up kiosk: one window, full screen, that nobody can close, and that starts over
//! for the next person when left alone (with a warning and a way to ask for more time).

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use tap2key_flow::Step;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::{
    ipc::{IDLE_WARNING, IdleWarning},
    person::Person,
};

/// When the person last did something.
pub struct Activity {
    last: Mutex<Instant>,
    pub idle_timeout: Duration,
}

impl Activity {
    pub fn new(idle_timeout: Duration) -> Self {
        Self { last: Mutex::new(Instant::now()), idle_timeout }
    }

    pub fn seen(&self) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn idle(&self) -> Duration {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).elapsed()
    }
}

/// Watches for a kiosk left alone: warns `WARNING` ahead, then starts over.
pub fn watch_idle<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        let mut warned = false;
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            // Managed as `Option<Activity>` (none when not a kiosk).
            let activity = app.state::<Option<Activity>>();
            let Some(activity) = activity.as_ref() else { return };
            let step = app.state::<Person>().step(&app);
            let untouched = matches!(step, Step::Welcome { ref typed, .. } if typed.is_empty());
            if untouched {
                // Nobody is here: nothing to reset, nothing to warn about.
                activity.seen();
            }
            // Typing the pass in the sign-in window is invisible from here (it is the
            // directory's page), so that step gets twice the time before a reset.
            let timeout = if matches!(step, Step::SigningIn { .. }) { activity.idle_timeout * 2 } else { activity.idle_timeout };
            let idle = activity.idle();
            let left = timeout.saturating_sub(idle);
            if left.is_zero() {
                tracing::info!("left alone: starting over for the next person");
                app.state::<Person>().next(&app).await;
                activity.seen();
                warned = false;
                let _ = app.emit(IDLE_WARNING, IdleWarning { seconds_left: None });
            } else if left <= tap2key_settings::WARNING {
                warned = true;
                let _ = app.emit(IDLE_WARNING, IdleWarning { seconds_left: Some(left.as_secs().try_into().unwrap_or(u32::MAX)) });
            } else if warned {
                warned = false;
                let _ = app.emit(IDLE_WARNING, IdleWarning { seconds_left: None });
            }
        }
    });
}
