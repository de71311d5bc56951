//! The virtual key as a real kernel HID device, through Linux's `/dev/uhid`.
//!
//! Nothing else reaches the code that talks to physical keys (ctap-hid-fido2 -> hidapi ->
//! `/dev/hidraw*`): no machine here has a key, and the host kernel has no uhid. A guest
//! kernel does, so the VM test (`tests/vm.rs`) boots one and, inside it, this bridge makes
//! each virtual key a USB HID device with the FIDO usage page. The kernel then creates a
//! hidraw node for it, hidapi enumerates it through libudev like any key, and every byte
//! goes through the kernel's HID core.
//!
//! The bridge only moves 64-byte reports: CTAPHID is the virtual key's own firmware
//! (`VirtualKey::plug_in`), so the host's framing and the key's stay two independent
//! implementations, as everywhere else in the tests.
//!
//! Layout: `descriptor` (what the device says it is), `event` (the bytes of `struct
//! uhid_event`), `bridge` (one key as one uhid device: create, pump reports, destroy).

#[cfg(target_os = "linux")]
mod bridge;
pub mod descriptor;
#[cfg(target_os = "linux")]
mod event;

#[cfg(target_os = "linux")]
pub use bridge::{Identity, ReportWatcher, UhidKey};
