//! The key misbehaves or the person does: registered already, pulled out mid-way, not
//! touched in time, or the wait for a touch cancelled.

mod common;

use std::time::Duration;

use common::*;
use tap2key_flow::{Failure, Intent, Onboarding, PinState, Step, WayForward};
use tap2key_keys::KeyPorts;
use tap2key_virtual_key::{TouchPolicy, VirtualKeyConfig};

/// From a blank key found to its PIN set and the passkey being made.
async fn choose_pin_and_create(flow: &Onboarding, pin: &str) {
    reach(flow, "keyFound").await;
    flow.send(Intent::UseKey);
    reach(flow, "choosePin").await;
    flow.send(choose_pin(pin));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_registered_already_is_refused_and_left_as_it_was() {
    let directory = Directory::start("already").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let (key, _) = plug_in(&ports, VirtualKeyConfig::default());
    let first = start_flow(&directory, &ports);
    sign_in(&first, "ada@contoso.com", &tap).await;
    choose_pin_and_create(&first, "480257").await;
    reach(&first, "namingKey").await;
    first.send(Intent::NameKey { name: "Ada's key".into() });
    reach(&first, "done").await;
    first.close().await;

    // Another day, another pass, the same key.
    let tap2 = directory.new_tap(&user, true).await;
    let second = start_flow(&directory, &ports);
    sign_in(&second, "ada@contoso.com", &tap2).await;
    reach(&second, "keyFound").await;
    second.send(Intent::UseKey);
    reach(&second, "enterPin").await;
    second.send(enter_pin("480257"));
    let (failure, cleanup, ways) = failure(&second).await;
    assert_eq!(failure, Failure::AlreadyRegistered);
    assert!(cleanup.is_empty());
    assert_eq!(ways, [WayForward::UseAnotherKey, WayForward::StartOver]);

    assert_eq!(directory.passkeys(&user).await.len(), 1);
    assert_eq!(key.credentials().len(), 1);
    assert_eq!(key.credentials()[0].id, directory.passkeys(&user).await[0].credential_id);
    assert_eq!(key.pin_retries(), 8, "the right PIN was typed");
    second.close().await;
    assert_no_secret_logged(&[&tap, &tap2, "480257"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_pulled_out_while_making_the_passkey_is_picked_up_again_when_reinserted() {
    let directory = Directory::start("removed-creating").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let (key, location) = plug_in(&ports, key_config(TouchPolicy::WhenPressed));
    let flow = start_flow(&directory, &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    choose_pin_and_create(&flow, "480257").await;
    until(&flow, "touch to create", |step| step == &Step::CreatingPasskey { touch: true }).await;
    ports.pull_out(&location);
    let (failure, cleanup, ways) = failure(&flow).await;
    assert_eq!(failure, Failure::KeyRemoved);
    assert!(cleanup.is_empty());
    assert_eq!(ways, [WayForward::ReinsertKey]);
    let failed_at = flow.history().len();

    ports.plug_in(key.plug_in());
    let Step::KeyFound { key: found } = reach(&flow, "keyFound").await else { unreachable!() };
    assert_eq!(found.pin, PinState::Set { retries: 8 }, "the PIN chosen before stays");
    assert_in_order(&history(&flow)[failed_at - 1..], &["failed", "findingKey", "keyFound"]);
    flow.send(Intent::UseKey);
    reach(&flow, "enterPin").await;
    flow.send(enter_pin("480257"));
    until(&flow, "touch to create", |step| step == &Step::CreatingPasskey { touch: true }).await;
    press(&key).await;
    reach(&flow, "namingKey").await;
    flow.send(Intent::NameKey { name: "Ada's key".into() });
    until(&flow, "touch to test", |step| step == &Step::TestSignIn { touch: true }).await;
    press(&key).await;
    reach(&flow, "done").await;

    let passkeys = directory.passkeys(&user).await;
    assert_eq!(passkeys.len(), 1);
    let on_key = key.credentials();
    assert_eq!(on_key.len(), 1, "one passkey, not one per attempt");
    assert_eq!(on_key[0].id, passkeys[0].credential_id);
    assert_eq!(key.pin_retries(), 8);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_pulled_out_during_the_test_sign_in_resumes_at_the_test_when_reinserted() {
    let directory = Directory::start("removed-testing").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let (key, location) = plug_in(&ports, key_config(TouchPolicy::WhenPressed));
    let flow = start_flow(&directory, &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    choose_pin_and_create(&flow, "480257").await;
    until(&flow, "touch to create", |step| step == &Step::CreatingPasskey { touch: true }).await;
    press(&key).await;
    reach(&flow, "namingKey").await;
    flow.send(Intent::NameKey { name: "Ada's key".into() });
    until(&flow, "touch to test", |step| step == &Step::TestSignIn { touch: true }).await;
    ports.pull_out(&location);
    let (failure, cleanup, ways) = failure(&flow).await;
    assert_eq!(failure, Failure::KeyRemoved);
    assert!(cleanup.is_empty());
    assert_eq!(ways, [WayForward::ReinsertKey, WayForward::RemoveRegistration]);

    ports.plug_in(key.plug_in());
    reach(&flow, "keyFound").await;
    flow.send(Intent::UseKey);
    reach(&flow, "enterPin").await;
    flow.send(enter_pin("480257"));
    until(&flow, "touch to test", |step| step == &Step::TestSignIn { touch: true }).await;
    press(&key).await;
    reach(&flow, "done").await;
    let since_failure: Vec<_> = history(&flow).into_iter().skip_while(|step| *step != "failed").collect();
    assert!(!since_failure.contains(&"creatingPasskey"), "no second passkey: {since_failure:?}");

    let passkeys = directory.passkeys(&user).await;
    assert_eq!(passkeys.len(), 1);
    assert!(passkeys[0].sign_count >= 1, "the test sign-in was verified");
    let on_key = key.credentials();
    assert_eq!(on_key.len(), 1);
    assert_eq!(on_key[0].id, passkeys[0].credential_id);
    assert_eq!(key.pin_retries(), 8);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_not_touched_in_time_offers_a_retry_that_works() {
    let directory = Directory::start("no-touch").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let config = VirtualKeyConfig { touch: TouchPolicy::Never, touch_timeout: Duration::from_secs(2), ..VirtualKeyConfig::default() };
    let (key, _) = plug_in(&ports, config);
    let flow = start_flow(&directory, &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    choose_pin_and_create(&flow, "480257").await;
    // The key asks for a touch for two seconds, then gives up.
    let (failure, cleanup, ways) = failure(&flow).await;
    assert_eq!(failure, Failure::NoTouch);
    assert!(cleanup.is_empty());
    assert_eq!(ways, [WayForward::Retry]);
    assert_in_order(&history(&flow), &["checkingPin", "creatingPasskey", "failed"]);
    assert!(key.credentials().is_empty());

    key.touch().set_policy(TouchPolicy::Immediately);
    flow.send(Intent::Retry);
    reach(&flow, "namingKey").await;
    flow.send(Intent::NameKey { name: "Ada's key".into() });
    reach(&flow, "done").await;

    assert_eq!(directory.passkeys(&user).await.len(), 1);
    assert_eq!(key.credentials().len(), 1);
    assert!(key.has_pin());
    assert_eq!(key.pin_retries(), 8);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_wait_for_a_touch_offers_a_retry() {
    let directory = Directory::start("cancel").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let (key, _) = plug_in(&ports, key_config(TouchPolicy::WhenPressed));
    let flow = start_flow(&directory, &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    choose_pin_and_create(&flow, "480257").await;
    until(&flow, "touch to create", |step| step == &Step::CreatingPasskey { touch: true }).await;
    flow.send(Intent::Cancel);
    let (failure, cleanup, ways) = failure(&flow).await;
    assert_eq!(failure, Failure::Cancelled);
    assert!(cleanup.is_empty());
    assert_eq!(ways, [WayForward::Retry]);
    assert!(key.credentials().is_empty());
    assert!(directory.passkeys(&user).await.is_empty());

    flow.send(Intent::Retry);
    until(&flow, "touch to create", |step| step == &Step::CreatingPasskey { touch: true }).await;
    press(&key).await;
    reach(&flow, "namingKey").await;
    flow.send(Intent::NameKey { name: "Ada's key".into() });
    until(&flow, "touch to test", |step| step == &Step::TestSignIn { touch: true }).await;
    press(&key).await;
    reach(&flow, "done").await;
    assert_eq!(directory.passkeys(&user).await.len(), 1);
    assert_eq!(key.credentials().len(), 1);
    assert!(key.has_pin());
    assert_eq!(key.pin_retries(), 8);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
}
