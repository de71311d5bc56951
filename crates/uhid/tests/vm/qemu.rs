//! Booting the guest under qemu: `-M pc` (microvm failed to boot now and then), software
//! emulation with `-cpu max` (RDRAND: without it the guest's RNG stalls ctap-hid-fido2),
//! KVM only when a probe shows it really runs a kernel (here /dev/kvm is a nested module
//! that cannot), and a hard timeout, after which qemu is killed.

use std::{
    io::Read,
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

pub const QEMU: &str = "qemu-system-x86_64";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    fn args(self) -> [&'static str; 4] {
        match self {
            Accel::Kvm => ["-accel", "kvm", "-cpu", "host"],
            Accel::Tcg => ["-accel", "tcg", "-cpu", "max"],
        }
    }
}

/// How long a KVM guest may take to print its first kernel line; a working KVM does it
/// in well under a second.
const KVM_PROBE: Duration = Duration::from_secs(5);

/// KVM if a kernel booted under it says anything on its serial port within
/// [`KVM_PROBE`], else TCG. `TAP2KEY_VM_ACCEL=kvm|tcg` skips the probe.
pub fn choose_accel(kernel: &Path) -> Accel {
    match std::env::var("TAP2KEY_VM_ACCEL").as_deref() {
        Ok("kvm") => return Accel::Kvm,
        Ok("tcg") => return Accel::Tcg,
        _ => {}
    }
    if std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm").is_err() {
        return Accel::Tcg;
    }
    let probe = Command::new(QEMU)
        .args(["-M", "pc", "-m", "256", "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio"])
        .args(Accel::Kvm.args())
        .arg("-kernel")
        .arg(kernel)
        .args(["-append", "console=ttyS0 earlyprintk=serial,ttyS0 panic=-1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut probe) = probe else { return Accel::Tcg };
    let mut stdout = probe.stdout.take().expect("piped");
    let (tx, booted) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buffer = [0; 4096];
        while let Ok(n) = stdout.read(&mut buffer) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buffer[..n]);
            if String::from_utf8_lossy(&seen).contains("Linux version") {
                let _ = tx.send(());
                break;
            }
        }
    });
    let works = booted.recv_timeout(KVM_PROBE).is_ok();
    let _ = probe.kill();
    let _ = probe.wait();
    if works { Accel::Kvm } else { Accel::Tcg }
}

/// How a boot ended.
pub enum Ending {
    PoweredOff,
    /// Killed at the timeout.
    TimedOut,
    Failed(String),
}

/// Boots the guest with its serial console written to `console`, and waits for it to
/// power off, at most `timeout`.
pub fn boot(accel: Accel, kernel: &Path, initramfs: &Path, console: &Path, timeout: Duration) -> Ending {
    let mut append = String::from("console=ttyS0 panic=-1 quiet");
    if let Ok(only) = std::env::var("TAP2KEY_VM_SCENARIOS")
        && !only.trim().is_empty()
    {
        append.push_str(&format!(" tap2key.scenarios={}", only.split([',', ' ']).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(",")));
    }
    let mut serial = std::ffi::OsString::from("file:");
    serial.push(console);
    let child = Command::new(QEMU)
        .args(["-M", "pc", "-smp", "2", "-m", "2048", "-nodefaults", "-display", "none", "-no-reboot", "-nic", "none"])
        .args(accel.args())
        .arg("-serial")
        .arg(serial)
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initramfs)
        .arg("-append")
        .arg(append)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    match child {
        Ok(child) => wait(child, timeout),
        Err(error) => Ending::Failed(format!("{QEMU} did not start: {error}")),
    }
}

fn wait(mut child: Child, timeout: Duration) -> Ending {
    let deadline = Instant::now() + timeout;
    // Read all along, so that a chatty qemu never blocks on a full pipe.
    let mut pipe = child.stderr.take().expect("piped");
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    });
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ending::PoweredOff,
            Ok(Some(status)) => {
                let stderr = stderr.join().unwrap_or_default();
                return Ending::Failed(format!("{QEMU} exited with {status}: {}", stderr.trim()));
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Ending::TimedOut;
            }
            Err(error) => return Ending::Failed(format!("waiting for {QEMU}: {error}")),
        }
    }
}
