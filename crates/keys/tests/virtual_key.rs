//! The client against the virtual key, over real CTAPHID reports and CTAP2 CBOR: every
//! operation onboarding uses, and every error it can meet.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use ciborium::Value;
use tap2key_keys::{
    CancelToken, GetAssertionRequest, Key, KeyError, KeyEvent, MakeCredentialRequest, Pin,
    client::CtapClient,
    virtual_key::{self, VirtualTransport},
};
use tap2key_virtual_key::{
    TouchPolicy, VirtualKey, VirtualKeyConfig,
    hid::{CtapHandler, HidDevice, HidIo},
};

const RP: &str = "login.microsoft.com";

fn key_with(config: VirtualKeyConfig) -> (VirtualKey, CtapClient<VirtualTransport>) {
    let key = VirtualKey::new(config).unwrap();
    let client = virtual_key::open(key.plug_in()).unwrap();
    (key, client)
}

fn blank_key() -> (VirtualKey, CtapClient<VirtualTransport>) {
    key_with(VirtualKeyConfig::default())
}

fn pin(text: &str) -> Pin {
    Pin::new(text, 4).unwrap()
}

fn registration(user: &[u8], exclude: Vec<Vec<u8>>) -> MakeCredentialRequest {
    MakeCredentialRequest {
        client_data_json: br#"{"type":"webauthn.create"}"#.to_vec(),
        rp_id: RP.into(),
        rp_name: Some("Microsoft".into()),
        user_id: user.to_vec(),
        user_name: "ada@contoso.com".into(),
        user_display_name: "Ada Lovelace".into(),
        exclude_list: exclude,
        resident_key: true,
        hmac_secret: true,
        cred_protect: Some(1),
    }
}

fn sign_in(allow: Vec<Vec<u8>>) -> GetAssertionRequest {
    GetAssertionRequest { client_data_json: br#"{"type":"webauthn.get"}"#.to_vec(), rp_id: RP.into(), allow_list: allow }
}

fn no_events() -> impl FnMut(KeyEvent) {
    |_| {}
}

#[test]
fn a_blank_key_gets_a_pin_a_passkey_and_signs_in_with_it() {
    let (key, mut client) = blank_key();
    let info = client.info().unwrap();
    assert_eq!(info.client_pin(), Some(false));
    assert_eq!(info.aaguid, key.model().aaguid);
    assert!(info.supports_permissions());

    client.set_pin(&pin("1234")).unwrap();
    assert_eq!(client.info().unwrap().client_pin(), Some(true));
    assert_eq!(client.pin_retries().unwrap().retries, 8);

    client.verify_pin(&pin("1234"), RP).unwrap();
    let mut touches = 0;
    let credential = client
        .make_credential(&registration(b"user-1", vec![]), Some(&pin("1234")), &mut |e| touches += (e == KeyEvent::TouchNeeded) as usize, &CancelToken::new())
        .unwrap();
    assert!(touches >= 1, "the client heard the key ask for a touch");
    assert_eq!(key.credentials().len(), 1);
    assert_eq!(key.credentials()[0].id, credential.credential_id);

    let assertion = client
        .get_assertion(&sign_in(vec![credential.credential_id.clone()]), Some(&pin("1234")), &mut no_events(), &CancelToken::new())
        .unwrap();
    assert_eq!(assertion.credential_id, credential.credential_id);
    assert_eq!(assertion.user_handle.as_deref(), Some(&b"user-1"[..]));
    assert_eq!(assertion.authenticator_data[32] & 0x05, 0x05, "UP and UV set");

    client.delete_credential(&credential.credential_id, &pin("1234")).unwrap();
    assert!(key.credentials().is_empty());
}

#[test]
fn wrong_pins_count_down_block_until_replug_and_finally_block_the_key() {
    let (key, mut client) = blank_key();
    client.set_pin(&pin("1234")).unwrap();
    assert_eq!(client.verify_pin(&pin("9999"), RP), Err(KeyError::PinInvalid { retries_left: 7 }));
    assert_eq!(client.verify_pin(&pin("9999"), RP), Err(KeyError::PinInvalid { retries_left: 6 }));
    assert_eq!(client.verify_pin(&pin("9999"), RP), Err(KeyError::PinAuthBlocked));
    // Blocked until re-inserted, even with the right PIN, and without costing a retry.
    assert_eq!(client.verify_pin(&pin("1234"), RP), Err(KeyError::PinAuthBlocked));
    assert_eq!(key.pin_retries(), 5);

    // Re-plugging is a power cycle; it pulls the key out of the port the old session used.
    let mut old = client;
    let mut client = virtual_key::open(key.plug_in()).unwrap();
    assert_eq!(old.info(), Err(KeyError::Removed));
    client.verify_pin(&pin("1234"), RP).unwrap();
    assert_eq!(key.pin_retries(), 8, "a right PIN restores the count");
    for round in 0..3 {
        for _ in 0..2 {
            client.verify_pin(&pin("0000"), RP).unwrap_err();
        }
        client = virtual_key::open(key.plug_in()).unwrap();
        assert_eq!(key.pin_retries(), 8 - 2 * (round + 1));
    }
    client.verify_pin(&pin("0000"), RP).unwrap_err();
    assert_eq!(client.verify_pin(&pin("0000"), RP), Err(KeyError::PinBlocked));
    assert_eq!(client.verify_pin(&pin("1234"), RP), Err(KeyError::PinBlocked));
}

#[test]
fn a_key_already_registered_is_refused_after_a_touch() {
    let (key, mut client) = blank_key();
    client.set_pin(&pin("1234")).unwrap();
    let first = client.make_credential(&registration(b"u", vec![]), Some(&pin("1234")), &mut no_events(), &CancelToken::new()).unwrap();
    let again = client.make_credential(&registration(b"u", vec![first.credential_id.clone()]), Some(&pin("1234")), &mut no_events(), &CancelToken::new());
    assert_eq!(again, Err(KeyError::CredentialExcluded));
    assert_eq!(key.credentials().len(), 1);
}

#[test]
fn a_pin_protected_key_wants_the_pin_for_a_passkey() {
    let (_key, mut client) = blank_key();
    client.set_pin(&pin("1234")).unwrap();
    let result = client.make_credential(&registration(b"u", vec![]), None, &mut no_events(), &CancelToken::new());
    assert_eq!(result, Err(KeyError::PinRequired));
}

#[test]
fn the_key_enforces_its_minimum_pin_length() {
    let (_key, mut client) = key_with(VirtualKeyConfig { min_pin_length: 6, ..VirtualKeyConfig::default() });
    assert_eq!(client.info().unwrap().min_pin_length, 6);
    assert_eq!(client.set_pin(&pin("12345")), Err(KeyError::PinPolicyViolation));
    client.set_pin(&pin("123456")).unwrap();
}

#[test]
fn a_forced_pin_change_blocks_tokens_until_the_pin_is_changed() {
    let (key, mut client) = blank_key();
    client.set_pin(&pin("1234")).unwrap();
    key.force_pin_change();
    assert!(client.info().unwrap().force_pin_change);
    assert_eq!(client.verify_pin(&pin("1234"), RP), Err(KeyError::PinChangeRequired));
    assert_eq!(client.change_pin(&pin("1234"), &pin("1234")), Err(KeyError::PinPolicyViolation));
    client.change_pin(&pin("1234"), &pin("5678")).unwrap();
    assert!(!client.info().unwrap().force_pin_change);
    client.verify_pin(&pin("5678"), RP).unwrap();
}

#[test]
fn nobody_touching_the_key_times_out_and_a_cancel_stops_the_wait() {
    let (key, mut client) = key_with(VirtualKeyConfig { touch: TouchPolicy::Never, touch_timeout: Duration::from_millis(400), ..VirtualKeyConfig::default() });
    let result = client.make_credential(&registration(b"u", vec![]), None, &mut no_events(), &CancelToken::new());
    assert_eq!(result, Err(KeyError::UserActionTimeout));
    assert!(key.credentials().is_empty());

    key.touch().set_policy(TouchPolicy::WhenPressed);
    let cancel = CancelToken::new();
    let canceller = cancel.clone();
    let result = client.make_credential(&registration(b"u", vec![]), None, &mut move |_| canceller.cancel(), &cancel);
    assert_eq!(result, Err(KeyError::Cancelled));
    assert!(key.credentials().is_empty());
}

#[test]
fn pulling_the_key_out_mid_touch_is_reported_as_removed() {
    let key = VirtualKey::new(VirtualKeyConfig { touch: TouchPolicy::WhenPressed, ..VirtualKeyConfig::default() }).unwrap();
    // The simulated user holds the device too, to pull it out.
    let device = key.plug_in();
    let mut client = virtual_key::open(device.clone()).unwrap();
    let result = client.make_credential(&registration(b"u", vec![]), None, &mut |_| { device.unplug(); }, &CancelToken::new());
    assert_eq!(result, Err(KeyError::Removed));
    assert!(key.credentials().is_empty());
}

#[test]
fn selection_waits_for_a_touch() {
    let (key, mut client) = key_with(VirtualKeyConfig { touch: TouchPolicy::After(Duration::from_millis(200)), ..VirtualKeyConfig::default() });
    let mut asked = false;
    client.select(&mut |e| asked |= e == KeyEvent::TouchNeeded, &CancelToken::new()).unwrap();
    assert!(asked);
    client.wink().unwrap();
    assert_eq!(key.winks(), 1);
}

#[test]
fn pin_protocol_one_works_end_to_end_for_keys_that_only_speak_it() {
    let (key, mut client) = key_with(VirtualKeyConfig { pin_protocols: vec![1], ..VirtualKeyConfig::default() });
    assert_eq!(client.info().unwrap().pin_uv_auth_protocols, vec![1]);
    client.set_pin(&pin("1234")).unwrap();
    assert_eq!(client.verify_pin(&pin("4321"), RP), Err(KeyError::PinInvalid { retries_left: 7 }));
    client.verify_pin(&pin("1234"), RP).unwrap();
    let credential = client.make_credential(&registration(b"u", vec![]), Some(&pin("1234")), &mut no_events(), &CancelToken::new()).unwrap();
    client.get_assertion(&sign_in(vec![credential.credential_id.clone()]), Some(&pin("1234")), &mut no_events(), &CancelToken::new()).unwrap();
    client.change_pin(&pin("1234"), &pin("98765")).unwrap();
    client.delete_credential(&credential.credential_id, &pin("98765")).unwrap();
    assert!(key.credentials().is_empty());
}

#[test]
fn one_pin_entry_serves_registration_and_the_test_sign_in() {
    let (_key, mut client) = blank_key();
    client.set_pin(&pin("1234")).unwrap();
    client.verify_pin(&pin("1234"), RP).unwrap();
    // The kept token pays for the registration; the sign-in gets a fresh one from the
    // same PIN entry (CTAP 2.1 spends a token per ceremony). No retry is used up.
    let credential = client.make_credential(&registration(b"u", vec![]), Some(&pin("1234")), &mut no_events(), &CancelToken::new()).unwrap();
    client.get_assertion(&sign_in(vec![credential.credential_id]), Some(&pin("1234")), &mut no_events(), &CancelToken::new()).unwrap();
    assert_eq!(client.pin_retries().unwrap().retries, 8);
}

#[test]
fn credential_management_lists_what_was_registered_per_relying_party() {
    let (_key, mut client) = blank_key();
    client.set_pin(&pin("1234")).unwrap();
    assert_eq!(client.list_credentials(&pin("1234"), RP).unwrap(), vec![]);
    let a = client.make_credential(&registration(b"user-a", vec![]), Some(&pin("1234")), &mut no_events(), &CancelToken::new()).unwrap();
    let b = client.make_credential(&registration(b"user-b", vec![]), Some(&pin("1234")), &mut no_events(), &CancelToken::new()).unwrap();
    let listed = client.list_credentials(&pin("1234"), RP).unwrap();
    let mut ids: Vec<_> = listed.iter().map(|c| c.credential_id.clone()).collect();
    ids.sort();
    let mut expected = vec![a.credential_id.clone(), b.credential_id];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(listed.iter().all(|c| c.user_name.as_deref() == Some("ada@contoso.com")));
    assert_eq!(client.list_credentials(&pin("1234"), "other.example").unwrap(), vec![]);
    assert_eq!(client.delete_credential(&a.credential_id, &pin("0000")), Err(KeyError::PinInvalid { retries_left: 7 }));
}

#[test]
fn reset_right_after_plugging_in_wipes_everything() {
    let (key, mut client) = blank_key();
    client.set_pin(&pin("1234")).unwrap();
    client.make_credential(&registration(b"u", vec![]), Some(&pin("1234")), &mut no_events(), &CancelToken::new()).unwrap();
    client.reset(&mut no_events(), &CancelToken::new()).unwrap();
    assert!(!key.has_pin());
    assert!(key.credentials().is_empty());
    assert_eq!(client.info().unwrap().client_pin(), Some(false));
}

#[test]
fn a_key_remembers_its_pin_and_passkeys_in_its_state_file() {
    let dir = std::env::temp_dir().join(format!("tap2key-virtual-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("key.json");
    let _ = std::fs::remove_file(&file);
    let config = VirtualKeyConfig { state_file: Some(file.clone()), ..VirtualKeyConfig::default() };
    let (_key, mut client) = key_with(config.clone());
    client.set_pin(&pin("1234")).unwrap();
    let credential = client.make_credential(&registration(b"u", vec![]), Some(&pin("1234")), &mut no_events(), &CancelToken::new()).unwrap();
    drop(client);

    let (again, mut client) = key_with(config);
    assert!(again.has_pin());
    assert_eq!(again.credentials().len(), 1);
    client.get_assertion(&sign_in(vec![credential.credential_id]), Some(&pin("1234")), &mut no_events(), &CancelToken::new()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(!stored.contains("1234"), "the PIN itself is never stored");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nobody_touching_during_selection_times_out() {
    let (_key, mut client) = key_with(VirtualKeyConfig { touch: TouchPolicy::Never, touch_timeout: Duration::from_millis(200), ..VirtualKeyConfig::default() });
    let info = client.info().unwrap();
    assert!(info.versions.contains(&"FIDO_2_1".to_string()));
    assert_eq!(client.select(&mut no_events(), &CancelToken::new()), Err(KeyError::UserActionTimeout));
}

/// Ids the key never made, like those another key registered for the same user.
fn strangers(count: u8) -> Vec<Vec<u8>> {
    (0..count).map(|i| vec![i; 48]).collect()
}

#[test]
fn an_exclude_list_longer_than_the_key_takes_is_checked_in_batches() {
    let (key, mut client) = blank_key();
    assert_eq!(client.info().unwrap().max_credential_count_in_list, Some(8));
    let first = client.make_credential(&registration(b"u", vec![]), None, &mut no_events(), &CancelToken::new()).unwrap();
    let mut exclude = strangers(20);
    exclude.insert(15, first.credential_id.clone());
    exclude.push(vec![9; 300]); // longer than maxCredentialIdLength: dropped by the client
    let again = client.make_credential(&registration(b"u", exclude.clone()), None, &mut no_events(), &CancelToken::new());
    assert_eq!(again, Err(KeyError::CredentialExcluded));

    exclude.remove(15);
    client.make_credential(&registration(b"v", exclude), None, &mut no_events(), &CancelToken::new()).unwrap();
    assert_eq!(key.credentials().len(), 2);
}

#[test]
fn an_allow_list_longer_than_the_key_takes_is_searched_in_batches() {
    let (_key, mut client) = blank_key();
    client.set_pin(&pin("1234")).unwrap();
    // credProtect 3: only found with UV, so the batch probes carry the PIN's token too.
    let request = MakeCredentialRequest { resident_key: false, cred_protect: Some(3), ..registration(b"u", vec![]) };
    let credential = client.make_credential(&request, Some(&pin("1234")), &mut no_events(), &CancelToken::new()).unwrap();
    let mut allow = strangers(20);
    allow.insert(17, credential.credential_id.clone());
    let mut touches = 0;
    let assertion = client
        .get_assertion(&sign_in(allow), Some(&pin("1234")), &mut |e| touches += (e == KeyEvent::TouchNeeded) as usize, &CancelToken::new())
        .unwrap();
    assert_eq!(assertion.credential_id, credential.credential_id);
    assert_eq!(assertion.authenticator_data[32] & 0x05, 0x05, "UP and UV set");
    assert_eq!(touches, 1, "the probes need no touch");

    let none = client.get_assertion(&sign_in(strangers(20)), Some(&pin("1234")), &mut no_events(), &CancelToken::new());
    assert_eq!(none, Err(KeyError::NoCredentials));
}

#[test]
fn plugging_the_key_in_again_pulls_it_out_of_where_it_was() {
    let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
    let first = key.plug_in();
    let second = key.plug_in();
    assert!(!first.is_plugged_in(), "one key cannot be in two ports");
    assert!(second.is_plugged_in());
    let mut client = virtual_key::open(second).unwrap();
    client.info().unwrap();
}

/// A key that says it holds a million credentials for the RP, and answers every "next" with
/// the same one, forever (up to a limit, so a failing test ends).
struct Braggart {
    inner: Box<dyn CtapHandler>,
    first: Option<Vec<u8>>,
    nexts: Arc<AtomicUsize>,
}

impl CtapHandler for Braggart {
    fn power_up(&mut self) {
        self.inner.power_up();
    }

    fn cbor(&mut self, request: &[u8], io: &mut dyn HidIo) -> Vec<u8> {
        let subcommand = || {
            let params: Value = ciborium::from_reader(&request[1..]).ok()?;
            params.as_map()?.iter().find(|(k, _)| *k == Value::from(1)).and_then(|(_, v)| v.as_integer())
        };
        if request.first() != Some(&0x0A) {
            return self.inner.cbor(request, io);
        }
        match subcommand().and_then(|s| u8::try_from(s).ok()) {
            Some(0x05) => match &self.first {
                Some(answer) if self.nexts.fetch_add(1, Ordering::SeqCst) < 5000 => answer.clone(),
                _ => vec![0x30],
            },
            Some(0x04) => {
                let answer = self.inner.cbor(request, io);
                let mut value: Value = ciborium::from_reader(&answer[1..]).unwrap();
                for (key, total) in value.as_map_mut().unwrap() {
                    if *key == Value::from(0x09) {
                        *total = Value::from(1_000_000);
                    }
                }
                let mut bragging = vec![0x00];
                ciborium::into_writer(&value, &mut bragging).unwrap();
                self.first = Some(answer);
                bragging
            }
            _ => self.inner.cbor(request, io),
        }
    }

    fn wink(&mut self) {
        self.inner.wink();
    }
}

#[test]
fn a_key_claiming_more_credentials_than_any_key_holds_is_not_believed() {
    let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
    let device = key.plug_in();
    let mut client = virtual_key::open(device.clone()).unwrap();
    client.set_pin(&pin("1234")).unwrap();
    client.make_credential(&registration(b"u", vec![]), Some(&pin("1234")), &mut no_events(), &CancelToken::new()).unwrap();
    drop(client);

    let nexts = Arc::new(AtomicUsize::new(0));
    let braggart = Braggart { inner: device.unplug().unwrap(), first: None, nexts: nexts.clone() };
    let mut client = virtual_key::open(HidDevice::plug_in(braggart)).unwrap();
    let listed = client.list_credentials(&pin("1234"), RP);
    assert!(matches!(listed, Err(KeyError::Protocol(_))), "{listed:?}");
    assert_eq!(nexts.load(Ordering::SeqCst), 0, "no credential was asked for");
}

#[test]
fn a_key_without_a_pin_has_no_token_to_give() {
    let (_key, mut client) = blank_key();
    assert_eq!(client.verify_pin(&pin("1234"), RP), Err(KeyError::PinNotSet));
    assert_eq!(client.delete_credential(&[1; 16], &pin("1234")), Err(KeyError::PinNotSet));
}

#[test]
fn signing_in_where_the_key_has_no_passkey_is_no_credentials() {
    let (_key, mut client) = blank_key();
    client.make_credential(&registration(b"u", vec![]), None, &mut no_events(), &CancelToken::new()).unwrap();
    let elsewhere = GetAssertionRequest { rp_id: "unknown.example".into(), ..sign_in(vec![]) };
    assert_eq!(client.get_assertion(&elsewhere, None, &mut no_events(), &CancelToken::new()), Err(KeyError::NoCredentials));
    assert_eq!(client.get_assertion(&sign_in(vec![vec![1; 48]]), None, &mut no_events(), &CancelToken::new()), Err(KeyError::NoCredentials));
}

#[test]
fn a_full_key_says_so() {
    let (key, mut client) = key_with(VirtualKeyConfig { max_credentials: 1, ..VirtualKeyConfig::default() });
    client.make_credential(&registration(b"first", vec![]), None, &mut no_events(), &CancelToken::new()).unwrap();
    let second = client.make_credential(&registration(b"second", vec![]), None, &mut no_events(), &CancelToken::new());
    assert_eq!(second, Err(KeyError::KeyStoreFull));
    // The same user again replaces the passkey rather than needing room.
    client.make_credential(&registration(b"first", vec![]), None, &mut no_events(), &CancelToken::new()).unwrap();
    // And a non-discoverable credential needs no room at all.
    let request = MakeCredentialRequest { resident_key: false, ..registration(b"second", vec![]) };
    client.make_credential(&request, None, &mut no_events(), &CancelToken::new()).unwrap();
    assert_eq!(key.credentials().len(), 1);
}
