//! The whole job, headless, when nothing goes wrong: a blank key, a key with a PIN, and
//! one key chosen out of two by touching it.

mod common;

use common::*;
use tap2key_flow::{Intent, PinState, Step};
use tap2key_keys::KeyPorts;
use tap2key_virtual_key::{TouchPolicy, VirtualKeyConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blank_key_gets_a_pin_a_passkey_a_registration_and_a_verified_test_sign_in() {
    let directory = Directory::start("blank").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let (key, _) = plug_in(&ports, VirtualKeyConfig::default());
    let flow = start_flow(&directory, &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    let Step::KeyFound { key: found } = reach(&flow, "keyFound").await else { unreachable!() };
    assert_eq!((found.model.as_str(), found.pin), ("tap2key Virtual Key", PinState::NotSet));
    flow.send(Intent::UseKey);
    reach(&flow, "choosePin").await;
    flow.send(choose_pin("480257"));
    let Step::NamingKey { suggested, .. } = reach(&flow, "namingKey").await else { unreachable!() };
    flow.send(Intent::NameKey { name: suggested });
    let Step::Done { key: registered } = reach(&flow, "done").await else { unreachable!() };

    assert_in_order(
        &history(&flow),
        &[
            "welcome",
            "readyToSignIn",
            "signingIn",
            "findingKey",
            "keyFound",
            "choosePin",
            "checkingPin",
            "creatingPasskey",
            "namingKey",
            "registering",
            "testSignIn",
            "done",
        ],
    );
    let passkeys = directory.passkeys(&user).await;
    assert_eq!(passkeys.len(), 1);
    assert_eq!(registered.method_id, passkeys[0].method_id.to_string());
    assert_eq!(registered.name, "tap2key Virtual Key");
    assert!(registered.sign_count >= 1, "the directory saw the test sign-in's counter");
    assert!(key.has_pin());
    assert_eq!(key.pin_retries(), 8);
    let on_key = key.credentials();
    assert_eq!(on_key.len(), 1);
    assert_eq!(on_key[0].id, passkeys[0].credential_id);
    flow.close().await;
    assert_eq!(try_pin_on(&key, "480257"), Ok(()), "the PIN chosen is the key's PIN");
    assert_no_secret_logged(&[&tap, "480257"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_with_a_pin_asks_for_it_and_goes_on_to_done() {
    let directory = Directory::start("has-pin").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let key = tap2key_virtual_key::VirtualKey::new(VirtualKeyConfig::default()).unwrap();
    set_pin_on(&key, "917364");
    ports.plug_in(key.plug_in());
    let flow = start_flow(&directory, &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    let Step::KeyFound { key: found } = reach(&flow, "keyFound").await else { unreachable!() };
    assert_eq!(found.pin, PinState::Set { retries: 8 });
    flow.send(Intent::UseKey);
    let Step::EnterPin { problem, .. } = reach(&flow, "enterPin").await else { unreachable!() };
    assert_eq!(problem, None);
    flow.send(enter_pin("917364"));
    reach(&flow, "namingKey").await;
    flow.send(Intent::NameKey { name: "Ada's key".into() });
    let Step::Done { key: registered } = reach(&flow, "done").await else { unreachable!() };
    assert_eq!(registered.name, "Ada's key");
    assert_in_order(&history(&flow), &["keyFound", "enterPin", "checkingPin", "creatingPasskey", "namingKey", "registering", "testSignIn", "done"]);

    let passkeys = directory.passkeys(&user).await;
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0].display_name, "Ada's key");
    let on_key = key.credentials();
    assert_eq!(on_key.len(), 1);
    assert_eq!(on_key[0].id, passkeys[0].credential_id);
    assert_eq!(key.pin_retries(), 8);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "917364"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_keys_the_one_touched_is_the_one_registered() {
    let directory = Directory::start("two-keys").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let (first, _) = plug_in(&ports, key_config(TouchPolicy::WhenPressed));
    let (second, _) = plug_in(&ports, key_config(TouchPolicy::WhenPressed));
    let flow = start_flow(&directory, &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    until(&flow, "both keys blinking", |step| step == &Step::FindingKey { keys: 2, touch: true }).await;
    press(&second).await;
    let Step::KeyFound { key: found } = reach(&flow, "keyFound").await else { unreachable!() };
    assert_eq!(found.pin, PinState::NotSet);
    flow.send(Intent::UseKey);
    reach(&flow, "choosePin").await;
    flow.send(choose_pin("480257"));
    until(&flow, "touch to create", |step| step == &Step::CreatingPasskey { touch: true }).await;
    press(&second).await;
    reach(&flow, "namingKey").await;
    flow.send(Intent::NameKey { name: "Second key".into() });
    until(&flow, "touch to test", |step| step == &Step::TestSignIn { touch: true }).await;
    press(&second).await;
    reach(&flow, "done").await;

    let passkeys = directory.passkeys(&user).await;
    assert_eq!(passkeys.len(), 1);
    let on_second = second.credentials();
    assert_eq!(on_second.len(), 1);
    assert_eq!(on_second[0].id, passkeys[0].credential_id);
    assert!(second.has_pin());
    assert!(first.credentials().is_empty(), "the key not chosen is left alone");
    assert!(!first.has_pin());
    flow.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
}
