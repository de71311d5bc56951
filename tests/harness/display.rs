//! A private X display for one test, so tests never touch a real desktop.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::{PATIENCE, processes::Guarded};

pub struct Display {
    number: u32,
    // Dropped in this order: the window manager, then the X server.
    _window_manager: Option<Guarded>,
    _server: Guarded,
}

/// A display is free when no live X server holds its lock. A lock left by a server that was
/// killed (its pid is gone) does not count: Xvfb clears such locks itself.
fn is_free(number: u32) -> bool {
    let lock = format!("/tmp/.X{number}-lock");
    match std::fs::read_to_string(&lock) {
        Ok(text) => {
            let alive = text.trim().parse::<u32>().is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if !alive {
                let _ = std::fs::remove_file(&lock);
                let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{number}"));
            }
            !alive
        }
        Err(_) => !Path::new(&format!("/tmp/.X11-unix/X{number}")).exists(),
    }
}

impl Display {
    /// Starts Xvfb on the first free display number from :90 with a 1920x1080 screen,
    /// the largest size the app is tested at.
    pub fn start() -> Display {
        let number = (90..190).find(|&n| is_free(n)).expect("a free X display number");
        let server = Command::new("Xvfb")
            .args([&format!(":{number}"), "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("Xvfb did not start ({e}); scripts/test installs it"));
        let server = Guarded(server);
        let socket = format!("/tmp/.X11-unix/X{number}");
        let started = Instant::now();
        while !Path::new(&socket).exists() {
            assert!(started.elapsed() < PATIENCE, "Xvfb never opened {socket}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Display { number, _window_manager: None, _server: server }
    }

    /// Starts a window manager on the display (matchbox: full screen needs one; without it
    /// a window asking for full screen keeps its size). It shows one window at a time,
    /// maximised, so only kiosk tests use it.
    pub fn start_window_manager(&mut self) {
        let manager = Command::new("matchbox-window-manager")
            .args(["-use_titlebar", "no"])
            .env("DISPLAY", self.name())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("matchbox-window-manager did not start ({e}); apt install matchbox-window-manager"));
        self._window_manager = Some(Guarded(manager));
        // It has taken over once the root window names a window manager.
        let started = Instant::now();
        loop {
            let answer = Command::new("xprop")
                .args(["-display", &self.name(), "-root", "_NET_SUPPORTING_WM_CHECK"])
                .output()
                .map(|out| String::from_utf8_lossy(&out.stdout).contains("window id"))
                .unwrap_or(false);
            if answer {
                return;
            }
            assert!(started.elapsed() < PATIENCE, "the window manager never took over {}", self.name());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn name(&self) -> String {
        format!(":{}", self.number)
    }
}
