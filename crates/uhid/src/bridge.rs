//! One virtual key as one kernel HID device: plugging it in creates a uhid device, its
//! reports are pumped both ways on two threads, and pulling it out destroys the device,
//! which the host sees as a USB key being unplugged.

use std::{
    fs::{File, OpenOptions},
    io::{self, Read, Write},
    os::fd::AsRawFd,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use tap2key_virtual_key::{
    VirtualKey,
    hid::{HidDevice, WriteError},
};

use crate::{
    descriptor::{BUS_USB, REPORT_DESCRIPTOR},
    event::{self, FromKernel},
};

/// How the device introduces itself on the bus.
#[derive(Clone, Debug)]
pub struct Identity {
    pub name: String,
    /// Told apart in `uniq` (the serial number hidapi reports).
    pub serial: String,
    pub vendor: u32,
    pub product: u32,
}

impl Identity {
    /// pid.codes' test vendor id (0x1209) with a product id of our own: no real key's.
    pub fn virtual_key(serial: &str) -> Self {
        Self { name: "tap2key Virtual Key".into(), serial: serial.into(), vendor: 0x1209, product: 0x7432 }
    }
}

/// What the bridge shows whoever watches the traffic: every output report exactly as the
/// host wrote it (64 bytes, or 65 with a leading report id 0), before the key sees it.
pub type ReportWatcher = Box<dyn Fn(&[u8]) + Send + Sync>;

/// A virtual key plugged in as a kernel HID device. Dropping it pulls the key out.
pub struct UhidKey {
    shared: Arc<Shared>,
    device: HidDevice,
    threads: Vec<JoinHandle<()>>,
}

struct Shared {
    uhid: File,
    stop: AtomicBool,
    watcher: Option<ReportWatcher>,
}

/// How long each pump waits before it looks whether it should stop.
const POLL: Duration = Duration::from_millis(50);

impl UhidKey {
    /// Plugs `key` in (a power cycle) and creates its HID device. Fails where there is no
    /// `/dev/uhid` (no uhid module, or no permission).
    pub fn plug_in(key: &VirtualKey, identity: &Identity, watcher: Option<ReportWatcher>) -> io::Result<Self> {
        let mut uhid = OpenOptions::new().read(true).write(true).open("/dev/uhid")?;
        let create = event::Create2 {
            name: &identity.name,
            phys: "tap2key-uhid",
            uniq: &identity.serial,
            bus: BUS_USB,
            vendor: identity.vendor,
            product: identity.product,
            version: 0x0100,
            descriptor: &REPORT_DESCRIPTOR,
        };
        uhid.write_all(&create.encode())?;
        let device = key.plug_in();
        let shared = Arc::new(Shared { uhid, stop: AtomicBool::new(false), watcher });
        let threads = vec![
            spawn("uhid-to-key", {
                let (shared, device) = (shared.clone(), device.clone());
                move || to_key(&shared, &device)
            })?,
            spawn("key-to-uhid", {
                let (shared, device) = (shared.clone(), device.clone());
                move || to_host(&shared, &device)
            })?,
        ];
        Ok(Self { shared, device, threads })
    }

    /// Pulls the key out: the HID device is destroyed at once (its hidraw node goes away,
    /// mid-request or not), then the key's firmware stops.
    pub fn pull_out(mut self) {
        self.remove();
    }

    fn remove(&mut self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Err(error) = (&self.shared.uhid).write_all(&event::destroy()) {
            eprintln!("tap2key-uhid: UHID_DESTROY failed: {error}");
        }
        self.device.unplug();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for UhidKey {
    fn drop(&mut self) {
        self.remove();
    }
}

fn spawn(name: &str, run: impl FnOnce() + Send + 'static) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name(name.into()).spawn(run)
}

/// Host -> key: output reports from the kernel into the key's firmware. Answers the
/// kernel's report requests (a key has no feature reports) so that nothing waits on them.
fn to_key(shared: &Shared, device: &HidDevice) {
    let mut buffer = vec![0; event::EVENT_SIZE];
    while !shared.stop.load(Ordering::SeqCst) {
        match readable(&shared.uhid, POLL) {
            Ok(false) => continue,
            Ok(true) => {}
            Err(error) => return eprintln!("tap2key-uhid: poll on /dev/uhid failed: {error}"),
        }
        let length = match (&shared.uhid).read(&mut buffer) {
            Ok(length) => length,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return eprintln!("tap2key-uhid: read from /dev/uhid failed: {error}"),
        };
        let answer = match event::decode(&buffer[..length]) {
            Some(FromKernel::Output(bytes)) => {
                deliver(shared, device, &bytes);
                None
            }
            Some(FromKernel::GetReport { id }) => Some(event::get_report_refused(id)),
            Some(FromKernel::SetReport { id }) => Some(event::set_report_refused(id)),
            Some(FromKernel::Notice(_) | FromKernel::Other(_)) | None => None,
        };
        if let Some(answer) = answer
            && let Err(error) = (&shared.uhid).write_all(&answer)
        {
            eprintln!("tap2key-uhid: a report request could not be answered: {error}");
        }
    }
}

/// One output report to the key: 64 bytes, or 65 with the leading report id 0 that hidraw
/// passes on when the host writes one (hidapi does). The key's firmware takes both.
fn deliver(shared: &Shared, device: &HidDevice, bytes: &[u8]) {
    if let Some(watcher) = &shared.watcher {
        watcher(bytes);
    }
    match device.write(bytes) {
        Ok(()) | Err(WriteError::Unplugged(_)) => {}
        Err(error) => eprintln!("tap2key-uhid: the key refused an output report: {error}"),
    }
}

/// Key -> host: the key's input reports (answers, keepalives) into the kernel, which hands
/// them to every open hidraw reader.
fn to_host(shared: &Shared, device: &HidDevice) {
    while !shared.stop.load(Ordering::SeqCst) {
        match device.read(POLL) {
            Ok(Some(report)) => {
                if let Err(error) = (&shared.uhid).write_all(&event::input2(&report)) {
                    return eprintln!("tap2key-uhid: write to /dev/uhid failed: {error}");
                }
            }
            Ok(None) => {}
            Err(_unplugged) => return,
        }
    }
}

/// Waits up to `timeout` for an event to read.
fn readable(file: &File, timeout: Duration) -> io::Result<bool> {
    let mut poll = libc::pollfd { fd: file.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd for the duration of the call; the fd is owned by `file`.
    match unsafe { libc::poll(&raw mut poll, 1, millis) } {
        -1 => {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted { Ok(false) } else { Err(error) }
        }
        0 => Ok(false),
        _ => Ok(poll.revents & libc::POLLIN != 0),
    }
}
