//! The whole job, headless, for every path a person can take.

mod common;

use common::*;
use tap2key_flow::{Intent, PinState, Step};
use tap2key_keys::KeyPorts;
use tap2key_virtual_key::VirtualKeyConfig;

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

    let passkeys = directory.passkeys(&user).await;
    assert_eq!(passkeys.len(), 1);
    assert_eq!(registered.method_id, passkeys[0].method_id.to_string());
    assert_eq!(registered.name, "tap2key Virtual Key");
    assert!(registered.sign_count >= 1, "the directory saw the test sign-in's counter");
    assert!(key.has_pin());
    let on_key = key.credentials();
    assert_eq!(on_key.len(), 1);
    assert_eq!(on_key[0].id, passkeys[0].credential_id);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
}
