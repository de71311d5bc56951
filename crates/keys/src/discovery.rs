//! Which keys are plugged in, noticing insertions and removals, and "touch the key you
//! want" when there are several.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, Ordering},
        mpsc,
    },
    thread::JoinHandle,
    time::Duration,
};

use tap2key_virtual_key::hid::HidDevice;

use crate::{
    ctaphid::CancelToken,
    error::KeyError,
    key::{Events, Key, KeyEvent},
    usb::{self, UsbKey},
    virtual_key,
};

/// Where a key is plugged in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyLocation {
    /// A USB key, by its hidraw path.
    Usb(String),
    /// A virtual key, by the slot it was plugged into.
    Virtual(u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyChange {
    Inserted(KeyLocation),
    Removed(KeyLocation),
}

/// The places keys can be plugged into for one app: USB (when enabled) and virtual slots.
#[derive(Clone)]
pub struct KeyPorts {
    usb: bool,
    slots: Arc<Mutex<BTreeMap<u32, HidDevice>>>,
    next_slot: Arc<AtomicU32>,
}

impl KeyPorts {
    pub fn new(usb: bool) -> Self {
        Self { usb, slots: Arc::default(), next_slot: Arc::new(AtomicU32::new(1)) }
    }

    /// Plugs a virtual key into a new slot.
    pub fn plug_in(&self, device: HidDevice) -> KeyLocation {
        let slot = self.next_slot.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(slot, device);
        KeyLocation::Virtual(slot)
    }

    /// Pulls a virtual key out (a USB key is pulled out by hand).
    pub fn pull_out(&self, location: &KeyLocation) {
        let KeyLocation::Virtual(slot) = location else { return };
        // Its own statement, so the slots are unlocked before `unplug` waits for the key's
        // thread: a key busy with a request would otherwise hold up every other port.
        let device = self.lock().remove(slot);
        if let Some(device) = device {
            device.unplug();
        }
    }

    /// The keys plugged in now, USB first. Never blocks on a key.
    pub fn present(&self) -> Vec<KeyLocation> {
        let mut present: Vec<KeyLocation> = if self.usb { usb::connected_paths().into_iter().map(KeyLocation::Usb).collect() } else { Vec::new() };
        let mut slots = self.lock();
        slots.retain(|_, device| device.is_plugged_in());
        present.extend(slots.keys().map(|&slot| KeyLocation::Virtual(slot)));
        present
    }

    pub fn open(&self, location: &KeyLocation) -> Result<Box<dyn Key>, KeyError> {
        match location {
            KeyLocation::Usb(path) => Ok(Box::new(UsbKey::open(path)?)),
            KeyLocation::Virtual(slot) => {
                let device = self.lock().get(slot).cloned().ok_or(KeyError::Removed)?;
                Ok(Box::new(virtual_key::open(device)?))
            }
        }
    }

    /// Reports keys coming and going, checking every `interval`, until the `Watch` is dropped.
    pub fn watch(&self, interval: Duration, mut on_change: impl FnMut(KeyChange) + Send + 'static) -> Watch {
        let ports = self.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        // The first look is taken before returning, so that a key plugged in right after
        // `watch` returns is reported as inserted rather than taken as already there.
        let mut known = ports.present();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                std::thread::sleep(interval);
                let now = ports.present();
                for gone in known.iter().filter(|k| !now.contains(k)) {
                    on_change(KeyChange::Removed(gone.clone()));
                }
                for new in now.iter().filter(|k| !known.contains(k)) {
                    on_change(KeyChange::Inserted(new.clone()));
                }
                known = now;
            }
        });
        Watch { stop, thread: Some(thread) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, HidDevice>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running [`KeyPorts::watch`]; stops when dropped.
pub struct Watch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// "Touch the key you want": every key waits for a touch at once; the first one touched
/// is returned and the others are cancelled, as browsers do with several keys.
pub fn select_by_touch(
    keys: Vec<(KeyLocation, Box<dyn Key>)>,
    events: Events<'_>,
    cancel: &CancelToken,
) -> Result<(KeyLocation, Box<dyn Key>), KeyError> {
    if keys.is_empty() {
        return Err(KeyError::NoKey);
    }
    let (results, outcomes) = mpsc::channel();
    let (touch_needed, asked) = mpsc::channel();
    let tokens: Vec<CancelToken> = keys.iter().map(|_| CancelToken::new()).collect();
    let threads: Vec<JoinHandle<()>> = keys
        .into_iter()
        .zip(tokens.clone())
        .map(|((location, mut key), token)| {
            let (results, touch_needed) = (results.clone(), touch_needed.clone());
            std::thread::spawn(move || {
                let outcome = key.select(&mut |event| { let _ = touch_needed.send(event); }, &token);
                let _ = results.send((location, key, outcome));
            })
        })
        .collect();
    drop((results, touch_needed));

    let mut remaining = threads.len();
    let mut winner = None;
    let mut last_error = KeyError::NoKey;
    let mut told = false;
    while remaining > 0 {
        if cancel.is_cancelled() {
            tokens.iter().for_each(CancelToken::cancel);
        }
        if !told && asked.try_recv().is_ok() {
            events(KeyEvent::TouchNeeded);
            told = true;
        }
        match outcomes.recv_timeout(Duration::from_millis(20)) {
            Ok((location, key, Ok(()))) if winner.is_none() => {
                tokens.iter().for_each(CancelToken::cancel);
                winner = Some((location, key));
                remaining -= 1;
            }
            Ok((_, _, result)) => {
                if let Err(error) = result {
                    last_error = error;
                }
                remaining -= 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    threads.into_iter().for_each(|t| drop(t.join()));
    winner.ok_or(last_error)
}
