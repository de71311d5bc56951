//! The time the service runs on. Tests move it to exercise expiry without waiting.

use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

#[derive(Clone)]
pub enum Clock {
    System,
    /// A clock that only moves when told to.
    Manual(Arc<Mutex<OffsetDateTime>>),
}

impl Clock {
    pub fn manual(start: OffsetDateTime) -> Self {
        Self::Manual(Arc::new(Mutex::new(start)))
    }

    pub fn now(&self) -> OffsetDateTime {
        match self {
            Self::System => OffsetDateTime::now_utc(),
            Self::Manual(now) => *now.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a manual clock forward; the system clock cannot be moved.
    pub fn advance(&self, by: Duration) {
        if let Self::Manual(now) = self {
            *now.lock().unwrap_or_else(|e| e.into_inner()) += by;
        }
    }
}
