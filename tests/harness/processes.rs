//! Child processes that die with the test, and `tauri-driver` on free ports.

use std::{
    fs::File,
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    path::Path,
    time::{Duration, Instant},
};

use crate::{PATIENCE, display::Display};

/// A child process killed (with its own children) when dropped.
pub struct Guarded(pub Child);

impl Drop for Guarded {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `tauri-driver` on `display` and waits until it and the native WebDriver behind it
/// accept connections.
/// The app's own output (it inherits the driver's) goes to `log`.
pub fn start_tauri_driver(display: &Display, log: &Path) -> (Guarded, u16) {
    let (port, native_port) = (free_port(), free_port());
    let log = File::create(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    let child = Command::new(tauri_driver())
        .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
        .env("DISPLAY", display.name())
        // No session bus: the single-instance plugin then launches normally.
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("NO_COLOR", "1")
        // Everything the app logs, debug included, so that the tests' scans of the log for
        // secrets cover every line a person running with TAP2KEY_LOG=debug could see.
        .env("TAP2KEY_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("tauri-driver did not start ({e}); scripts/test installs it"));
    let driver = Guarded(child);
    let started = Instant::now();
    // tauri-driver listens before the WebKitWebDriver it starts does; a session asked for in
    // between fails at once ("client error (Connect)"), which a cold first run shows.
    for (listener, what) in [(port, "tauri-driver"), (native_port, "WebKitWebDriver")] {
        while TcpStream::connect(("127.0.0.1", listener)).is_err() {
            assert!(started.elapsed() < PATIENCE, "{what} never listened on port {listener}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    (driver, port)
}

fn tauri_driver() -> std::path::PathBuf {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".cargo")))
        .map(|home| home.join("bin/tauri-driver"));
    match cargo_bin {
        Some(path) if path.is_file() => path,
        _ => "tauri-driver".into(),
    }
}
