//! The harness that drives the real tap2key window: a private X display (Xvfb),
//! `tauri-driver` in front of WebKitWebDriver, and a WebDriver session on the app.
//!
//! Each [`App`] owns all three and tears them down when dropped, so a failing test
//! leaves no process behind. Screenshots go to `target/e2e-artifacts/<test>/`.

mod display;
mod processes;

use std::{
    path::{Path, PathBuf},
    time::Duration,
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
    // Dropped in this order: the WebDriver proxy (ending the app), then the display.
    _driver: Guarded,
    _display: Display,
    _turn: MutexGuard<'static, ()>,
}

impl App {
    /// Starts tap2key with `args` on a fresh display and connects to its main window.
    pub async fn launch(test: &str, args: &[&str]) -> App {
        // An async lock: each test's runtime waits for its turn without blocking others.
        let turn = ONE_AT_A_TIME.lock().await;
        let artifacts = target_dir().join("e2e-artifacts").join(test);
        std::fs::create_dir_all(&artifacts).unwrap();
        let display = Display::start();
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
        App { client, artifacts, _driver: driver, _display: display, _turn: turn }
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
        // Two animation frames: the last DOM change has been laid out and painted.
        self.client
            .execute_async(
                "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()))",
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

    pub async fn close(self) {
        self.client.clone().close().await.ok();
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
