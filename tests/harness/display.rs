//! A private X display for one test, so tests never touch a real desktop.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::{PATIENCE, processes::Guarded};

pub struct Display {
    number: u32,
    _server: Guarded,
}

impl Display {
    /// Starts Xvfb on the first free display number from :90 with a 1920x1080 screen,
    /// the largest size the app is tested at.
    pub fn start() -> Display {
        let number = (90..190)
            .find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() && !Path::new(&format!("/tmp/.X{n}-lock")).exists())
            .expect("a free X display number");
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
        Display { number, _server: server }
    }

    pub fn name(&self) -> String {
        format!(":{}", self.number)
    }
}
