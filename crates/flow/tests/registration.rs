//! Between the passkey made on the key and the verified test sign-in: the directory goes
//! down, refuses the model, lets the challenge expire, or refuses the test; or the person
//! starts over. Nothing half done may be left on the key or in the directory.

mod common;

use common::*;
use serde_json::Value;
use tap2key_flow::{Cleanup, Failure, Intent, Onboarding, Step, WayForward};
use tap2key_keys::KeyPorts;
use tap2key_server::{AttestationPolicy, store::User};
use tap2key_virtual_key::{TouchPolicy, VirtualKey, VirtualKeyConfig};

/// Signed in, a blank key given its PIN and a passkey: the flow asks for the name.
async fn up_to_naming(directory: &Directory, ports: &KeyPorts, config: VirtualKeyConfig) -> (Onboarding, VirtualKey, User, String) {
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let (key, _) = plug_in(ports, config);
    let flow = start_flow(directory, ports);
    sign_in(&flow, "ada@contoso.com", &tap).await;
    reach(&flow, "keyFound").await;
    flow.send(Intent::UseKey);
    reach(&flow, "choosePin").await;
    flow.send(choose_pin("480257"));
    reach(&flow, "namingKey").await;
    assert_eq!(key.credentials().len(), 1, "the passkey is on the key");
    (flow, key, user, tap)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_down_at_registration_leaves_no_passkey_on_the_key() {
    let mut directory = Directory::start("down-registering").await;
    let ports = KeyPorts::new(false);
    let (flow, key, user, tap) = up_to_naming(&directory, &ports, VirtualKeyConfig::default()).await;

    directory.stop().await;
    flow.send(Intent::NameKey { name: "Ada's key".into() });
    let (failure, cleanup, ways) = failure(&flow).await;
    assert_eq!(failure, Failure::DirectoryUnreachable);
    assert_eq!(cleanup, [Cleanup::PasskeyRemovedFromKey]);
    assert_eq!(ways, [WayForward::Retry, WayForward::StartOver]);

    assert!(key.credentials().is_empty(), "no orphan on the key");
    assert!(directory.passkeys(&user).await.is_empty());
    assert_eq!(key.pin_retries(), 8);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_the_directory_does_not_allow_is_refused_and_its_passkey_deleted() {
    let directory = Directory::start_with("model-refused", |config| {
        let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
        let other = uuid::Uuid::from_u128(0xcb69481e_8ff7_4039_93ec_0a2729a154a8);
        config.attestation = AttestationPolicy::trust(key.attestation_root_der(), other, "YubiKey 5 Series");
    })
    .await;
    let ports = KeyPorts::new(false);
    let (flow, key, user, tap) = up_to_naming(&directory, &ports, VirtualKeyConfig::default()).await;

    flow.send(Intent::NameKey { name: "Ada's key".into() });
    let (failure, cleanup, ways) = failure(&flow).await;
    let Failure::ModelNotAllowed { model, message } = failure else { panic!("{failure:?}") };
    assert_eq!(model, "tap2key Virtual Key");
    assert!(!message.is_empty());
    assert_eq!(cleanup, [Cleanup::PasskeyRemovedFromKey]);
    assert_eq!(ways, [WayForward::UseAnotherKey, WayForward::AskIt]);

    assert!(key.credentials().is_empty(), "no orphan on the key");
    assert!(directory.passkeys(&user).await.is_empty());
    assert_eq!(key.pin_retries(), 8);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_that_expired_while_naming_the_key_is_replaced_with_a_new_passkey() {
    let directory = Directory::start("challenge-expired").await;
    let ports = KeyPorts::new(false);
    let (flow, key, user, tap) = up_to_naming(&directory, &ports, VirtualKeyConfig::default()).await;
    let first_passkey = key.credentials()[0].id.clone();

    directory.clock.advance(time::Duration::minutes(6));
    let named_at = flow.history().len();
    flow.send(Intent::NameKey { name: "Ada's key".into() });
    let Step::Done { key: registered } = reach(&flow, "done").await else { unreachable!() };
    assert_eq!(registered.name, "Ada's key", "the name given is kept");
    assert_in_order(&history(&flow)[named_at - 1..], &["namingKey", "registering", "creatingPasskey", "registering", "testSignIn", "done"]);

    let passkeys = directory.passkeys(&user).await;
    assert_eq!(passkeys.len(), 1);
    let on_key = key.credentials();
    assert_eq!(on_key.len(), 1, "the first passkey was deleted");
    assert_ne!(on_key[0].id, first_passkey);
    assert_eq!(on_key[0].id, passkeys[0].credential_id);
    assert_eq!(key.pin_retries(), 8);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
}

/// Replaces the public key the directory keeps for `user`'s passkey with another valid
/// P-256 key (the curve's generator, whose private key is 1): the key's signatures no
/// longer verify, as if the directory held some other key's credential.
async fn swap_the_stored_public_key(directory: &Directory, user: &User) {
    const GX: [u8; 32] = [
        0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb,
        0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
    ];
    const GY: [u8; 32] = [
        0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31,
        0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
    ];
    fn swap(value: &mut Value) -> bool {
        match value {
            Value::Object(map) if map.contains_key("curve") && map.contains_key("x") && map.contains_key("y") => {
                map.insert("x".into(), GX.to_vec().into());
                map.insert("y".into(), GY.to_vec().into());
                true
            }
            Value::Object(map) => map.values_mut().any(swap),
            Value::Array(items) => items.iter_mut().any(swap),
            _ => false,
        }
    }
    let passkey = directory.passkeys(user).await.remove(0);
    let mut credential: Value = serde_json::from_str(&passkey.credential_json).unwrap();
    assert!(swap(&mut credential), "no EC2 public key in {}", passkey.credential_json);
    let store = &directory.state.store;
    store.update_passkey_credential(&passkey.method_id, &credential.to_string(), passkey.sign_count).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_test_sign_in_can_take_the_registration_back_from_directory_and_key() {
    let directory = Directory::start("test-refused").await;
    let ports = KeyPorts::new(false);
    let (flow, key, user, tap) = up_to_naming(&directory, &ports, VirtualKeyConfig::default()).await;

    key.touch().set_policy(TouchPolicy::WhenPressed);
    flow.send(Intent::NameKey { name: "Ada's key".into() });
    until(&flow, "touch to test", |step| step == &Step::TestSignIn { touch: true }).await;
    assert_eq!(directory.passkeys(&user).await.len(), 1, "registered");
    swap_the_stored_public_key(&directory, &user).await;
    press(&key).await;
    let (failure, cleanup, ways) = failure(&flow).await;
    let Failure::TestSignInFailed { message } = failure else { panic!("{failure:?}") };
    assert!(message.contains("signature"), "{message}");
    assert!(cleanup.is_empty());
    assert_eq!(ways, [WayForward::Retry, WayForward::RemoveRegistration]);

    flow.send(Intent::RemoveRegistration);
    let removed = until(&flow, "the registration taken back", |step| matches!(step, Step::Failed { cleanup, .. } if !cleanup.is_empty())).await;
    let Step::Failed { failure, cleanup, ways_forward } = removed else { unreachable!() };
    assert_eq!(failure, Failure::TestSignInFailed { message }, "it still says why");
    assert_eq!(cleanup, [Cleanup::RegistrationRemoved, Cleanup::PasskeyRemovedFromKey]);
    assert_eq!(ways_forward, [WayForward::Retry, WayForward::StartOver]);
    assert_in_order(&history(&flow), &["testSignIn", "failed", "removingRegistration", "failed"]);

    assert!(directory.passkeys(&user).await.is_empty(), "nothing left in the directory");
    assert!(key.credentials().is_empty(), "nothing left on the key");
    assert_eq!(key.pin_retries(), 8);
    flow.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_over_before_registering_deletes_the_passkey_from_the_key() {
    let directory = Directory::start("start-over").await;
    let ports = KeyPorts::new(false);
    let (flow, key, user, tap) = up_to_naming(&directory, &ports, VirtualKeyConfig::default()).await;

    flow.send(Intent::StartOver);
    reach(&flow, "welcome").await;
    eventually("the passkey is deleted from the key", || key.credentials().is_empty()).await;
    assert!(directory.passkeys(&user).await.is_empty());
    assert!(key.has_pin(), "the PIN stays: it is the person's now");
    assert_eq!(key.pin_retries(), 8);
    flow.close().await;
    assert!(key.credentials().is_empty());
    assert_no_secret_logged(&[&tap, "480257"]);
}
