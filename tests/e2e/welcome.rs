//! The first screen in the real window: typing a work address sends it to the Rust side
//! and what comes back is rendered; the screen fits, has labels and works by keyboard.

use fantoccini::{Locator, key::Key};
use serde_json::json;
use tap2key_e2e::App;

#[tokio::test]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn a_typed_address_is_checked_by_the_rust_side_and_its_answer_rendered() {
    let app = App::launch("welcome-address", &["--demo"]).await;
    app.wait_for_text("h1", "Set up your security key").await;
    app.wait_for_text(".demo-badge", "Demo: nothing here touches a real account").await;
    app.screenshot("1-welcome").await;

    // A name without a domain: the Rust side names the problem, the window words it.
    let input = app.find("#work-address").await;
    input.send_keys(&format!("ada.lovelace{}", char::from(Key::Enter))).await.unwrap();
    app.wait_for_text("#work-address-problem", "Add the @ and your company's domain, like name@company.com.").await;
    assert_eq!(input.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));
    app.screenshot("2-welcome-missing-domain").await;

    // Stray spaces and a capitalised domain: the Rust side trims and lower-cases the domain.
    input.clear().await.unwrap();
    input.send_keys("  Ada.Lovelace@Contoso.COM ").await.unwrap();
    app.client.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    app.wait_for_text("h1", "Next, sign in").await;
    app.wait_for_text(".account", "Ada.Lovelace@contoso.com").await;
    app.screenshot("3-ready-to-sign-in").await;

    // Going back keeps the address for editing.
    app.find("button.secondary").await.click().await.unwrap();
    app.wait_for_text("h1", "Set up your security key").await;
    let kept = app.find("#work-address").await.prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("Ada.Lovelace@contoso.com"));

    // The log shows the steps, not what the person typed.
    let log = app.log();
    assert!(log.contains(r#"step="readyToSignIn""#), "{log}");
    assert!(!log.to_lowercase().contains("lovelace"), "the typed address reached the log:\n{log}");
    app.close().await;
}

#[tokio::test]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn the_first_screen_fits_small_and_large_screens_with_large_targets() {
    let app = App::launch("welcome-sizes", &["--service", "http://127.0.0.1:9"]).await;
    app.find("#work-address").await;
    assert_eq!(app.eval("return document.querySelector('.demo-badge')").await, json!(null));

    for (width, height) in [(800, 600), (1920, 1080)] {
        app.resize(width, height).await;
        let layout = app
            .eval(
                "const button = document.querySelector('button[type=submit]').getBoundingClientRect();
                 const input = document.querySelector('#work-address').getBoundingClientRect();
                 return {
                   scrolls: document.documentElement.scrollHeight > innerHeight
                         || document.documentElement.scrollWidth > innerWidth,
                   buttonInView: button.bottom <= innerHeight && button.right <= innerWidth,
                   buttonHeight: button.height, inputHeight: input.height,
                   bodyFontPx: parseFloat(getComputedStyle(document.body).fontSize),
                 };",
            )
            .await;
        assert_eq!(layout["scrolls"], json!(false), "{width}x{height}: {layout}");
        assert_eq!(layout["buttonInView"], json!(true), "{width}x{height}: {layout}");
        assert!(layout["buttonHeight"].as_f64().unwrap() >= 48.0, "{width}x{height}: {layout}");
        assert!(layout["inputHeight"].as_f64().unwrap() >= 48.0, "{width}x{height}: {layout}");
        assert!(layout["bodyFontPx"].as_f64().unwrap() >= 18.0, "{width}x{height}: {layout}");
        app.screenshot(&format!("welcome-{width}x{height}")).await;
    }
    app.close().await;
}

#[tokio::test]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn the_first_screen_works_by_keyboard_alone_with_a_visible_focus_ring() {
    let app = App::launch("welcome-keyboard", &["--service", "http://127.0.0.1:9"]).await;
    app.find("#work-address").await;
    const FOCUSED: &str = "const e = document.activeElement; return e.id || e.tagName.toLowerCase()";
    let focus_reaches = |expected: &'static str| app.wait_for_value(FOCUSED, json!(expected));

    // The screen's heading holds focus first, so a screen reader starts at the title.
    focus_reaches("h1").await;
    assert_eq!(
        app.eval("return document.querySelector('#work-address').labels[0].textContent").await,
        json!("Your work email address")
    );

    app.press(Key::Tab).await;
    focus_reaches("work-address").await;
    app.type_text("grace@contoso.com").await;
    app.press(Key::Tab).await;
    focus_reaches("button").await;
    let ring = app.eval("const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]").await;
    assert_eq!(ring, json!(["solid", "4px"]), "the focused button shows a focus ring");
    app.screenshot("focus-ring").await;

    app.press(Key::Enter).await;
    app.wait_for_text(".account", "grace@contoso.com").await;
    focus_reaches("h1").await; // the new screen's heading takes focus
    app.close().await;
}

#[tokio::test]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn the_window_has_no_global_tauri_and_its_csp_blocks_inline_scripts() {
    let app = App::launch("security", &["--service", "http://127.0.0.1:9"]).await;
    app.find("#work-address").await;
    assert_eq!(app.eval("return typeof window.__TAURI__").await, json!("undefined"));
    let ran = app
        .eval(
            "const script = document.createElement('script');
             script.textContent = 'window.injected = true';
             document.head.append(script);
             return window.injected === true;",
        )
        .await;
    assert_eq!(ran, json!(false), "an injected inline script ran despite the CSP");
    app.close().await;
}

