//! The time the stand-in runs on: a manual clock, so tests can expire passes, challenges
//! and tokens without waiting.

use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

#[derive(Clone, Debug)]
pub struct Clock(Arc<Mutex<OffsetDateTime>>);

impl Clock {
    /// Starts at the real time, whole seconds (JWT times are whole seconds).
    pub(crate) fn starting_now() -> Self {
        let now = OffsetDateTime::now_utc();
        Self(Arc::new(Mutex::new(
            now.replace_nanosecond(0).unwrap_or(now),
        )))
    }

    pub fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}
