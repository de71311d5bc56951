//! The real `tap2key-enroll` binary against the demo directory running in the test process
//! on loopback, over a real SQLite file. Every run's standard output and standard error are
//! kept, so each test can check them for its own secrets.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use tap2key_server::{Clock, DESKTOP_CLIENT_ID, Server, ServerConfig, graph::AttestationPolicy, store::User};
use tap2key_keys::{Key, Pin};
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig};
use time::OffsetDateTime;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    process::{Child, Command},
    sync::mpsc,
};

/// Long enough for a slow CI machine; only reached when something is wrong.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub const ENROLL: &str = env!("CARGO_BIN_EXE_tap2key-enroll");

pub struct Directory {
    pub server: Server,
    db: PathBuf,
}

impl Directory {
    /// The demo directory, trusting the virtual key's model, on the system clock (the
    /// binary checks tokens against this machine's clock).
    pub async fn start(name: &str) -> Self {
        let db = temp_path(&format!("{name}.sqlite3"));
        let mut config = ServerConfig::demo(db.clone());
        let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
        let model = key.model();
        config.attestation = AttestationPolicy::trust(key.attestation_root_der(), uuid::Uuid::from_bytes(model.aaguid), &model.name);
        let server = Server::start(config, Clock::System).await.unwrap();
        Self { server, db }
    }

    pub fn url(&self) -> String {
        self.server.base_url().to_owned()
    }

    pub async fn user(&self, upn: &str) -> User {
        self.server.state.store.create_user(upn, "Ada Lovelace", OffsetDateTime::now_utc()).await.unwrap()
    }

    /// A user with a Temporary Access Pass for one sign-in, valid for an hour.
    pub async fn user_with_tap(&self, upn: &str) -> (User, String) {
        let user = self.user(upn).await;
        let now = OffsetDateTime::now_utc();
        let tap = self.server.state.store.issue_tap(user.id, now, time::Duration::hours(1), true, now).await.unwrap();
        (user, tap.pass.to_string())
    }

    /// A user and an access token for them, as if they had just signed in with a pass.
    pub async fn user_with_token(&self, upn: &str) -> (User, String) {
        let user = self.user(upn).await;
        let token = self.token(&user, vec![]);
        (user, token)
    }

    pub fn token(&self, user: &User, roles: Vec<String>) -> String {
        tap2key_server::oauth::access_token(&self.server.state, user, DESKTOP_CLIENT_ID, OffsetDateTime::now_utc(), roles)
    }

    pub async fn passkeys(&self, user: &User) -> Vec<tap2key_server::store::Passkey> {
        self.server.state.store.passkeys(user.id).await.unwrap()
    }
}

impl Drop for Directory {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.db.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A fresh path in the temp dir for this test process.
pub fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tap2key-cli-{}-{}-{name}", std::process::id(), uuid::Uuid::new_v4().simple()))
}

/// A file removed when the test ends.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn with(name: &str, contents: &str) -> Self {
        let path = temp_path(name);
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }

    pub fn empty(name: &str) -> Self {
        Self(temp_path(name))
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A virtual key's state file for a key whose PIN is `pin` (8 tries left, no passkeys),
/// set the way any client would: clientPIN over CTAPHID.
pub fn key_with_pin(pin: &str) -> TempFile {
    let file = TempFile::empty("key.json");
    let key = virtual_key(&file.0);
    let mut client = tap2key_keys::virtual_key::open(key.plug_in()).unwrap();
    client.set_pin(&Pin::new(pin, 4).unwrap()).unwrap();
    file
}

/// The virtual key kept in `state`, to look at after a run.
pub fn virtual_key(state: &Path) -> VirtualKey {
    VirtualKey::new(VirtualKeyConfig { state_file: Some(state.to_owned()), ..VirtualKeyConfig::default() }).unwrap()
}

/// One finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {self:?}"))
    }

    /// Panics if any of `secrets` appears in what the run printed.
    pub fn assert_no_secret(&self, secrets: &[&str]) {
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            assert!(!self.stdout.contains(secret), "a secret appeared on stdout");
            assert!(!self.stderr.contains(secret), "a secret appeared on stderr");
        }
    }

    pub fn assert_code(&self, code: i32) {
        assert_eq!(self.code, code, "exit code; the run printed:\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
    }
}

/// A run of the binary under way: its standard error arrives line by line.
pub struct Running {
    child: Child,
    /// Standard input held open and silent (see [`Invocation::stdin_open`]).
    _stdin: Option<tokio::process::ChildStdin>,
    lines: mpsc::UnboundedReceiver<String>,
    stderr: Arc<Mutex<String>>,
}

pub struct Invocation {
    command: Command,
    stdin: Option<String>,
    hold_stdin: bool,
}

/// `tap2key-enroll args…`, with nothing of the test's environment that would change it.
pub fn enroll(args: &[&str]) -> Invocation {
    let mut command = Command::new(ENROLL);
    command
        .args(args)
        .env_remove("TAP2KEY_ACCESS_TOKEN")
        .env_remove("TAP2KEY_DIRECTORY")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    Invocation { command, stdin: None, hold_stdin: false }
}

impl Invocation {
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.command.env(name, value);
        self
    }

    /// Written to the child's standard input, which is then closed.
    pub fn stdin(mut self, text: &str) -> Self {
        self.command.stdin(Stdio::piped());
        self.stdin = Some(text.to_owned());
        self
    }

    /// Standard input stays open and nothing is written to it: a read waits.
    pub fn stdin_open(mut self) -> Self {
        self.command.stdin(Stdio::piped());
        self.hold_stdin = true;
        self
    }

    pub fn spawn(mut self) -> Running {
        let mut child = self.command.spawn().expect("tap2key-enroll starts");
        let held = if self.hold_stdin { child.stdin.take() } else { None };
        if let Some(text) = self.stdin {
            let mut stdin = child.stdin.take().unwrap();
            tokio::spawn(async move {
                let _ = stdin.write_all(text.as_bytes()).await;
            });
        }
        let (tx, lines) = mpsc::unbounded_channel();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (mut reader, all) = (BufReader::new(child.stderr.take().unwrap()).lines(), stderr.clone());
        tokio::spawn(async move {
            while let Ok(Some(line)) = reader.next_line().await {
                let mut all = all.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
                let _ = tx.send(line);
            }
        });
        Running { child, _stdin: held, lines, stderr }
    }

    pub async fn run(self) -> Run {
        self.spawn().finish().await
    }
}

impl Running {
    /// Waits for a line on standard error that starts with `prefix` (after leading spaces),
    /// and gives the rest of it.
    pub async fn line_after(&mut self, prefix: &str) -> String {
        let waited = tokio::time::timeout(PATIENCE, async {
            while let Some(line) = self.lines.recv().await {
                if let Some(rest) = line.trim_start().strip_prefix(prefix) {
                    return Some(rest.trim().to_owned());
                }
            }
            None
        })
        .await;
        match waited {
            Ok(Some(rest)) => rest,
            _ => panic!("no line starting {prefix:?}; stderr so far:\n{}", self.stderr.lock().unwrap()),
        }
    }

    /// Ctrl-C.
    #[cfg(unix)]
    pub fn interrupt(&self) {
        let pid = self.child.id().expect("still running") as libc::pid_t;
        // SAFETY: sends a signal to our own child; no memory is involved.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    }

    pub async fn finish(mut self) -> Run {
        let mut stdout = String::new();
        let mut out = self.child.stdout.take().unwrap();
        let status = tokio::time::timeout(PATIENCE, async {
            out.read_to_string(&mut stdout).await.unwrap();
            self.child.wait().await.unwrap()
        })
        .await
        .unwrap_or_else(|_| panic!("tap2key-enroll did not finish; stderr so far:\n{}", self.stderr.lock().unwrap()));
        // The reader task gets the last lines once the pipe closes.
        while self.lines.recv().await.is_some() {}
        let stderr = self.stderr.lock().unwrap().clone();
        if std::env::var_os("SHOW_RUNS").is_some() {
            eprintln!("=== exit {:?}\n--- stdout\n{stdout}--- stderr\n{stderr}", status.code());
        }
        Run { code: status.code().unwrap_or(-1), stdout, stderr }
    }
}

/// Types the pass on the sign-in page the run printed, as a person's browser would.
pub async fn sign_in_on_page(url: &str, upn: &str, tap: &str) {
    let http = reqwest::Client::new();
    tap2key_directory::testing::type_tap(&http, &url.parse().unwrap(), upn, tap).await.expect("the sign-in page takes the pass");
}

/// The address of a port nothing listens on.
pub fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}
