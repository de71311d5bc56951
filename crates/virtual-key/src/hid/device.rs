//! The handle on a plugged-in key, shared by the host transport and the simulated user.

use std::{
    fmt, panic,
    sync::{Arc, Mutex, PoisonError, Weak},
    thread::{self, JoinHandle},
    time::Duration,
};

use tracing::debug;

use super::{CtapHandler, REPORT_SIZE, Report, firmware, link::Link};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the security key was removed")]
pub struct Unplugged;

/// Why [`HidDevice::write`] did not deliver a report.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WriteError {
    #[error(transparent)]
    Unplugged(#[from] Unplugged),
    /// Neither 64 bytes nor 65 with a leading report id.
    #[error("an output report is 64 bytes, or 65 with a leading report id 0x00; got {0} bytes")]
    WrongLength(usize),
    /// 65 bytes whose report id is not 0: the key's only report is unnumbered.
    #[error("the key has no report {0:#04x}, only the unnumbered report 0x00")]
    UnknownReportId(u8),
}

/// A plugged-in virtual HID device. Cloneable handle (Arc inside): the host transport
/// holds one clone, and whoever simulates the user holds another to unplug it.
///
/// When the last clone is dropped the key is unplugged, and its thread ends by itself.
#[derive(Clone)]
pub struct HidDevice {
    inner: Arc<Plugged>,
}

struct Plugged {
    link: Arc<Link>,
    /// The firmware thread, which returns the handler. Taken by the first `unplug`.
    firmware: Mutex<Option<JoinHandle<Box<dyn CtapHandler>>>>,
}

impl Drop for Plugged {
    fn drop(&mut self) {
        // Nobody can talk to the key any more; let its thread end.
        self.link.unplug();
    }
}

impl HidDevice {
    /// Calls `handler.power_up()` and starts the device thread.
    ///
    /// A handler handed back by [`HidDevice::unplug`] can be plugged in again as it is
    /// (a power cycle); it is not boxed twice.
    pub fn plug_in<H: CtapHandler>(handler: H) -> HidDevice {
        let mut handler = handler.into_boxed();
        handler.power_up();
        let link = Arc::new(Link::new());
        let firmware = firmware::spawn(handler, Arc::clone(&link));
        debug!("virtual key plugged in");
        HidDevice { inner: Arc::new(Plugged { link, firmware: Mutex::new(Some(firmware)) }) }
    }

    /// Host -> device: an output report. Accepts 64 bytes, or 65 with a leading 0x00
    /// report-id byte (as hidraw/uhid deliver it); anything else is an error. Waits while
    /// the key has 260 reports it has not read yet (it reads continuously, so only a key
    /// stalled on a host that does not read its answers gets there).
    pub fn write(&self, report: &[u8]) -> Result<(), WriteError> {
        let report = without_report_id(report)?;
        Ok(self.inner.link.write(report)?)
    }

    /// Device -> host: the next input report, waiting at most `timeout`; Ok(None) on timeout.
    pub fn read(&self, timeout: Duration) -> Result<Option<Report>, Unplugged> {
        self.inner.link.read(timeout)
    }

    /// Pulls the key out: the device thread stops (even mid-request), later write/read on
    /// any clone return `Unplugged`, and the handler is handed back, so its persistent
    /// state can be plugged in again (re-plugging = power cycle).
    ///
    /// Mid-request, the handler's `HidIo::cancelled()` turns true and this waits for
    /// `cbor()` to return. Returns None if another clone already unplugged it, or when
    /// called from the handler itself (which then cannot be handed back). A panic of the
    /// handler surfaces here.
    pub fn unplug(&self) -> Option<Box<dyn CtapHandler>> {
        let firmware = {
            let mut slot = self.inner.firmware.lock().unwrap_or_else(PoisonError::into_inner);
            let firmware = slot.take()?;
            self.inner.link.unplug();
            firmware
        };
        debug!("virtual key unplugged");
        if firmware.thread().id() == thread::current().id() {
            return None; // joining our own thread would never return
        }
        match firmware.join() {
            Ok(handler) => Some(handler),
            Err(handler_panic) => panic::resume_unwind(handler_panic),
        }
    }

    pub fn is_plugged_in(&self) -> bool {
        self.inner.link.is_plugged_in()
    }

    /// A handle that does not keep the key plugged in (see [`WeakHidDevice`]).
    pub(crate) fn downgrade(&self) -> WeakHidDevice {
        WeakHidDevice(Arc::downgrade(&self.inner))
    }
}

/// Reaches a plugged-in key without keeping it plugged in: what the key itself remembers
/// of where it is. A strong handle there would keep the device alive through the handler
/// it runs, so dropping every other handle would no longer unplug it.
#[derive(Clone, Default)]
pub(crate) struct WeakHidDevice(Weak<Plugged>);

impl WeakHidDevice {
    pub(crate) fn upgrade(&self) -> Option<HidDevice> {
        self.0.upgrade().map(|inner| HidDevice { inner })
    }
}

impl fmt::Debug for HidDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HidDevice").field("plugged_in", &self.is_plugged_in()).finish()
    }
}

/// The 64-byte report, from 64 bytes or from 65 starting with report id 0.
fn without_report_id(bytes: &[u8]) -> Result<Report, WriteError> {
    let report = match bytes {
        [0, report @ ..] if report.len() == REPORT_SIZE => report,
        [id, report @ ..] if report.len() == REPORT_SIZE => return Err(WriteError::UnknownReportId(*id)),
        _ => bytes,
    };
    Report::try_from(report).map_err(|_| WriteError::WrongLength(bytes.len()))
}
