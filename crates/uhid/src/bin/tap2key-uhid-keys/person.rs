//! The person at the machine, as far as touching goes: touches one key each time it waits
//! for a touch, after a moment, as a hand would; never touches the others.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use tap2key_virtual_key::Touch;

/// How long the person takes to touch the key once it blinks.
const REACTION: Duration = Duration::from_millis(150);
const LOOK_EVERY: Duration = Duration::from_millis(20);

pub struct Person {
    stop: Arc<AtomicBool>,
    touches: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Person {
    /// Touches `sensor` whenever its key waits for a touch, until dropped.
    pub fn touching(sensor: Touch) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let touches = Arc::new(AtomicUsize::new(0));
        let thread = std::thread::spawn({
            let (stop, touches) = (stop.clone(), touches.clone());
            move || {
                while !stop.load(Ordering::Relaxed) {
                    if sensor.is_waiting() {
                        std::thread::sleep(REACTION);
                        sensor.press();
                        touches.fetch_add(1, Ordering::Relaxed);
                        // One touch per wait: look again once the key took it.
                        let deadline = Instant::now() + Duration::from_secs(5);
                        while sensor.is_waiting() && Instant::now() < deadline {
                            std::thread::sleep(LOOK_EVERY);
                        }
                    }
                    std::thread::sleep(LOOK_EVERY);
                }
            }
        });
        Self { stop, touches, thread: Some(thread) }
    }

    pub fn touches(&self) -> usize {
        self.touches.load(Ordering::Relaxed)
    }
}

impl Drop for Person {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
