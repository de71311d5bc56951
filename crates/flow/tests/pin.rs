//! The key's PIN: typed wrong, tried too often in a row, blocked, or due for a change.

mod common;

use common::*;
use tap2key_flow::{Failure, Intent, PinProblem, PinState, Step, WayForward};
use tap2key_keys::{Key, KeyError, KeyPorts, Pin};
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig};

/// A key whose PIN is set; not plugged in yet.
fn key_with_pin(pin: &str) -> VirtualKey {
    let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
    set_pin_on(&key, pin);
    key
}

fn wrong_pin(retries_left: u8) -> impl Fn(&Step) -> bool {
    move |step| matches!(step, Step::EnterPin { problem: Some(PinProblem::Wrong { retries_left: r }), .. } if *r == retries_left)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_says_how_many_tries_are_left_and_the_right_one_goes_on() {
    let directory = Directory::start("wrong-pin").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let key = key_with_pin("917364");
    ports.plug_in(key.plug_in());
    let flow = start_flow(&directory, &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    reach(&flow, "keyFound").await;
    flow.send(Intent::UseKey);
    reach(&flow, "enterPin").await;
    flow.send(enter_pin("917365"));
    let Step::EnterPin { key: shown, .. } = until(&flow, "a wrong PIN with 7 tries left", wrong_pin(7)).await else { unreachable!() };
    assert_eq!(shown.pin, PinState::Set { retries: 7 });
    assert_eq!(key.pin_retries(), 7);
    flow.send(enter_pin("917364"));
    reach(&flow, "namingKey").await;
    flow.send(Intent::NameKey { name: "Ada's key".into() });
    reach(&flow, "done").await;

    assert_eq!(key.pin_retries(), 8, "the right PIN restores the tries");
    assert_eq!(directory.passkeys(&user).await.len(), 1);
    assert_eq!(key.credentials().len(), 1);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "917364", "917365"]);
}

/// Eight wrong PINs, with the power cycles the key demands after every three.
fn block_pin(key: &VirtualKey) {
    let wrong = Pin::new("000001", 4).unwrap();
    for _ in 0..3 {
        let mut client = tap2key_keys::virtual_key::open(key.plug_in()).unwrap();
        for _ in 0..3 {
            match client.verify_pin(&wrong, "login.tap2key.test") {
                Err(KeyError::PinBlocked) => return,
                Err(KeyError::PinInvalid { .. } | KeyError::PinAuthBlocked) => {}
                other => panic!("{other:?}"),
            }
        }
    }
    panic!("the PIN did not block");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_pin_is_shown_and_offers_another_key_or_it() {
    let directory = Directory::start("pin-blocked").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let key = key_with_pin("917364");
    block_pin(&key);
    assert_eq!(key.pin_retries(), 0);
    ports.plug_in(key.plug_in());
    let flow = start_flow(&directory, &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    let Step::KeyFound { key: found } = reach(&flow, "keyFound").await else { unreachable!() };
    assert_eq!(found.pin, PinState::Blocked);
    flow.send(Intent::UseKey);
    let (failure, cleanup, ways) = failure(&flow).await;
    assert_eq!(failure, Failure::PinBlocked);
    assert!(cleanup.is_empty());
    assert_eq!(ways, [WayForward::UseAnotherKey, WayForward::AskIt]);

    assert!(directory.passkeys(&user).await.is_empty());
    assert!(key.credentials().is_empty());
    assert_eq!(key.pin_retries(), 0);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "917364"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_wrong_pins_pause_the_key_until_it_is_reinserted_and_then_the_flow_goes_on() {
    let directory = Directory::start("pin-paused").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let key = key_with_pin("917364");
    let location = ports.plug_in(key.plug_in());
    let flow = start_flow(&directory, &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    reach(&flow, "keyFound").await;
    flow.send(Intent::UseKey);
    reach(&flow, "enterPin").await;
    flow.send(enter_pin("111112"));
    until(&flow, "7 tries left", wrong_pin(7)).await;
    flow.send(enter_pin("111113"));
    until(&flow, "6 tries left", wrong_pin(6)).await;
    flow.send(enter_pin("111114"));
    let (failure, _, ways) = failure(&flow).await;
    assert_eq!(failure, Failure::PinTriesPaused);
    assert_eq!(ways, [WayForward::ReinsertKey]);
    let failed_at = flow.history().len();

    // The person pulls the key out and puts it back, and does nothing else. Back to back,
    // faster than the flow looks for keys: it must still see the key go and come back.
    ports.pull_out(&location);
    ports.plug_in(key.plug_in());
    let Step::KeyFound { key: found } = reach(&flow, "keyFound").await else { unreachable!() };
    assert_eq!(found.pin, PinState::Set { retries: 5 });
    assert_in_order(&history(&flow)[failed_at - 1..], &["failed", "findingKey", "keyFound"]);
    flow.send(Intent::UseKey);
    reach(&flow, "enterPin").await;
    flow.send(enter_pin("917364"));
    reach(&flow, "namingKey").await;
    flow.send(Intent::NameKey { name: "Ada's key".into() });
    reach(&flow, "done").await;

    assert_eq!(key.pin_retries(), 8);
    assert_eq!(directory.passkeys(&user).await.len(), 1);
    assert_eq!(key.credentials().len(), 1);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "917364", "111112", "111113", "111114"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_demands_a_new_pin_gets_one_and_goes_on() {
    let directory = Directory::start("pin-change").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let key = key_with_pin("917364");
    key.force_pin_change();
    ports.plug_in(key.plug_in());
    let flow = start_flow(&directory, &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    let Step::KeyFound { key: found } = reach(&flow, "keyFound").await else { unreachable!() };
    assert_eq!(found.pin, PinState::ChangeRequired { retries: 8 });
    flow.send(Intent::UseKey);
    reach(&flow, "changePin").await;
    flow.send(Intent::ChangePin { current: "917364".into(), new: "530918".into(), again: "530918".into() });
    reach(&flow, "namingKey").await;
    flow.send(Intent::NameKey { name: "Ada's key".into() });
    reach(&flow, "done").await;

    assert_eq!(directory.passkeys(&user).await.len(), 1);
    assert_eq!(key.credentials().len(), 1);
    flow.close().await;
    let mut client = tap2key_keys::virtual_key::open(key.plug_in()).unwrap();
    assert!(!client.info().unwrap().force_pin_change, "the key is satisfied");
    let new_pin = Pin::new("530918", 4).unwrap();
    assert_eq!(client.verify_pin(&new_pin, "login.tap2key.test"), Ok(()), "the new PIN is the key's PIN");
    let old_pin = Pin::new("917364", 4).unwrap();
    assert!(matches!(client.verify_pin(&old_pin, "login.tap2key.test"), Err(KeyError::PinInvalid { .. })), "the old one is not");
    assert_no_secret_logged(&[&tap, "917364", "530918"]);
}
