//! The walk-up kiosk in the real window: full screen, no way to close it, and nothing of
//! one person left for the next (no address, no key name, no sign-in, no cookie).

use serde_json::json;
use tap2key_e2e::{
    App,
    walk::{Walk, current_step},
};

const ACCOUNT: &str = "ada@demo.tap2key.test";
const KEY_NAME: &str = "Ada's blue key";
const PIN: &str = "482915";
const TITLE: &str = "tap2key: set up your security key";

#[tokio::test]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn the_next_person_starts_clean_in_a_window_that_stays_full_screen() {
    // Full screen needs a window manager; the display is 1920x1080.
    let app = App::launch_with_window_manager("kiosk-turnover", &["--demo", "--kiosk"]).await;
    let mut walk = Walk::new(&app);
    walk.at("Set up your security key", "welcome").await;

    // Full screen and undecorated, as the X server and the page see it.
    let screen = app.eval("return [screen.width, screen.height, innerWidth, innerHeight]").await;
    assert_eq!(screen, json!([1920, 1080, 1920, 1080]), "[screen, viewport]");
    let rect = app.client.get_window_rect().await.unwrap();
    assert_eq!((rect.2, rect.3), (1920, 1080), "the window's rectangle {rect:?}");
    let x = app.x_window(TITLE).expect("the main window on the X display");
    assert!(x.contains("_NET_WM_STATE_FULLSCREEN"), "{x}");
    // (Always on top cannot be seen here: matchbox does not take _NET_WM_STATE_ABOVE.)
    // GTK asks for no decorations through the Motif hints (flags 0x2, decorations 0).
    assert!(x.contains("_MOTIF_WM_HINTS(_MOTIF_WM_HINTS) = 0x2, 0x0, 0x0"), "{x}");

    // The window cannot be closed: not by the window manager (its close button, Alt+F4),
    // and not by the window's own script through Tauri (no capability grants it).
    app.close_by_window_manager(TITLE);
    let refused = app
        .eval("return window.__TAURI_INTERNALS__.invoke('plugin:window|close', { label: 'main' }).then(() => 'closed', (e) => String(e))")
        .await;
    assert!(refused.as_str().unwrap_or_default().contains("not allowed"), "{refused}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(app.x_window(TITLE).is_some(), "the kiosk window went away");
    walk.screen("Set up your security key").await;

    // Person one, all the way to done.
    let pass = walk.demo_pass().await;
    walk.give_address(ACCOUNT).await;
    walk.at("Next, sign in", "ready-to-sign-in").await;
    walk.click("Sign in").await;
    // The sign-in window opens over the full-screen, always-on-top wizard (whole screen).
    walk.sign_in(&pass, true, Some("sign-in-window-over-the-kiosk")).await;
    walk.screen("We found your security key").await;
    walk.click("Continue").await;
    walk.screen("Choose a PIN for your key").await;
    walk.type_secret("#new-pin", PIN, "new PIN").await;
    walk.type_secret("#new-pin-again", PIN, "new PIN again").await;
    walk.click("Set PIN").await;
    walk.at("Touch your security key now", "touch").await;
    walk.touch("to make the passkey").await;
    walk.screen("Give your key a name").await;
    walk.replace_in("#key-name", KEY_NAME, "key name").await;
    walk.click("Register my key").await;
    walk.screen("One more touch to check your key works").await;
    walk.touch("for the test sign-in").await;
    walk.at("Your security key is ready", "done").await;
    assert_eq!(app.find(".key-name").await.text().await.unwrap(), KEY_NAME);
    walk.click("Finish – next person").await;

    // Person two finds the welcome screen with nothing of person one's on it.
    walk.at("Set up your security key", "welcome-next-person").await;
    let step = current_step(&app).await;
    assert_eq!((&step["step"], &step["typed"]), (&json!("welcome"), &json!("")), "{step}");
    assert_eq!(app.find("#work-address").await.prop("value").await.unwrap().as_deref(), Some(""));
    // Everything on screen but the demo card (which shows the demo account to everyone).
    let everything = app
        .client
        .execute(
            "const page = document.body.cloneNode(true);
             page.querySelector('.handed-over')?.remove();
             const values = [...document.querySelectorAll('input')].map((input) => input.value);
             return { text: document.body.innerText, outsideCard: page.textContent, values };",
            vec![],
        )
        .await
        .unwrap();
    let text = everything["text"].as_str().unwrap();
    assert!(!text.contains(KEY_NAME) && !text.contains("Ada's"), "person one's key name is still on screen:\n{text}");
    let outside_card = everything["outsideCard"].as_str().unwrap();
    assert!(!outside_card.contains(ACCOUNT), "person one's address is still on screen:\n{outside_card}");
    assert!(everything["values"].as_array().unwrap().iter().all(|v| v == ""), "a field kept a value: {everything}");

    // Person two must sign in before any key step: a new sign-in window with no cookie and
    // no storage from person one's, and the pass typed again.
    walk.give_address(ACCOUNT).await;
    walk.click("Sign in").await;
    walk.screen("Sign in in the window that opened").await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(current_step(&app).await["step"], json!("signingIn"), "person two got past the sign-in without signing in");
    walk.sign_in(&pass, false, None).await;
    walk.at("We found your security key", "key-found-next-person").await;
    assert!(walk.text().await.contains("It has a PIN"), "the key is the one person one set up");

    assert!(app.log().contains("ready for the next person"));
    walk.write_actions("Kiosk: person one to done, Finish, person two signs in");
    walk.check_log();
    app.close().await;
}

#[tokio::test]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn a_kiosk_left_alone_warns_lets_the_person_stay_and_then_starts_over() {
    // 40 s idle: the warning shows from 10 s (30 s ahead), the reset comes at 40 s.
    let app = App::launch_with_window_manager("kiosk-idle", &["--demo", "--kiosk", "--demo-idle-timeout", "40"]).await;
    let mut walk = Walk::new(&app);
    walk.at("Set up your security key", "welcome").await;
    walk.give_address(ACCOUNT).await;
    walk.at("Next, sign in", "ready-to-sign-in").await;

    // Left alone: the warning comes, counting down, and "I'm still here" keeps the session.
    app.wait_for_value("return document.querySelector('[role=alertdialog]') !== null", json!(true)).await;
    walk.shot("idle-warning").await;
    let warning = app.find("[role=alertdialog]").await.text().await.unwrap();
    assert!(warning.contains("Are you still there?"), "{warning}");
    app.find("[role=alertdialog] button").await.click().await.expect("pressing I'm still here");
    app.wait_for_value("return document.querySelector('[role=alertdialog]') === null", json!(true)).await;
    assert_eq!(current_step(&app).await["step"], json!("readyToSignIn"), "the person was kept");

    // Left alone again: after the timeout the kiosk starts over, with nothing kept.
    app.wait_for_value("return document.querySelector('[role=alertdialog]') !== null", json!(true)).await;
    let started_over = async {
        loop {
            if current_step(&app).await == json!({"step": "welcome", "typed": "", "problem": null}) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), started_over).await.expect("the kiosk started over for the next person");
    walk.at("Set up your security key", "welcome-after-idle").await;
    app.wait_for_value("return document.querySelector('[role=alertdialog]') === null", json!(true)).await;
    assert!(app.log().contains("left alone: starting over for the next person"));
    walk.check_log();
    app.close().await;
}
