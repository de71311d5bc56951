//! The terminal's settings while a PIN prompt has its echo off.
//!
//! rpassword turns echo off for the prompt and back on when the prompt returns. Ctrl-C in
//! the middle of a prompt ends this program from another thread, so the prompt never
//! returns; without this, the person's shell would be left typing blind.

#[cfg(unix)]
mod imp {
    use std::{fs::File, os::fd::AsRawFd, sync::Mutex};

    static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

    /// Remembers the terminal's settings before a prompt changes them.
    pub fn remember() {
        let Ok(tty) = File::open("/dev/tty") else { return };
        // SAFETY: `termios` is plain data; tcgetattr fills it in or fails and we drop it.
        let mut settings: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: a valid open descriptor and a valid pointer to a termios.
        if unsafe { libc::tcgetattr(tty.as_raw_fd(), &mut settings) } == 0 {
            *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some(settings);
        }
    }

    /// The prompt returned: it restored the terminal itself.
    pub fn forget() {
        SAVED.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Puts back what [`remember`] saw, if a prompt is still open.
    pub fn restore() {
        let Some(settings) = SAVED.lock().unwrap_or_else(|e| e.into_inner()).take() else { return };
        let Ok(tty) = File::open("/dev/tty") else { return };
        // SAFETY: a valid open descriptor and settings tcgetattr produced.
        unsafe { libc::tcsetattr(tty.as_raw_fd(), libc::TCSANOW, &settings) };
    }
}

#[cfg(not(unix))]
mod imp {
    pub fn remember() {}
    pub fn forget() {}
    pub fn restore() {}
}

pub use imp::{forget, remember, restore};
