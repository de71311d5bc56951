//! The device side of CTAPHID, the USB HID transport of CTAP 2.1: what a security key's
//! firmware does with the 64-byte reports a host sends it.
//!
//! A [`HidDevice`] is a plugged-in key. Its firmware runs on its own thread: it assembles
//! messages from output reports, allocates channels, answers PING, WINK and INIT itself,
//! hands CBOR requests to a [`CtapHandler`] and cuts the answers into input reports. It is
//! as strict as a real key (wrong sequence numbers, busy channels, timeouts, unknown
//! commands all get the CTAPHID error a key would send), because every test above it
//! trusts it to catch a host that gets the protocol wrong.
//!
//! Layout: `frame` (bytes on the wire), `assembly` (one incoming message), `channels`
//! (channel ids), `link` (the bounded report queues between host and key), `firmware`
//! (the key's loop), `device` (the handle the host and the simulated user hold).
//!
//! Logs name channels, commands and lengths only, never payload bytes: CBOR requests
//! carry PIN material.

mod assembly;
mod channels;
mod device;
mod firmware;
mod frame;
mod link;
#[cfg(test)]
mod tests;

use std::time::Duration;

pub(crate) use device::WeakHidDevice;
pub use device::{HidDevice, Unplugged, WriteError};

/// Bytes in one HID report, in either direction (full-speed USB interrupt transfers).
pub const REPORT_SIZE: usize = 64;

/// One HID report without a report id.
pub type Report = [u8; REPORT_SIZE];

/// The longest CTAPHID message: 57 bytes in the initialization packet and 59 in each of
/// 128 continuation packets (sequence numbers 0..=127).
pub const MAX_MESSAGE_SIZE: usize = 57 + 128 * 59;

/// How long the key waits for the next packet of a message before it drops the message
/// and answers ERROR MSG_TIMEOUT.
///
/// The spec fixes no value (OpenSK uses 100 ms). Our hosts are user-space threads on
/// shared, often loaded CI machines where a thread can be descheduled for a few hundred
/// milliseconds, so 100 ms would fail healthy hosts. One second is far above that
/// jitter, yet a host that really stalls learns it quickly, and other channels are not
/// kept busy for long by an abandoned message.
pub const INTER_PACKET_TIMEOUT: Duration = Duration::from_secs(1);

/// KEEPALIVE status bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum KeepAlive {
    Processing = 1,
    UpNeeded = 2,
}

/// What the authenticator can do while it processes one request.
pub trait HidIo {
    /// Sends a KEEPALIVE with this status on the request's channel (the handler calls it
    /// at least every 100 ms while it waits for a touch).
    fn keepalive(&mut self, status: KeepAlive);

    /// True once the host sent CTAPHID_CANCEL on the request's channel. While the request
    /// is processed, this is also where the device services other incoming reports: INIT
    /// is answered, any other command from another channel gets ERROR CHANNEL_BUSY.
    ///
    /// Also true once the request is abandoned and its response would never be sent: the
    /// host re-initialised the request's channel, or the key is being unplugged. The
    /// handler should then return promptly (with 0x2D KEEPALIVE_CANCEL, say).
    fn cancelled(&mut self) -> bool;
}

/// The CTAP2 authenticator behind the HID interface.
pub trait CtapHandler: Send + 'static {
    /// Called once each time the device is plugged in (a power-up): volatile state resets here.
    fn power_up(&mut self);

    /// One CTAPHID_CBOR request (CTAP2 command byte followed by CBOR) -> the response
    /// (status byte followed by CBOR). A response longer than [`MAX_MESSAGE_SIZE`] cannot
    /// be framed; the host gets ERROR OTHER instead.
    fn cbor(&mut self, request: &[u8], io: &mut dyn HidIo) -> Vec<u8>;

    /// CTAPHID_WINK: show the user which key this is.
    fn wink(&mut self);

    /// Boxes the handler for the device thread. Only the `Box<dyn CtapHandler>` impl
    /// overrides it, so that plugging a handler handed back by [`HidDevice::unplug`] in
    /// again does not wrap it in one more box per power cycle.
    #[doc(hidden)]
    fn into_boxed(self) -> Box<dyn CtapHandler>
    where
        Self: Sized,
    {
        Box::new(self)
    }
}

/// Lets `HidDevice::plug_in(device.unplug()?)` power-cycle a key.
impl CtapHandler for Box<dyn CtapHandler> {
    fn power_up(&mut self) {
        (**self).power_up();
    }

    fn cbor(&mut self, request: &[u8], io: &mut dyn HidIo) -> Vec<u8> {
        (**self).cbor(request, io)
    }

    fn wink(&mut self) {
        (**self).wink();
    }

    fn into_boxed(self) -> Box<dyn CtapHandler> {
        self
    }
}
