//! A person going through the wizard in the real window: every field typed, click and touch
//! is counted (and written to `actions.txt`), every screen photographed in order, and the
//! screens the app cannot afford to get wrong are also checked at 800x600.

use std::time::Duration;

use fantoccini::{
    Locator,
    actions::{InputSource, MouseActions, PointerAction},
};
use serde_json::{Value, json};

use crate::{App, PATIENCE};

/// The window's size unless a test changes it (tauri.conf.json).
pub const USUAL_SIZE: (u32, u32) = (1024, 768);

/// What the person did, in order.
#[derive(Default)]
pub struct Actions {
    lines: Vec<String>,
    pub fields: u32,
    pub clicks: u32,
    pub touches: u32,
}

impl Actions {
    pub fn total(&self) -> u32 {
        self.fields + self.clicks + self.touches
    }

    fn note(&mut self, kind: &str, what: &str) {
        self.lines.push(format!("{:>2}. {kind:<6} {what}", self.lines.len() + 1));
    }

    pub fn report(&self, title: &str) -> String {
        format!(
            "{title}\n{}\ntotal: {} actions ({} fields typed, {} clicks, {} touches)\n",
            self.lines.join("\n"),
            self.total(),
            self.fields,
            self.clicks,
            self.touches
        )
    }
}

pub struct Walk<'a> {
    pub app: &'a App,
    pub actions: Actions,
    shots: u32,
    /// Everything secret the person typed (passes, PINs): the log must hold none of it.
    secrets: Vec<String>,
}

impl<'a> Walk<'a> {
    pub fn new(app: &'a App) -> Self {
        Walk { app, actions: Actions::default(), shots: 0, secrets: Vec::new() }
    }

    /// Waits for the screen whose heading reads `heading`.
    pub async fn screen(&self, heading: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut last = String::new();
        while tokio::time::Instant::now() < deadline {
            if let Ok(element) = self.app.client.find(Locator::Css("h1")).await {
                last = element.text().await.unwrap_or_default();
                if last == heading {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let step = self.app.eval("return window.__TAURI_INTERNALS__.invoke('current_step').then((step) => step.step)").await;
        panic!("the screen {heading:?} never came; the heading read {last:?}, the flow is at {step}");
    }

    /// Waits for the screen, then photographs it as the next numbered artifact.
    pub async fn at(&mut self, heading: &str, name: &str) {
        self.screen(heading).await;
        self.shot(name).await;
    }

    pub async fn shot(&mut self, name: &str) {
        // The pointer rests off the buttons, so none shows its hover colour.
        // Two moves: a move to where WebDriver thinks the pointer is already (the last
        // park) dispatches nothing, though a click on an element has moved it since.
        let park = MouseActions::new("mouse".into())
            .then(PointerAction::MoveTo { duration: None, x: 3.0, y: 3.0 })
            .then(PointerAction::MoveTo { duration: None, x: 1.0, y: 1.0 });
        self.app.client.perform_actions(park).await.expect("moving the pointer");
        self.shots += 1;
        self.app.screenshot(&format!("{:02}-{name}", self.shots)).await;
    }

    /// The whole X screen (the sign-in window too, which WebDriver cannot photograph).
    pub fn capture_screen(&mut self, name: &str) {
        self.shots += 1;
        self.app.capture_screen(&format!("{:02}-{name}", self.shots));
    }

    /// The screen at 800x600 as well: it must fit without scrolling. Back to the usual
    /// size afterwards.
    pub async fn small(&mut self, name: &str) {
        self.app.resize(800, 600).await;
        let fits = self
            .app
            .eval(
                "const s = document.scrollingElement;
                 return { height: s.scrollHeight, width: s.scrollWidth, innerHeight, innerWidth }",
            )
            .await;
        let number = |key: &str| fits[key].as_f64().unwrap();
        assert!(
            number("height") <= number("innerHeight") && number("width") <= number("innerWidth"),
            "{name} scrolls at 800x600: {fits}"
        );
        self.shot(&format!("{name}-800x600")).await;
        self.app.resize(USUAL_SIZE.0, USUAL_SIZE.1).await;
    }

    /// Types `text` into the field `css` (one action).
    pub async fn type_into(&mut self, css: &str, text: &str, what: &str) {
        let field = self.app.find(css).await;
        field.send_keys(text).await.unwrap_or_else(|e| panic!("typing into {css}: {e}"));
        self.actions.fields += 1;
        self.actions.note("type", what);
    }

    /// Replaces what the field `css` holds with `text` (one action).
    pub async fn replace_in(&mut self, css: &str, text: &str, what: &str) {
        self.app.find(css).await.clear().await.unwrap_or_else(|e| panic!("emptying {css}: {e}"));
        self.type_into(css, text, what).await;
    }

    /// Types a secret (a PIN): counted, and remembered for the log scan.
    pub async fn type_secret(&mut self, css: &str, secret: &str, what: &str) {
        self.secrets.push(secret.to_owned());
        self.type_into(css, secret, what).await;
    }

    /// Clicks the button whose text is `text` (one action).
    pub async fn click(&mut self, text: &str) {
        let button = self.button(text).await;
        button.click().await.unwrap_or_else(|e| panic!("clicking {text:?}: {e}"));
        self.actions.clicks += 1;
        self.actions.note("click", text);
    }

    async fn button(&self, text: &str) -> fantoccini::elements::Element {
        let xpath = format!("//button[normalize-space(.)='{text}']");
        self.app
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {text:?}: {e}"))
    }

    /// The person touches the key (the demo's on-screen stand-in for a finger).
    pub async fn touch(&mut self, when: &str) {
        self.button("Touch the key").await.click().await.expect("touching the key");
        self.actions.touches += 1;
        self.actions.note("touch", when);
    }

    /// The work address on the welcome screen, then Continue.
    pub async fn give_address(&mut self, address: &str) {
        self.type_into("#work-address", address, "work address").await;
        self.click("Continue").await;
    }

    /// The pass handed over on the demo card.
    pub async fn demo_pass(&self) -> String {
        let pass = self.app.find(".demo-pass").await.text().await.unwrap();
        assert!(pass.len() >= 8, "the demo card shows no pass: {pass:?}");
        pass
    }

    /// Signs in on the sign-in page in its own window: waits for it to open with an empty
    /// pass field, types `pass` there, and submits (two actions). With `mark`, the page's
    /// storage gets a cookie and a local-storage entry first, so a later sign-in window can
    /// show it starts without them. With `capture`, the whole screen is photographed once
    /// the window has opened (WebDriver cannot photograph that window).
    pub async fn sign_in(&mut self, pass: &str, mark: bool, capture: Option<&str>) {
        self.secrets.push(pass.to_owned());
        let script = format!(
            "(() => {{
               if (window.e2eSubmitted) return;
               const pass = document.querySelector('#pass');
               const form = document.querySelector('form');
               if (document.readyState !== 'complete' || !pass || !form) return;
               // A fresh page: nothing typed, no error shown, nothing stored by an earlier sign-in.
               if (pass.value !== '' || document.body.dataset.error) return;
               if (document.cookie !== '' || localStorage.length !== 0) return;
               if ({mark}) {{
                 document.cookie = 'e2e-person=one; max-age=3600';
                 localStorage.setItem('e2e-person', 'one');
                 // Marks that did not take would make the later check for none say nothing.
                 if (!document.cookie.includes('e2e-person=one') || localStorage.getItem('e2e-person') !== 'one') return;
               }}
               pass.value = {pass};
               window.e2eSubmitted = true;
               form.querySelector('button[type=submit], input[type=submit]').click();
             }})()",
            pass = json!(pass),
        );
        self.screen("Sign in in the window that opened").await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        if let Some(name) = capture {
            while !self.app.in_sign_in_window("").await {
                assert!(tokio::time::Instant::now() < deadline, "the sign-in window never opened");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            // Time for the page to load and paint.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            self.capture_screen(name);
        }
        let mut opened = false;
        loop {
            let open = self.app.in_sign_in_window(&script).await;
            opened |= open;
            let heading = self.heading().await;
            if opened && heading != "Sign in in the window that opened" {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                let screen = self.app.capture_screen("sign-in-stuck");
                panic!(
                    "the sign-in never went through (window opened: {opened}; the pass is typed only into a \
                     fresh page: pass field empty, no error shown, no cookie or local storage); the screen \
                     reads {heading:?}; the whole screen is in {}",
                    screen.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.actions.fields += 1;
        self.actions.note("type", "Temporary Access Pass (sign-in window)");
        self.actions.clicks += 1;
        self.actions.note("click", "Sign in (sign-in window)");
    }

    pub async fn heading(&self) -> String {
        match self.app.client.find(Locator::Css("h1")).await {
            Ok(h1) => h1.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The whole text of the window.
    pub async fn text(&self) -> String {
        self.app.eval("return document.body.innerText").await.as_str().unwrap_or_default().to_owned()
    }

    /// No pass, no PIN typed, and no JWT in anything the app logged; no panic either.
    pub fn check_log(&self) {
        let log = self.app.log();
        assert!(!log.is_empty(), "the app logged nothing");
        for secret in &self.secrets {
            assert!(!log.contains(secret.as_str()), "a secret the person typed ({} characters) is in the log", secret.len());
        }
        assert!(!log.contains("panicked"), "something in the app panicked:\n{log}");
        assert!(!log.contains("eyJ"), "something like a JWT is in the log:\n{}", lines_with(&log, "eyJ"));
    }

    /// Writes `actions.txt` and returns the counts.
    pub fn write_actions(&self, title: &str) -> String {
        let report = self.actions.report(title);
        self.app.write_artifact("actions.txt", &report);
        println!("{report}");
        report
    }
}

fn lines_with(log: &str, needle: &str) -> String {
    log.lines().filter(|line| line.contains(needle)).collect::<Vec<_>>().join("\n")
}

/// What a screen's step is, from the Rust side (for assertions on where the flow is).
pub async fn current_step(app: &App) -> Value {
    app.eval("return window.__TAURI_INTERNALS__.invoke('current_step')").await
}
