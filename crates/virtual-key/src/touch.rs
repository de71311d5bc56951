//! User presence: the "touch" a real key waits for, granted by whoever plays the user.
//!
//! Tests grant it at once, the demo shows a button, and a policy can make the user slow
//! or absent so that timeouts are exercised. The key keeps sending KEEPALIVE "touch
//! needed" while it waits, and a host CANCEL ends the wait, as on a real key.

use std::{
    sync::{Arc, Condvar, Mutex},
    time::{Duration, Instant},
};

use crate::hid::{HidIo, KeepAlive};

/// How the simulated user responds when the key asks for a touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TouchPolicy {
    /// Touches as soon as asked (tests, benchmarks).
    Immediately,
    /// Touches after this delay (a person reacting).
    After(Duration),
    /// Only touches when [`Touch::press`] is called (the demo's on-screen button).
    WhenPressed,
    /// Never touches: the key gives up after its touch timeout (a person who walked away).
    Never,
}

/// The shared control of one virtual key's sensor. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Touch {
    inner: Arc<(Mutex<TouchState>, Condvar)>,
}

#[derive(Debug)]
struct TouchState {
    policy: TouchPolicy,
    /// Presses made while the key was waiting; a press when nothing waits is not kept,
    /// as a touch on an idle key does nothing.
    pressed: bool,
    waiting: bool,
}

/// The outcome of one request for user presence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Touched,
    TimedOut,
    Cancelled,
}

/// How often the key reports "touch needed" while it waits (CTAPHID requires ≤ 100 ms).
const KEEPALIVE_EVERY: Duration = Duration::from_millis(80);

impl Touch {
    pub fn new(policy: TouchPolicy) -> Self {
        let state = TouchState { policy, pressed: false, waiting: false };
        Self { inner: Arc::new((Mutex::new(state), Condvar::new())) }
    }

    pub fn set_policy(&self, policy: TouchPolicy) {
        self.lock().policy = policy;
    }

    pub fn policy(&self) -> TouchPolicy {
        self.lock().policy
    }

    /// True while the key is waiting for a touch (the demo lights its button up).
    pub fn is_waiting(&self) -> bool {
        self.lock().waiting
    }

    /// The user touches the key. Counts only if the key is waiting for it.
    pub fn press(&self) {
        let mut state = self.lock();
        if state.waiting {
            state.pressed = true;
            self.inner.1.notify_all();
        }
    }

    /// Waits for a touch for at most `timeout`, sending keepalives and watching for CANCEL.
    pub(crate) fn request(&self, io: &mut dyn HidIo, timeout: Duration) -> Presence {
        let started = Instant::now();
        {
            let mut state = self.lock();
            state.waiting = true;
            state.pressed = false;
        }
        let outcome = loop {
            // The lock is never held across the host I/O below.
            io.keepalive(KeepAlive::UpNeeded);
            if io.cancelled() {
                break Presence::Cancelled;
            }
            let state = self.lock();
            let elapsed = started.elapsed();
            let touched = match state.policy {
                TouchPolicy::Immediately => true,
                TouchPolicy::After(delay) => elapsed >= delay,
                TouchPolicy::WhenPressed | TouchPolicy::Never => state.pressed,
            };
            if touched {
                break Presence::Touched;
            }
            if elapsed >= timeout {
                break Presence::TimedOut;
            }
            let wait = KEEPALIVE_EVERY.min(timeout - elapsed);
            drop(self.inner.1.wait_timeout(state, wait).unwrap_or_else(|e| e.into_inner()));
        };
        let mut state = self.lock();
        state.waiting = false;
        state.pressed = false;
        outcome
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TouchState> {
        self.inner.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Io {
        keepalives: usize,
        cancel_after: Option<usize>,
    }

    impl HidIo for Io {
        fn keepalive(&mut self, status: KeepAlive) {
            assert_eq!(status, KeepAlive::UpNeeded);
            self.keepalives += 1;
        }
        fn cancelled(&mut self) -> bool {
            self.cancel_after.is_some_and(|n| self.keepalives >= n)
        }
    }

    #[test]
    fn immediate_touch_still_says_touch_needed_once() {
        let mut io = Io::default();
        assert_eq!(Touch::new(TouchPolicy::Immediately).request(&mut io, Duration::from_secs(1)), Presence::Touched);
        assert_eq!(io.keepalives, 1);
    }

    #[test]
    fn an_absent_user_times_out_with_keepalives_all_along() {
        let mut io = Io::default();
        let outcome = Touch::new(TouchPolicy::Never).request(&mut io, Duration::from_millis(300));
        assert_eq!(outcome, Presence::TimedOut);
        // One before the first wait and one after it, whatever the scheduler does; a count
        // that depends on how long waits really took would flake on a busy machine.
        assert!(io.keepalives >= 2, "{} keepalives", io.keepalives);
    }

    #[test]
    fn a_press_while_waiting_counts_and_one_before_does_not() {
        let touch = Touch::new(TouchPolicy::WhenPressed);
        touch.press(); // nothing is waiting: ignored
        let presser = touch.clone();
        let handle = std::thread::spawn(move || {
            while !presser.is_waiting() {
                std::thread::sleep(Duration::from_millis(5));
            }
            presser.press();
        });
        let outcome = touch.request(&mut Io::default(), Duration::from_secs(5));
        handle.join().unwrap();
        assert_eq!(outcome, Presence::Touched);
        assert!(!touch.is_waiting());
    }

    #[test]
    fn cancel_ends_the_wait() {
        let mut io = Io { cancel_after: Some(2), ..Io::default() };
        assert_eq!(Touch::new(TouchPolicy::Never).request(&mut io, Duration::from_secs(5)), Presence::Cancelled);
    }
}
