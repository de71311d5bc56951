//! The USB cable: one bounded queue of reports each way, and whether the key is plugged in.
//!
//! Both queues are bounded, and a full queue makes its writer wait (USB flow control: a
//! device that is not ready NAKs) rather than drop reports, so no response is ever lost
//! silently. Every wait ends when the key is unplugged.

use std::{
    collections::VecDeque,
    sync::{Condvar, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use super::{Report, device::Unplugged};

/// Reports the host may write ahead of the key. The key reads continuously, so this only
/// absorbs bursts; two maximum-size messages (129 reports each) fit.
const TO_DEVICE_CAPACITY: usize = 260;
/// Reports the key may send ahead of the host's reads: a maximum-size response plus many
/// keepalives. A host that stops reading stalls the key once this is full.
pub(super) const TO_HOST_CAPACITY: usize = 260;

pub(super) struct Link {
    state: Mutex<LinkState>,
    /// Signalled on every change; each side re-checks its own condition.
    changed: Condvar,
}

struct LinkState {
    plugged_in: bool,
    to_device: VecDeque<Report>,
    to_host: VecDeque<Report>,
}

impl Link {
    pub(super) fn new() -> Link {
        let state = LinkState { plugged_in: true, to_device: VecDeque::new(), to_host: VecDeque::new() };
        Link { state: Mutex::new(state), changed: Condvar::new() }
    }

    /// Host side: queues an output report, waiting while the key is behind.
    pub(super) fn write(&self, report: Report) -> Result<(), Unplugged> {
        self.wait_for(None, |state| push_bounded(&mut state.to_device, TO_DEVICE_CAPACITY, report)).map(drop)
    }

    /// Host side: the next input report within `timeout`.
    pub(super) fn read(&self, timeout: Duration) -> Result<Option<Report>, Unplugged> {
        self.wait_for(Instant::now().checked_add(timeout), |state| state.to_host.pop_front())
    }

    /// Key side: the next output report, waiting until `deadline` (None: for ever).
    pub(super) fn receive(&self, deadline: Option<Instant>) -> Result<Option<Report>, Unplugged> {
        self.wait_for(deadline, |state| state.to_device.pop_front())
    }

    /// Key side: the next output report if one is already there.
    pub(super) fn try_receive(&self) -> Result<Option<Report>, Unplugged> {
        self.receive(Some(Instant::now()))
    }

    /// Key side: queues an input report, waiting while the host is behind.
    pub(super) fn send(&self, report: Report) -> Result<(), Unplugged> {
        self.wait_for(None, |state| push_bounded(&mut state.to_host, TO_HOST_CAPACITY, report)).map(drop)
    }

    /// Pulls the cable: reports in flight are lost and every wait ends. False if it was
    /// already out.
    pub(super) fn unplug(&self) -> bool {
        let mut state = self.lock();
        let was_plugged_in = state.plugged_in;
        state.plugged_in = false;
        state.to_device.clear();
        state.to_host.clear();
        self.changed.notify_all();
        was_plugged_in
    }

    pub(super) fn is_plugged_in(&self) -> bool {
        self.lock().plugged_in
    }

    /// Waits until `ready` yields a value (Ok(Some)), the deadline passes (Ok(None)) or the
    /// key is unplugged (Err). `ready` changes the queues only when it yields.
    fn wait_for<T>(
        &self,
        deadline: Option<Instant>,
        mut ready: impl FnMut(&mut LinkState) -> Option<T>,
    ) -> Result<Option<T>, Unplugged> {
        let mut state = self.lock();
        loop {
            if !state.plugged_in {
                return Err(Unplugged);
            }
            if let Some(value) = ready(&mut state) {
                self.changed.notify_all();
                return Ok(Some(value));
            }
            state = match deadline {
                None => self.changed.wait(state).unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else {
                        return Ok(None);
                    };
                    self.changed.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0
                }
            };
        }
    }

    /// Nothing panics while the lock is held, so a poisoned lock still guards consistent
    /// queues.
    fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn push_bounded(queue: &mut VecDeque<Report>, capacity: usize, report: Report) -> Option<()> {
    (queue.len() < capacity).then(|| queue.push_back(report))
}
