//! The real USB HID path under test: a Debian guest kernel under qemu, virtual keys on its
//! HID bus through /dev/uhid, and `tap2key-enroll --key usb` (ctap-hid-fido2 -> hidapi ->
//! /dev/hidraw) through every scenario of `tap2key-uhid-keys`, in one boot.
//!
//! `#[ignore]`d in a plain `cargo test --workspace`: it needs qemu, busybox and a guest
//! kernel, which `scripts/test` installs (scripts/lib/setup.sh) before it runs this with
//! `--ignored`, from the same build. Without them the test fails and says what is missing.
//! The guest's console is kept in `target/vm-artifacts/console.log`.

#![cfg(target_os = "linux")]

mod vm {
    pub mod console;
    pub mod cpio;
    pub mod image;
    pub mod qemu;
}

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use vm::{console, image, qemu};

/// The whole boot, scenarios included, is killed after this long (`TAP2KEY_VM_TIMEOUT`
/// in seconds overrides it).
const TIMEOUT: Duration = Duration::from_secs(300);

#[test]
#[ignore = "boots a VM: run by scripts/test, which installs qemu, busybox and the guest kernel"]
fn the_real_usb_hid_path_works_against_virtual_keys_on_a_kernel_hid_bus() {
    let stage = Instant::now();
    let parts = find_parts().unwrap_or_else(|missing| panic!("{missing}"));
    let artifacts = target_dir().join("vm-artifacts");
    std::fs::create_dir_all(&artifacts).expect("target/vm-artifacts can be made");
    let console_path = artifacts.join("console.log");
    let _ = std::fs::remove_file(&console_path);

    let scratch = Scratch::new();
    let initramfs = scratch.0.join("initramfs.cpio");
    image::build_initramfs(&parts, &initramfs, &scratch.0).unwrap_or_else(|e| panic!("the guest image could not be made: {e}"));
    let image_seconds = stage.elapsed().as_secs_f64();

    let probe = Instant::now();
    let accel = qemu::choose_accel(&parts.kernel);
    let probe_seconds = probe.elapsed().as_secs_f64();

    let timeout = std::env::var("TAP2KEY_VM_TIMEOUT").ok().and_then(|s| s.parse().ok()).map_or(TIMEOUT, Duration::from_secs);
    let boot = Instant::now();
    let ending = qemu::boot(accel, &parts.kernel, &initramfs, &console_path, timeout);
    let qemu_seconds = boot.elapsed().as_secs_f64();
    drop(scratch);

    let text = std::fs::read_to_string(&console_path).unwrap_or_default();
    let report = console::read(&text);
    let guest = match (report.guest_start, report.guest_end) {
        (Some(start), Some(end)) => format!("guest booted in {start:.1} s, its part took {:.1} s (scenarios {:.1} s)", end - start, report.driver_seconds.unwrap_or(0.0)),
        (Some(start), None) => format!("guest booted in {start:.1} s and never finished"),
        _ => "the guest never reached /init".into(),
    };
    eprintln!(
        "VM stage: {:.1} s in all (image {image_seconds:.1} s, accelerator probe {probe_seconds:.1} s, qemu {qemu_seconds:.1} s, {accel:?}); {guest}",
        stage.elapsed().as_secs_f64()
    );
    for scenario in &report.scenarios {
        eprintln!("  {:<4} {:<45} {:>6} s  {}", if scenario.passed { "pass" } else { "FAIL" }, scenario.name, scenario.seconds, scenario.detail);
    }
    eprintln!("  guest console: {}", console_path.display());

    let mut problems = String::new();
    match ending {
        qemu::Ending::PoweredOff => {}
        qemu::Ending::TimedOut => writeln!(problems, "qemu was killed after {} s", timeout.as_secs()).unwrap(),
        qemu::Ending::Failed(message) => writeln!(problems, "{message}").unwrap(),
    }
    if report.guest_start.is_none() {
        writeln!(problems, "the guest never reached /init").unwrap();
    }
    for module in &report.failed_modules {
        writeln!(problems, "the guest could not load the {module} module").unwrap();
    }
    for scenario in report.scenarios.iter().filter(|s| !s.passed) {
        writeln!(problems, "scenario {} failed: {}", scenario.name, scenario.detail).unwrap();
    }
    for name in &report.unfinished {
        writeln!(problems, "scenario {name} never finished").unwrap();
    }
    match report.expected {
        Some(expected) if expected != report.scenarios.len() => {
            writeln!(problems, "{expected} scenarios were to run, {} reported", report.scenarios.len()).unwrap();
        }
        None if report.guest_start.is_some() => writeln!(problems, "tap2key-uhid-keys never started its scenarios").unwrap(),
        _ => {}
    }
    assert!(problems.is_empty(), "the VM stage failed:\n{problems}the guest's console is in {}", console_path.display());
}

/// Everything the guest is made of, or one message naming everything that is missing and
/// how to get it.
fn find_parts() -> Result<image::Parts, String> {
    let mut missing = Vec::new();
    if !on_path(qemu::QEMU) {
        missing.push(format!("{} (Debian package qemu-system-x86)", qemu::QEMU));
    }
    let busybox = PathBuf::from("/bin/busybox");
    if !busybox.exists() {
        missing.push("/bin/busybox (Debian package busybox-static)".into());
    }
    let kit = std::env::var_os("TAP2KEY_VM_KERNEL_DIR").map_or_else(|| workspace_root().join(".tools/vm/kernel"), PathBuf::from);
    let order = std::fs::read_to_string(kit.join("modules.order")).unwrap_or_default();
    if !kit.join("ready").exists() || order.trim().is_empty() {
        missing.push(format!("the guest kernel in {} (scripts/lib/setup.sh: ensure_vm_kernel)", kit.display()));
    }
    let driver = PathBuf::from(env!("CARGO_BIN_EXE_tap2key-uhid-keys"));
    let enroll = driver.with_file_name("tap2key-enroll");
    if !enroll.exists() {
        missing.push(format!("{} (cargo build -p tap2key-cli; a `cargo test --workspace` builds it)", enroll.display()));
    }
    if !missing.is_empty() {
        return Err(format!(
            "the VM stage cannot run on this machine; missing:\n  - {}\nscripts/test installs all of it (Debian: apt-get install qemu-system-x86 busybox-static).",
            missing.join("\n  - ")
        ));
    }
    let modules = order.lines().filter(|l| !l.trim().is_empty()).map(|name| kit.join("modules").join(format!("{}.ko", name.trim()))).collect();
    Ok(image::Parts { kernel: kit.join("vmlinuz"), modules, busybox, driver, enroll })
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `target/`, from where cargo put the driver binary (`target/debug/tap2key-uhid-keys`).
fn target_dir() -> PathBuf {
    let driver = Path::new(env!("CARGO_BIN_EXE_tap2key-uhid-keys"));
    driver.parent().and_then(Path::parent).map_or_else(|| workspace_root().join("target"), Path::to_path_buf)
}

/// A directory of our own for the image, removed when dropped (also when the test panics).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("tap2key-vm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory can be made");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
