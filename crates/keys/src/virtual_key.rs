//! The virtual key reached the way a real key is: CTAPHID reports in and out, through the
//! same client code (and ctap-hid-fido2's encoders and parsers) as USB keys.

use std::time::Duration;

use tap2key_virtual_key::hid::HidDevice;

use crate::{
    client::CtapClient,
    ctaphid::{HidTransport, Report, TransportError},
    error::KeyError,
};

/// A plugged-in virtual key as a HID transport.
pub struct VirtualTransport(HidDevice);

impl HidTransport for VirtualTransport {
    fn write(&mut self, report: &Report) -> Result<(), TransportError> {
        self.0.write(report).map_err(|_| TransportError::Disconnected)
    }

    fn read(&mut self, timeout: Duration) -> Result<Option<Report>, TransportError> {
        self.0.read(timeout).map_err(|_| TransportError::Disconnected)
    }
}

/// Opens a CTAP2 session with a plugged-in virtual key.
pub fn open(device: HidDevice) -> Result<CtapClient<VirtualTransport>, KeyError> {
    CtapClient::open(transport(device))
}

/// The raw HID transport, for talking CTAPHID to the key directly.
pub fn transport(device: HidDevice) -> VirtualTransport {
    VirtualTransport(device)
}
