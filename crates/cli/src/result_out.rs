//! Standard output carries one thing: the result (a line, or the `--json` object).
//!
//! ctap-hid-fido2 prints diagnostics with `println!` — e.g. "- unknown field in pin retries
//! response" for every CTAP 2.1 key, whose getPINRetries answer carries `powerCycleState`
//! — which would corrupt `--json` for scripts. So once the arguments are read (help and
//! version still go to standard output), the real standard output is set aside and file
//! descriptor 1 is pointed at standard error for the rest of the run; the result is written
//! to the one set aside.

use std::{
    fs::File,
    io::Write,
    sync::{Mutex, OnceLock},
};

static RESULT: OnceLock<Mutex<File>> = OnceLock::new();

/// Sets the real standard output aside and sends everything else printed there to
/// standard error. Does nothing if that cannot be done (the result then shares stdout).
pub fn divert() {
    #[cfg(unix)]
    {
        use std::os::fd::FromRawFd;
        let _ = std::io::stdout().flush();
        // SAFETY: plain descriptor calls on 1 and 2; the duplicate is owned by the File.
        let kept = unsafe { libc::dup(libc::STDOUT_FILENO) };
        if kept < 0 {
            return;
        }
        if unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) } < 0 {
            unsafe { libc::close(kept) };
            return;
        }
        let _ = RESULT.set(Mutex::new(unsafe { File::from_raw_fd(kept) }));
    }
}

/// Writes one line of result to the real standard output.
pub fn line(text: &str) {
    match RESULT.get() {
        Some(out) => {
            let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(out, "{text}").and_then(|()| out.flush());
        }
        None => println!("{text}"),
    }
}
