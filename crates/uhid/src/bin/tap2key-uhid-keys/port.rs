//! A virtual key and the USB port it goes into: plugged in as a kernel HID device, pulled
//! out (the device destroyed) and put back, with what the host asked of it on record.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use tap2key_uhid::{Identity, UhidKey};
use tap2key_virtual_key::{TouchPolicy, VirtualKey, VirtualKeyConfig};

use crate::seen::Seen;

pub struct Port {
    pub key: VirtualKey,
    pub seen: Arc<Seen>,
    identity: Identity,
    plugged: Option<UhidKey>,
}

/// How long the kernel may take to make (or remove) the hidraw node of a uhid device.
const NODE_PATIENCE: Duration = Duration::from_secs(10);

impl Port {
    /// A blank key offering these PIN protocols, touched only when the person presses it.
    /// Its touch timeout is short so a key nobody touches gives up within a scenario.
    pub fn blank(serial: &str, pin_protocols: &[u8]) -> Result<Self, String> {
        let config = VirtualKeyConfig {
            pin_protocols: pin_protocols.to_vec(),
            touch: TouchPolicy::WhenPressed,
            touch_timeout: Duration::from_secs(15),
            ..VirtualKeyConfig::default()
        };
        let key = VirtualKey::new(config).map_err(|e| format!("the virtual key could not be made: {e}"))?;
        Ok(Self { key, seen: Arc::default(), identity: Identity::virtual_key(serial), plugged: None })
    }

    /// Plugs the key in and waits until its hidraw node is there.
    pub fn insert(&mut self) -> Result<(), String> {
        let before = hidraw_nodes();
        let seen = self.seen.clone();
        let watcher: tap2key_uhid::ReportWatcher = Box::new(move |written| seen.note(written));
        let plugged = UhidKey::plug_in(&self.key, &self.identity, Some(watcher)).map_err(|e| format!("/dev/uhid: {e}"))?;
        self.plugged = Some(plugged);
        wait_until("the key's hidraw node to appear", || hidraw_nodes() > before)
    }

    /// Pulls the key out and waits until its hidraw node is gone.
    pub fn pull_out(&mut self) -> Result<(), String> {
        let before = hidraw_nodes();
        if let Some(plugged) = self.plugged.take() {
            plugged.pull_out();
        }
        wait_until("the key's hidraw node to go", || hidraw_nodes() < before)
    }
}

/// hidraw devices the kernel has now (what hidapi enumerates through libudev).
fn hidraw_nodes() -> usize {
    std::fs::read_dir(Path::new("/sys/class/hidraw")).map(|entries| entries.count()).unwrap_or(0)
}

fn wait_until(what: &str, done: impl Fn() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + NODE_PATIENCE;
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}
