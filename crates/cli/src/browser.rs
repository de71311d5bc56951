//! Opening the directory's sign-in page in the system browser, where the person types
//! their Temporary Access Pass (this program never sees it).

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// Asks the desktop to open `url`; `false` if no opener could be started or it said it
/// failed (no desktop, no browser), so the caller says "open this address" instead. Blocks
/// for up to two seconds.
pub fn open(url: &str) -> bool {
    let mut command = opener(url);
    // The opener and the browser it starts inherit nothing secret from us, and their chatter
    // stays off our standard output.
    command.env_remove("TAP2KEY_ACCESS_TOKEN").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    match command.spawn() {
        Ok(mut child) => {
            // Openers usually hand the address over and exit at once; some stay until the
            // browser closes. Either way, one that has not failed by now has done its job.
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline {
                match child.try_wait() {
                    Ok(Some(status)) => return status.success(),
                    Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                    Err(_) => return false,
                }
            }
            // Reap it in the background so it leaves no zombie.
            std::thread::spawn(move || child.wait());
            true
        }
        Err(error) => {
            tracing::debug!(%error, "no browser opener");
            false
        }
    }
}

#[cfg(target_os = "macos")]
fn opener(url: &str) -> Command {
    let mut command = Command::new("open");
    command.arg(url);
    command
}

#[cfg(windows)]
fn opener(url: &str) -> Command {
    // Not `cmd /c start`: cmd would read the `&`s in the address as command separators.
    let mut command = Command::new("rundll32");
    command.arg("url.dll,FileProtocolHandler").arg(url);
    command
}

#[cfg(not(any(target_os = "macos", windows)))]
fn opener(url: &str) -> Command {
    let mut command = Command::new("xdg-open");
    command.arg(url);
    command
}
