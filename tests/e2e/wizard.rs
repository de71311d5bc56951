//! The whole wizard in the real window, on the demo directory and the virtual key: a blank
//! key, a key with a PIN, and the ways it can end badly that a person can cause (a key
//! registered already, a one-time pass used twice, no touch in time). Each test counts what
//! the person does, photographs every screen, and scans the app's log for secrets.

use std::{path::PathBuf, time::Duration};

use serde_json::json;
use tap2key_e2e::{
    App, Process,
    walk::{Walk, current_step},
};

const ACCOUNT: &str = "ada@demo.tap2key.test";
const PIN: &str = "482915";

#[tokio::test]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn a_blank_key_is_set_up_from_the_pass_to_a_tested_key() {
    let app = App::launch("wizard-blank-key", &["--demo"]).await;
    let mut walk = Walk::new(&app);
    let first_screen = interactive(&app).await;
    let at_welcome = settled_memory(&app).await;
    walk.shot("welcome").await;
    let pass = walk.demo_pass().await;

    walk.give_address(ACCOUNT).await;
    walk.at("Next, sign in", "ready-to-sign-in").await;
    walk.click("Sign in").await;
    walk.at("Sign in in the window that opened", "signing-in").await;
    walk.sign_in(&pass, false, Some("sign-in-window-whole-screen")).await;

    walk.at("We found your security key", "key-found").await;
    assert!(walk.text().await.contains("It has no PIN yet"), "{}", walk.text().await);
    walk.click("Continue").await;

    walk.at("Choose a PIN for your key", "choose-pin").await;
    walk.small("choose-pin").await;
    walk.type_secret("#new-pin", PIN, "new PIN").await;
    walk.type_secret("#new-pin-again", PIN, "new PIN again").await;
    walk.shot("choose-pin-typed").await;
    walk.click("Set PIN").await;

    touch_to_make_passkey(&mut walk, true).await;
    walk.at("Give your key a name", "naming-key").await;
    let suggested = app.find("#key-name").await.prop("value").await.unwrap().unwrap_or_default();
    assert_eq!(suggested, "tap2key Virtual Key");
    walk.click("Register my key").await;

    touch_for_test_sign_in(&mut walk, true).await;
    walk.at("Your security key is ready", "done").await;
    walk.small("done").await;
    assert_eq!(app.find(".key-name").await.text().await.unwrap(), suggested);
    let at_done = settled_memory(&app).await;

    let report = walk.write_actions("A blank key, from the pass to a tested key");
    assert_eq!((walk.actions.fields, walk.actions.clicks, walk.actions.touches), (4, 6, 2), "{report}");
    measurements(&app, first_screen, &at_welcome, &at_done);
    walk.check_log();
    app.close().await;
}

#[tokio::test]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn a_key_with_a_pin_takes_a_wrong_pin_then_the_right_one() {
    const KEY_PIN: &str = "739164";
    const WRONG: &str = "582046";
    let state = key_with_pin("with-pin", KEY_PIN);
    let app = App::launch("wizard-key-with-pin", &["--demo", "--demo-key-state", state.to_str().unwrap()]).await;
    let mut walk = Walk::new(&app);
    walk.screen("Set up your security key").await;
    let pass = walk.demo_pass().await;
    walk.give_address(ACCOUNT).await;
    walk.at("Next, sign in", "ready-to-sign-in").await;
    walk.click("Sign in").await;
    walk.sign_in(&pass, false, None).await;

    walk.at("We found your security key", "key-found").await;
    assert!(walk.text().await.contains("It has a PIN. You'll type it next (8 tries left"), "{}", walk.text().await);
    walk.click("Continue").await;

    walk.at("Type your key's PIN", "enter-pin").await;
    walk.small("enter-pin").await;
    walk.type_secret("#pin", WRONG, "PIN (wrong)").await;
    walk.click("Continue").await;
    app.wait_for_text("#pin-problem", "That PIN isn't right. 7 tries left before the key locks.").await;
    walk.screen("Type your key's PIN").await;
    assert_eq!(app.find("#pin").await.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));
    assert_eq!(app.eval("return document.activeElement.id").await, json!("pin"), "the cursor waits in the PIN field");
    walk.shot("enter-pin-wrong").await;
    walk.small("enter-pin-wrong").await;

    walk.type_secret("#pin", KEY_PIN, "PIN (right)").await;
    walk.click("Continue").await;
    touch_to_make_passkey(&mut walk, false).await;
    walk.at("Give your key a name", "naming-key").await;
    walk.click("Register my key").await;
    touch_for_test_sign_in(&mut walk, false).await;
    walk.at("Your security key is ready", "done").await;

    let report = walk.write_actions("A key with a PIN: one wrong PIN, then the right one");
    // Typing the PIN once wrong costs two actions (the PIN, Continue) over the usual flow.
    assert_eq!((walk.actions.fields, walk.actions.clicks, walk.actions.touches), (4, 7, 2), "{report}");
    walk.check_log();
    app.close().await;
    let _ = std::fs::remove_dir_all(state.parent().unwrap());
}

#[tokio::test]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn a_key_registered_already_is_told_apart_on_the_second_go() {
    let app = App::launch("wizard-already-registered", &["--demo"]).await;
    let mut walk = Walk::new(&app);
    walk.screen("Set up your security key").await;
    let pass = walk.demo_pass().await;
    blank_key_to_done(&mut walk, &pass).await;
    walk.shot("done").await;
    walk.click("Finish").await;

    // Same app run, same key (it has the PIN now), same person.
    walk.at("Set up your security key", "welcome-again").await;
    assert_eq!(app.find("#work-address").await.prop("value").await.unwrap().as_deref(), Some(""));
    walk.give_address(ACCOUNT).await;
    walk.click("Sign in").await;
    walk.sign_in(&pass, false, None).await; // Finish forgot the sign-in: it is asked for again
    walk.screen("We found your security key").await;
    walk.click("Continue").await;
    walk.screen("Type your key's PIN").await;
    walk.type_secret("#pin", PIN, "PIN").await;
    walk.click("Continue").await;
    // The key asks for a touch before it says it holds a passkey for this account already
    // (CTAP 2.1: user presence first, so nobody learns it without the key in hand).
    walk.screen("Touch your security key now").await;
    walk.touch("to make the passkey").await;

    walk.at("This key is already set up for you", "failed-already-registered").await;
    walk.small("failed-already-registered").await;
    let text = walk.text().await;
    assert!(text.contains("registered to your account already"), "{text}");
    assert_eq!(current_step(&app).await["failure"]["kind"], json!("alreadyRegistered"));
    walk.write_actions("Second go with a key registered already");
    walk.check_log();
    app.close().await;
}

#[tokio::test]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn a_one_time_pass_used_once_is_refused_the_second_time() {
    let app = App::launch("wizard-one-time-pass", &["--demo", "--demo-one-time-pass"]).await;
    let mut walk = Walk::new(&app);
    walk.screen("Set up your security key").await;
    let pass = walk.demo_pass().await;
    blank_key_to_done(&mut walk, &pass).await;
    walk.click("Finish").await;

    walk.screen("Set up your security key").await;
    walk.give_address(ACCOUNT).await;
    walk.click("Sign in").await;
    walk.sign_in(&pass, false, None).await;
    walk.at("This Temporary Access Pass was used already", "failed-pass-used").await;
    walk.small("failed-pass-used").await;
    assert_eq!(current_step(&app).await["failure"]["problem"], json!("passAlreadyUsed"));
    assert!(walk.text().await.contains("It was made to work only once."));
    walk.write_actions("A one-time pass typed a second time");
    walk.check_log();
    app.close().await;
}

#[tokio::test]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn a_key_not_touched_in_time_can_be_tried_again() {
    let app = App::launch("wizard-no-touch", &["--demo", "--demo-touch-timeout", "3"]).await;
    let mut walk = Walk::new(&app);
    walk.screen("Set up your security key").await;
    let pass = walk.demo_pass().await;
    walk.give_address(ACCOUNT).await;
    walk.click("Sign in").await;
    walk.sign_in(&pass, false, None).await;
    walk.screen("We found your security key").await;
    walk.click("Continue").await;
    walk.screen("Choose a PIN for your key").await;
    walk.type_secret("#new-pin", PIN, "new PIN").await;
    walk.type_secret("#new-pin-again", PIN, "new PIN again").await;
    walk.click("Set PIN").await;

    // Nobody touches: the key gives up after 3 seconds.
    walk.at("Touch your security key now", "touch-not-touched").await;
    walk.at("The key wasn't touched in time", "failed-no-touch").await;
    walk.small("failed-no-touch").await;
    assert_eq!(current_step(&app).await["failure"]["kind"], json!("noTouch"));
    walk.click("Try again").await;

    touch_to_make_passkey(&mut walk, false).await;
    walk.screen("Give your key a name").await;
    walk.click("Register my key").await;
    touch_for_test_sign_in(&mut walk, false).await;
    walk.at("Your security key is ready", "done").await;
    walk.write_actions("No touch in time, then Try again");
    walk.check_log();
    app.close().await;
}

/// Welcome to done with a blank key, screenshots aside (for the tests that go on after).
async fn blank_key_to_done(walk: &mut Walk<'_>, pass: &str) {
    walk.give_address(ACCOUNT).await;
    walk.screen("Next, sign in").await;
    walk.click("Sign in").await;
    walk.sign_in(pass, false, None).await;
    walk.screen("We found your security key").await;
    walk.click("Continue").await;
    walk.screen("Choose a PIN for your key").await;
    walk.type_secret("#new-pin", PIN, "new PIN").await;
    walk.type_secret("#new-pin-again", PIN, "new PIN again").await;
    walk.click("Set PIN").await;
    walk.screen("Touch your security key now").await;
    walk.touch("to make the passkey").await;
    walk.screen("Give your key a name").await;
    walk.click("Register my key").await;
    walk.screen("One more touch to check your key works").await;
    walk.touch("for the test sign-in").await;
    walk.screen("Your security key is ready").await;
}

async fn touch_to_make_passkey(walk: &mut Walk<'_>, small: bool) {
    walk.at("Touch your security key now", "touch-to-make-passkey").await;
    if small {
        walk.small("touch-to-make-passkey").await;
    }
    walk.touch("to make the passkey").await;
}

async fn touch_for_test_sign_in(walk: &mut Walk<'_>, small: bool) {
    walk.at("One more touch to check your key works", "touch-for-test-sign-in").await;
    if small {
        walk.small("touch-for-test-sign-in").await;
    }
    walk.touch("for the test sign-in").await;
}

/// A virtual key's state file with `pin` set, as IT might hand a key over.
fn key_with_pin(name: &str, pin: &str) -> PathBuf {
    use tap2key_keys::{Key, Pin};
    use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig};
    let dir = std::env::temp_dir().join(format!("tap2key-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.json"));
    let _ = std::fs::remove_file(&file);
    let key = VirtualKey::new(VirtualKeyConfig { state_file: Some(file.clone()), ..VirtualKeyConfig::default() }).unwrap();
    let mut client = tap2key_keys::virtual_key::open(key.plug_in()).unwrap();
    client.set_pin(&Pin::new(pin, 4).unwrap()).unwrap();
    drop(client);
    drop(key);
    assert!(file.is_file(), "the key kept no state file");
    file
}

/// Waits for the first screen to be usable (its field there, its heading focused) and
/// returns how long that took from the launch.
async fn interactive(app: &App) -> Duration {
    app.find("#work-address").await;
    app.wait_for_value("return document.activeElement.tagName", json!("H1")).await;
    app.since_launch()
}

/// The app's processes once the screen has settled.
async fn settled_memory(app: &App) -> Vec<Process> {
    tokio::time::sleep(Duration::from_secs(2)).await;
    app.processes()
}

fn measurements(app: &App, first_screen: Duration, at_welcome: &[Process], at_done: &[Process]) {
    let log = app.log();
    let in_app = log_span(&log, "starting", "window asked for the current step");
    let memory = |processes: &[Process]| {
        let each: Vec<String> = processes.iter().map(|p| format!("{} {} MiB", p.name, p.rss_kib / 1024)).collect();
        let rss: u64 = processes.iter().map(|p| p.rss_kib).sum();
        let pss: u64 = processes.iter().map(|p| p.pss_kib).sum();
        format!("{} MiB in all ({}); PSS {} MiB in all", rss / 1024, each.join(", "), pss / 1024)
    };
    let text = format!(
        "debug build; the app and its WebKit children ({} processes at the welcome screen)\n\
         launch to an interactive first screen (WebDriver session, field shown, heading focused): {} ms\n\
         app start to the window's first call (app log, 'starting' to 'window asked for the current step'): {}\n\
         memory (VmRSS, and PSS) at the welcome screen: {}\n\
         memory (VmRSS, and PSS) at done: {}\n",
        at_welcome.len(),
        first_screen.as_millis(),
        in_app.map(|d| format!("{} ms", d.as_millis())).unwrap_or_else(|| "not in the log".into()),
        memory(at_welcome),
        memory(at_done),
    );
    app.write_artifact("measurements.txt", &text);
    println!("{text}");
    assert!(at_welcome.iter().any(|p| p.name == "tap2key"), "no tap2key process found: {at_welcome:?}");
}

/// The time between the first log lines holding `from` and `to` (their RFC 3339 stamps).
fn log_span(log: &str, from: &str, to: &str) -> Option<Duration> {
    let stamp = |needle: &str| {
        let line = log.lines().find(|line| line.contains(needle))?;
        let time = line.split_whitespace().next()?.split('T').nth(1)?.trim_end_matches('Z');
        let mut parts = time.split(':');
        let (h, m, s): (f64, f64, f64) = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
        Some(h * 3600.0 + m * 60.0 + s)
    };
    let (start, end) = (stamp(from)?, stamp(to)?);
    (end >= start).then(|| Duration::from_secs_f64(end - start))
}
