//! The host side of CTAPHID, the USB HID transport of FIDO2 / CTAP 2.1.
//!
//! A CTAPHID message (up to [`MAX_MESSAGE_LEN`] bytes) travels as one initialization packet
//! followed by up to 128 continuation packets, each a 64-byte HID report. [`CtapHid`] owns one
//! channel (CID) on one device: it allocates the channel with `CTAPHID_INIT`, cuts requests into
//! packets, reassembles answers, follows KEEPALIVE frames, retries `CHANNEL_BUSY` and sends
//! `CTAPHID_CANCEL` when asked to.
//!
//! Everything a device sends is treated as untrusted: frames are checked (channel, command echo,
//! sequence numbers, lengths), buffers never grow past the protocol maximum, and no device input
//! can make this code panic. Logging stays at debug/trace level and never includes payload
//! bytes, because CTAP2 payloads carry PIN material.
//!
//! This module is deliberately independent of the device side in `tap2key-virtual-key`: the two
//! sides are written separately from the specification so that a misreading on one side shows up
//! as a failure against the other instead of hiding in shared code.

mod assembler;
mod channel;
mod packet;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use channel::{CANCEL_GRACE, CtapHid, MAX_EXCHANGE_TIME, OPEN_TIMEOUT};
pub use packet::MAX_MESSAGE_LEN;

/// Size of every CTAPHID report (the FIDO HID report descriptor declares 64-byte reports).
pub const REPORT_SIZE: usize = 64;

/// One HID report, without a report ID.
pub type Report = [u8; REPORT_SIZE];

/// The CTAP2 status a device answers when a request is cancelled (`CTAP2_ERR_KEEPALIVE_CANCEL`).
pub const CTAP2_ERR_KEEPALIVE_CANCEL: u8 = 0x2D;

/// CTAPHID error codes carried by an ERROR frame ([`HidError::Device`]).
pub mod error_code {
    pub const INVALID_CMD: u8 = 0x01;
    pub const INVALID_PAR: u8 = 0x02;
    pub const INVALID_LEN: u8 = 0x03;
    pub const INVALID_SEQ: u8 = 0x04;
    pub const MSG_TIMEOUT: u8 = 0x05;
    pub const CHANNEL_BUSY: u8 = 0x06;
    pub const LOCK_REQUIRED: u8 = 0x0A;
    pub const INVALID_CHANNEL: u8 = 0x0B;
    pub const OTHER: u8 = 0x7F;
}

/// Capability bits of the INIT answer.
pub mod capability {
    pub const WINK: u8 = 0x01;
    pub const CBOR: u8 = 0x04;
    /// Set when the device does NOT implement CTAPHID_MSG (CTAP1/U2F).
    pub const NMSG: u8 = 0x08;
}

/// A way to move 64-byte HID reports to and from one device.
pub trait HidTransport: Send {
    fn write(&mut self, report: &Report) -> Result<(), TransportError>;
    /// Ok(None) on timeout.
    fn read(&mut self, timeout: Duration) -> Result<Option<Report>, TransportError>;
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("the security key was removed")]
    Disconnected,
    #[error("HID I/O failed: {0}")]
    Io(String),
}

/// What a KEEPALIVE frame says the device is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepAliveStatus {
    Processing,
    UserPresenceNeeded,
    /// A status this code does not know; reported rather than rejected so newer devices work.
    Other(u8),
}

impl From<u8> for KeepAliveStatus {
    fn from(status: u8) -> Self {
        match status {
            1 => Self::Processing,
            2 => Self::UserPresenceNeeded,
            other => Self::Other(other),
        }
    }
}

/// Set from any thread to abort the request in progress (sends CTAPHID_CANCEL).
///
/// A token stays cancelled once cancelled: use a fresh token for each request.
#[derive(Clone, Default, Debug)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HidError {
    /// The transport reported the device gone.
    #[error("the security key was removed")]
    Disconnected,
    /// No answer within the deadline.
    #[error("the security key did not answer in time")]
    Timeout,
    /// An ERROR frame with this CTAPHID error code (CHANNEL_BUSY only after the retries ran out).
    #[error("the security key answered with CTAPHID error 0x{0:02X}")]
    Device(u8),
    /// Malformed or unexpected frames, or a request this transport cannot carry.
    #[error("CTAPHID protocol error: {0}")]
    Protocol(String),
    #[error("HID I/O failed: {0}")]
    Io(String),
}

impl From<TransportError> for HidError {
    fn from(error: TransportError) -> Self {
        match error {
            TransportError::Disconnected => Self::Disconnected,
            TransportError::Io(message) => Self::Io(message),
        }
    }
}

/// What the device said about itself in its INIT answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    /// CTAPHID protocol version (2 for CTAP2 devices).
    pub protocol_version: u8,
    pub major: u8,
    pub minor: u8,
    pub build: u8,
    pub capabilities: u8,
}

impl DeviceInfo {
    pub fn supports_wink(&self) -> bool {
        self.capabilities & capability::WINK != 0
    }

    pub fn supports_cbor(&self) -> bool {
        self.capabilities & capability::CBOR != 0
    }

    /// CTAP1/U2F messages: the capability bit is "NMSG", set when MSG is *not* implemented.
    pub fn supports_msg(&self) -> bool {
        self.capabilities & capability::NMSG == 0
    }
}
