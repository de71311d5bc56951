//! The harness that drives the real tap2key window: a private X display (Xvfb),
//! `tauri-driver` in front of WebKitWebDriver, and a WebDriver session on the app.
//!
//! Each [`App`] owns all three and tears them down when dropped, so a failing test
//! leaves no process behind. Screenshots go to `target/e2e-artifacts/<test>/`.

mod display;
mod processes;
pub mod walk;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element, key::Key};
use serde_json::{Value, json};
use tokio::sync::{Mutex, MutexGuard};

use crate::{display::Display, processes::Guarded};

/// One app at a time: tap2key is single-instance, and one display is plenty.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// How long any single wait for the window may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub struct App {
    pub client: Client,
    artifacts: PathBuf,
    /// When the launch began (before tauri-driver started the app).
    launched: Instant,
    driver_pid: u32,
    display_name: String,
    // Dropped in this order: the WebDriver proxy (ending the app), then the display.
    _driver: Guarded,
    _display: Display,
    _turn: MutexGuard<'static, ()>,
}

impl App {
    /// Starts tap2key with `args` on a fresh display and connects to its main window.
    pub async fn launch(test: &str, args: &[&str]) -> App {
        Self::launch_on(test, args, false).await
    }

    /// Like [`App::launch`], with a window manager on the display (needed for full screen).
    pub async fn launch_with_window_manager(test: &str, args: &[&str]) -> App {
        Self::launch_on(test, args, true).await
    }

    async fn launch_on(test: &str, args: &[&str], window_manager: bool) -> App {
        // An async lock: each test's runtime waits for its turn without blocking others.
        let turn = ONE_AT_A_TIME.lock().await;
        let artifacts = target_dir().join("e2e-artifacts").join(test);
        // Each run starts with an empty folder: no screenshot from an earlier run remains.
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&artifacts).unwrap();
        let mut display = Display::start();
        if window_manager {
            display.start_window_manager();
        }
        let launched = Instant::now();
        let (driver, port) = processes::start_tauri_driver(&display, &artifacts.join("app.log"));
        let capabilities = json!({
            "browserName": "wry",
            "tauri:options": { "application": app_binary(), "args": args },
        });
        let client = ClientBuilder::rustls()
            .expect("TLS roots for the WebDriver client")
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("no WebDriver session with the tap2key window: {e}"));
        let (driver_pid, display_name) = (driver.0.id(), display.name());
        App { client, artifacts, launched, driver_pid, display_name, _driver: driver, _display: display, _turn: turn }
    }

    /// Waits until `css` matches a displayed element and returns it.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
    }

    /// Waits until the element matching `css` has exactly `expected` as its text.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut last = String::new();
        while tokio::time::Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                last = element.text().await.unwrap_or_default();
                if last == expected {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} never read {expected:?}; last read {last:?}");
    }

    /// Presses `key` in whatever has the keyboard focus, as a keyboard-only user would.
    pub async fn press(&self, key: Key) {
        self.type_text(&char::from(key).to_string()).await;
    }

    /// Types `text` into whatever has the keyboard focus.
    pub async fn type_text(&self, text: &str) {
        let focused = self.client.active_element().await.expect("a focused element");
        focused.send_keys(text).await.expect("typing");
    }

    /// Waits until `script` evaluates to `expected` (what the page does next may land a
    /// frame later than the WebDriver call that caused it, more so on a busy machine).
    pub async fn wait_for_value(&self, script: &str, expected: Value) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut last = Value::Null;
        while tokio::time::Instant::now() < deadline {
            last = self.eval(script).await;
            if last == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{script} never gave {expected}; last {last}");
    }

    /// Runs `script` in the window and returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// Resizes the window's inner viewport to `width` x `height` CSS pixels.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.expect("window resize");
        // The outer size includes no decorations under Xvfb without a window manager; check.
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let size = self.eval("return [window.innerWidth, window.innerHeight]").await;
            if size == json!([width, height]) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "window stayed at {size}, wanted {width}x{height}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a PNG of the window as `<name>.png` among the test's artifacts.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // Animations that end (a tick popping in) have ended, then two animation frames:
        // the last DOM change has been laid out and painted. Endless ones (a glow) go on.
        self.client
            .execute_async(
                "const done = arguments[0];
                 const ending = document.getAnimations().filter((a) => a.effect?.getTiming().iterations !== Infinity);
                 const settled = Promise.race([
                   Promise.all(ending.map((a) => a.finished.catch(() => {}))),
                   new Promise((resolve) => setTimeout(resolve, 2000)),
                 ]);
                 settled.then(() => requestAnimationFrame(() => requestAnimationFrame(() => done())));",
                vec![],
            )
            .await
            .expect("animation frames");
        let png = self.client.screenshot().await.expect("screenshot");
        let path = self.artifacts.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Everything the app (and the WebDriver processes) wrote so far, as kept in
    /// `app.log` among the artifacts.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.artifacts.join("app.log")).unwrap_or_default()
    }

    /// Time since the launch began: tauri-driver, WebKitWebDriver and the app starting.
    pub fn since_launch(&self) -> Duration {
        self.launched.elapsed()
    }

    /// Writes `text` to `<name>` among the test's artifacts.
    pub fn write_artifact(&self, name: &str, text: &str) -> PathBuf {
        let path = self.artifacts.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs `script` in the sign-in window (an incognito webview WebDriver cannot reach)
    /// through the app's test-only command; `false` when that window is not open.
    pub async fn in_sign_in_window(&self, script: &str) -> bool {
        let answer = self
            .client
            .execute(
                "return window.__TAURI_INTERNALS__
                   .invoke('e2e_sign_in_window', { script: arguments[0] })
                   .then((open) => ({ open }), (error) => ({ error: String(error) }))",
                vec![json!(script)],
            )
            .await
            .unwrap_or_else(|e| panic!("the e2e command could not be called: {e}"));
        if let Some(error) = answer.get("error") {
            panic!(
                "the e2e command was refused ({error}): {} was built without the `e2e` feature, \
                 as `cargo build -p tap2key` (scripts/demo, scripts/measure) builds it; \
                 `cargo test --workspace --no-run` builds it for these tests",
                app_binary().display()
            );
        }
        answer["open"] == json!(true)
    }

    /// Saves a PNG of the whole X screen (every window on it, the sign-in window too) as
    /// `<name>.png` among the test's artifacts.
    pub fn capture_screen(&self, name: &str) -> PathBuf {
        let path = self.artifacts.join(format!("{name}.png"));
        let status = std::process::Command::new("import")
            .args(["-display", &self.display_name, "-window", "root"])
            .arg(&path)
            .status()
            .expect("ImageMagick's import (scripts/test installs it)");
        assert!(status.success(), "import could not capture {}", self.display_name);
        path
    }

    /// What the X server knows of the top-level window titled `title`: `xprop`'s output
    /// for it (its state, such as full screen, and its decoration hints), or `None` when
    /// there is no such window.
    pub fn x_window(&self, title: &str) -> Option<String> {
        let x = |program: &str, args: &[&str]| {
            let out = std::process::Command::new(program)
                .args(["-display", &self.display_name])
                .args(args)
                .output()
                .unwrap_or_else(|e| panic!("{program} (x11-utils) did not run: {e}"));
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let tree = x("xwininfo", &["-root", "-tree"]);
        let quoted = format!("\"{title}\"");
        let id = tree.lines().find(|line| line.contains(&quoted))?.split_whitespace().next()?.to_owned();
        Some(x("xprop", &["-id", &id]))
    }

    /// Asks the window manager to close the window titled `title`, as its close button or
    /// Alt+F4 would (needs [`App::launch_with_window_manager`]).
    pub fn close_by_window_manager(&self, title: &str) {
        let status = std::process::Command::new("wmctrl")
            .args(["-c", title])
            .env("DISPLAY", &self.display_name)
            .status()
            .unwrap_or_else(|e| panic!("wmctrl did not run ({e}); scripts/test installs it"));
        assert!(status.success(), "wmctrl found no window titled {title:?}");
    }

    /// The app's processes: `tap2key` and its children (WebKit's web and network
    /// processes), found under this test's tauri-driver, with their resident memory.
    pub fn processes(&self) -> Vec<Process> {
        // The app is a grandchild of the driver (driver → WebKitWebDriver → tap2key).
        let mut app = Vec::new();
        let mut look = vec![self.driver_pid];
        while let Some(pid) = look.pop() {
            for child in children(pid) {
                match Process::read(child) {
                    Some(process) if process.name == "tap2key" => app.push(process),
                    _ => look.push(child),
                }
            }
        }
        let mut found = app.clone();
        let mut look: Vec<u32> = app.iter().map(|p| p.pid).collect();
        while let Some(pid) = look.pop() {
            for child in children(pid) {
                found.extend(Process::read(child));
                look.push(child);
            }
        }
        found
    }

    pub async fn close(self) {
        self.client.clone().close().await.ok();
    }
}

impl Drop for App {
    /// Ends the app, and deletes what `--demo` leaves behind when it is killed rather than
    /// closed: its directory's database in the temporary folder.
    fn drop(&mut self) {
        for app in self.processes().into_iter().filter(|p| p.name == "tap2key") {
            let _ = std::process::Command::new("kill").arg(app.pid.to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while running(app.pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(std::env::temp_dir().join(format!("tap2key-demo-{}.sqlite3{suffix}", app.pid)));
            }
        }
    }
}

/// The debug build of the app; scripts/test builds it before running these tests.
fn app_binary() -> PathBuf {
    let binary = target_dir().join("debug/tap2key");
    assert!(binary.is_file(), "{} is missing: run `cargo build -p tap2key` first", binary.display());
    binary
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// One process of the app, as /proc tells it.
#[derive(Clone, Debug)]
pub struct Process {
    pub pid: u32,
    pub name: String,
    pub rss_kib: u64,
    /// Proportional set size: shared pages split between the processes sharing them, so
    /// the sum over processes does not count a shared library twice.
    pub pss_kib: u64,
}

impl Process {
    fn read(pid: u32) -> Option<Process> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| status.lines().find_map(|line| line.strip_prefix(name)).map(str::trim);
        let name = field("Name:")?.to_owned();
        let rss_kib = field("VmRSS:").and_then(|v| v.trim_end_matches("kB").trim().parse().ok()).unwrap_or(0);
        let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let pss_kib = rollup
            .lines()
            .find_map(|line| line.strip_prefix("Pss:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        Some(Process { pid, name, rss_kib, pss_kib })
    }
}

/// Alive and not a zombie waiting for its parent.
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .is_ok_and(|status| !status.lines().any(|line| line.starts_with("State:") && line.contains("Z (zombie)")))
}

fn children(pid: u32) -> Vec<u32> {
    // Every thread's children file lists the children it started.
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    let mut all: Vec<u32> = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| text.split_whitespace().filter_map(|n| n.parse().ok()).collect::<Vec<u32>>())
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}
