//! The guest: Debian's kernel (unpacked by scripts/lib/setup.sh, never installed) and an
//! initramfs made here of busybox (its /init), the two binaries under test, the shared
//! libraries they load (glibc, libudev: Debian has no static libudev) and the HID modules.
//! No udevd: devtmpfs makes the hidraw nodes, and libudev reads /sys by itself.

use std::{
    collections::BTreeMap,
    fs,
    io::BufWriter,
    path::{Path, PathBuf},
    process::Command,
};

use super::cpio::Cpio;

/// What the guest is made of, found on this machine.
pub struct Parts {
    pub kernel: PathBuf,
    /// Uncompressed modules, in the order they are loaded (dependencies first).
    pub modules: Vec<PathBuf>,
    pub busybox: PathBuf,
    pub driver: PathBuf,
    pub enroll: PathBuf,
}

/// The guest's /init: mounts what the binaries need, loads the HID modules, brings up
/// loopback for the demo directory, runs every scenario, powers off. The guest's own clock
/// (`/proc/uptime`) marks the start and the end of its part.
const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo "TAP2KEY-VM guest-start uptime=$(cut -d' ' -f1 /proc/uptime)"
for module in $(cat /lib/modules/order); do
  insmod "/lib/modules/$module.ko" || echo "TAP2KEY-VM module=$module result=fail"
done
ip link set lo up
# tap2key.scenarios=a,b on the kernel's command line runs only those (TAP2KEY_VM_SCENARIOS).
scenarios=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^tap2key.scenarios=//p' | tr ',' ' ')
/bin/tap2key-uhid-keys --enroll /bin/tap2key-enroll $scenarios
status=$?
echo "TAP2KEY-VM guest-end uptime=$(cut -d' ' -f1 /proc/uptime) status=$status"
poweroff -f
"#;

/// Debian's bundle of CA certificates (package ca-certificates).
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Writes the initramfs to `out`, using `scratch` for stripped copies of the binaries.
pub fn build_initramfs(parts: &Parts, out: &Path, scratch: &Path) -> Result<(), String> {
    let file = fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut cpio = Cpio::new(BufWriter::new(file));
    let io = |e: std::io::Error| format!("writing the initramfs: {e}");
    for directory in ["/bin", "/dev", "/etc", "/lib", "/lib64", "/lib/modules", "/proc", "/sys", "/tmp"] {
        cpio.directory(directory).map_err(io)?;
    }
    cpio.character_device("/dev/console", 0o600, (5, 1)).map_err(io)?;
    cpio.file("/init", INIT.as_bytes(), true).map_err(io)?;
    cpio.file("/etc/hosts", b"127.0.0.1 localhost\n", false).map_err(io)?;
    // The directory client's HTTP stack loads the system's CA certificates when it starts,
    // and refuses to start without any (the demo directory itself is plain http).
    if let Ok(certificates) = fs::read(CA_BUNDLE) {
        cpio.directory("/etc/ssl").map_err(io)?;
        cpio.directory("/etc/ssl/certs").map_err(io)?;
        cpio.file(CA_BUNDLE, &certificates, false).map_err(io)?;
    }

    let binaries = [("/bin/busybox", &parts.busybox), ("/bin/tap2key-uhid-keys", &parts.driver), ("/bin/tap2key-enroll", &parts.enroll)];
    let mut libraries = BTreeMap::new();
    for (inside, outside) in binaries {
        let stripped = stripped(outside, scratch)?;
        cpio.file(inside, &read(&stripped)?, true).map_err(io)?;
        libraries.extend(shared_libraries(outside)?);
    }
    let mut made = vec!["/lib".to_owned(), "/lib64".to_owned()];
    for (inside, outside) in &libraries {
        let parent = Path::new(inside).parent().and_then(Path::to_str).unwrap_or("/");
        if !made.iter().any(|m| m == parent) {
            cpio.directory(parent).map_err(io)?;
            made.push(parent.to_owned());
        }
        cpio.file(inside, &read(outside)?, true).map_err(io)?;
    }

    let mut order = String::new();
    for module in &parts.modules {
        let name = module.file_stem().and_then(|n| n.to_str()).ok_or("a module without a name")?;
        cpio.file(&format!("/lib/modules/{name}.ko"), &read(module)?, false).map_err(io)?;
        order.push_str(name);
        order.push('\n');
    }
    cpio.file("/lib/modules/order", order.as_bytes(), false).map_err(io)?;
    cpio.finish().map_err(io)?.into_inner().map_err(|e| io(e.into_error()))?.sync_all().map_err(io)
}

/// A copy without debug information (a third of a debug build's size, so the guest
/// unpacks less), or the binary itself where `strip` is missing.
fn stripped(binary: &Path, scratch: &Path) -> Result<PathBuf, String> {
    let name = binary.file_name().ok_or("a binary without a name")?;
    let copy = scratch.join(name);
    match Command::new("strip").arg("--strip-debug").arg("-o").arg(&copy).arg(binary).status() {
        Ok(status) if status.success() => Ok(copy),
        _ => Ok(binary.to_owned()),
    }
}

/// The shared libraries `binary` loads, by the path the dynamic linker finds them at
/// (also the path they get in the guest) and the file holding them here. From ldd: the
/// machine's own linker answers.
fn shared_libraries(binary: &Path) -> Result<BTreeMap<String, PathBuf>, String> {
    let output = Command::new("ldd").arg(binary).output().map_err(|e| format!("ldd did not run: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut libraries = BTreeMap::new();
    for line in text.lines() {
        // "libudev.so.1 => /lib/x86_64-linux-gnu/libudev.so.1 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next().filter(|p| p.starts_with('/')),
        };
        if let Some(path) = path.filter(|p| p.starts_with('/')) {
            let real = fs::canonicalize(path).map_err(|e| format!("{path}: {e}"))?;
            libraries.insert(path.to_owned(), real);
        }
    }
    Ok(libraries)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

#[test]
fn ldd_names_glibc_for_a_dynamic_binary() {
    let libraries = shared_libraries(Path::new(env!("CARGO_BIN_EXE_tap2key-uhid-keys"))).unwrap();
    assert!(libraries.keys().any(|l| l.contains("libc.so")), "{libraries:?}");
}
