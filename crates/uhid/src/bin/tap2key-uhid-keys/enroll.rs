//! One run of `tap2key-enroll --demo --key usb`: the real USB HID path of tap2key, against
//! the demo directory it runs on the guest's loopback. This side plays the person: it
//! reads the pass and the sign-in address off standard error and types the pass on the
//! page, and gives PINs on standard input (`--pin-fd 0`) when the scenario says so.
//!
//! The pass and the PINs never reach the console: the transcript kept for a failure has
//! them replaced.

use std::{
    io::{BufRead, BufReader, Read, Write},
    path::Path,
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        Arc, Mutex,
        mpsc::{self, Receiver, RecvTimeoutError},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// Long enough for a run under software emulation; reached only when something is wrong.
pub const PATIENCE: Duration = Duration::from_secs(90);


const TAP_LINE: &str = "Temporary Access Pass:";
const SIGN_IN_LINE: &str = "Open this address in a browser and sign in with your Temporary Access Pass:";
pub const DEMO_USER: &str = "ada@demo.tap2key.test";

pub struct Enrollment {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    transcript: Arc<Mutex<Vec<String>>>,
    stdout: Option<JoinHandle<String>>,
    secrets: Vec<String>,
}

/// How a run ended.
pub struct Finished {
    pub code: i32,
    pub result: serde_json::Value,
    pub transcript: Vec<String>,
}

impl Enrollment {
    /// Starts the run. `--verbose` with the flow's log only: its `step` lines say when the
    /// flow noticed a key going, which the person's words do not while a PIN is asked.
    pub fn start(program: &Path) -> Result<Self, String> {
        let mut child = Command::new(program)
            .args(["--demo", "--key", "usb", "--no-browser", "--pin-fd", "0", "--json", "--verbose", "--wait-for-key", "60"])
            .env("RUST_LOG", "tap2key_flow=info")
            .env_remove("TAP2KEY_DIRECTORY")
            .env_remove("TAP2KEY_ACCESS_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{} did not start: {e}", program.display()))?;
        let (tx, lines) = mpsc::channel();
        let transcript = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("piped");
        std::thread::spawn({
            let transcript = transcript.clone();
            move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    transcript.lock().unwrap_or_else(|e| e.into_inner()).push(line.clone());
                    let _ = tx.send(line);
                }
            }
        });
        let mut stdout = child.stdout.take().expect("piped");
        let stdout = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let stdin = child.stdin.take();
        Ok(Self { child, stdin, lines, transcript, stdout: Some(stdout), secrets: Vec::new() })
    }

    /// Waits for a line of standard error that `matches`, and gives it.
    pub fn wait_for(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> Result<String, String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if matches(&line) => return Ok(line),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => return Err(self.failed(&format!("no line saying {what} within {}s", PATIENCE.as_secs()))),
                Err(RecvTimeoutError::Disconnected) => return Err(self.failed(&format!("tap2key-enroll ended before saying {what}"))),
            }
        }
    }

    /// Types the printed pass on the printed sign-in page, as the person's browser would.
    pub fn sign_in(&mut self, runtime: &tokio::runtime::Runtime) -> Result<(), String> {
        let tap = after(&self.wait_for("the pass", |l| l.contains(TAP_LINE))?, TAP_LINE);
        self.secrets.push(tap.clone());
        let url = after(&self.wait_for("the sign-in address", |l| l.contains(SIGN_IN_LINE))?, SIGN_IN_LINE);
        let url = url.parse().map_err(|e| format!("the sign-in address is not a URL: {e}"))?;
        let typed = runtime.block_on(tap2key_directory::testing::type_tap(&reqwest::Client::new(), &url, DEMO_USER, &tap));
        typed.map_err(|e| self.failed(&format!("the sign-in page did not take the pass: {e}")))
    }

    /// One line on the PIN input.
    pub fn pin(&mut self, pin: &str) -> Result<(), String> {
        self.secrets.push(pin.to_owned());
        let stdin = self.stdin.as_mut().ok_or("the PIN input is closed")?;
        stdin.write_all(format!("{pin}\n").as_bytes()).map_err(|e| format!("the PIN could not be given: {e}"))
    }

    /// Waits for the run to end (killing it after [`PATIENCE`]) and reads its result.
    pub fn finish(mut self) -> Result<Finished, String> {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err(self.failed(&format!("tap2key-enroll did not end within {}s", PATIENCE.as_secs())));
                }
                Err(error) => return Err(format!("tap2key-enroll could not be waited for: {error}")),
            }
        };
        drop(self.stdin.take());
        let stdout = self.stdout.take().map(|t| t.join().unwrap_or_default()).unwrap_or_default();
        let code = status.code().unwrap_or(-1);
        // Strict: nothing but the one JSON object (ctap-hid-fido2's own prints, such as
        // "- unknown field in pin retries response" for CTAP 2.1 keys, must go to stderr).
        let result = serde_json::from_str(stdout.trim()).map_err(|e| {
            let shown: String = redact(stdout.clone(), &self.secrets).chars().take(400).collect();
            self.failed(&format!("exit {code}; stdout is not one JSON object ({e}): {shown:?}"))
        })?;
        Ok(Finished { code, result, transcript: self.transcript() })
    }

    /// What the run printed so far, with every secret replaced.
    pub fn transcript(&self) -> Vec<String> {
        let lines = self.transcript.lock().unwrap_or_else(|e| e.into_inner()).clone();
        lines.into_iter().map(|line| redact(line, &self.secrets)).collect()
    }

    /// A failure's words, after printing the transcript so far to the console.
    fn failed(&self, what: &str) -> String {
        print_transcript(&self.transcript());
        what.to_owned()
    }
}

impl Drop for Enrollment {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Finished {
    /// The run registered the key and its test sign-in worked.
    pub fn registered(&self) -> Result<(), String> {
        let verified = self.result["outcome"] == "registered" && self.result["testSignIn"]["verified"] == true;
        if self.code == 0 && verified {
            return Ok(());
        }
        print_transcript(&self.transcript);
        Err(format!("expected a registered key, got exit {} with {}", self.code, self.result))
    }

    /// The run failed with this exit code and this `failure` object.
    pub fn failed_with(&self, code: i32, failure: &serde_json::Value) -> Result<(), String> {
        if self.code == code && self.result["failure"] == *failure {
            return Ok(());
        }
        print_transcript(&self.transcript);
        Err(format!("expected exit {code} with failure {failure}, got exit {} with {}", self.code, self.result))
    }
}

/// The rest of `line` after `marker`, trimmed.
fn after(line: &str, marker: &str) -> String {
    line.split_once(marker).map(|(_, rest)| rest.trim().to_owned()).unwrap_or_default()
}

fn redact(mut line: String, secrets: &[String]) -> String {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        line = line.replace(secret.as_str(), "<redacted>");
    }
    line
}

/// The last lines of a run on the console, for the artifact.
fn print_transcript(lines: &[String]) {
    const SHOWN: usize = 80;
    println!("  | tap2key-enroll said ({} lines, the last {SHOWN} shown, secrets redacted):", lines.len());
    for line in lines.iter().skip(lines.len().saturating_sub(SHOWN)) {
        println!("  | {line}");
    }
}
