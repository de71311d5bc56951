//! The virtual key at the byte level, through the host CTAPHID channel: what the `Key`
//! client does not exercise (getNextAssertion, malformed CBOR).

use std::time::Duration;

use ciborium::Value;
use proptest::prelude::*;
use tap2key_keys::{
    CancelToken,
    ctaphid::CtapHid,
    virtual_key::VirtualTransport,
};
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig};

fn channel(key: &VirtualKey) -> CtapHid<VirtualTransport> {
    CtapHid::open(tap2key_keys::virtual_key::transport(key.plug_in())).unwrap()
}

fn call(hid: &mut CtapHid<VirtualTransport>, command: u8, params: Option<Value>) -> Vec<u8> {
    let mut request = vec![command];
    if let Some(params) = params {
        ciborium::into_writer(&params, &mut request).unwrap();
    }
    hid.cbor(&request, &mut |_| {}, &CancelToken::new(), Duration::from_secs(5)).unwrap()
}

fn map(entries: Vec<(i64, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (Value::from(k), v)).collect())
}

fn text_map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (Value::from(k), v)).collect())
}

fn make_discoverable(hid: &mut CtapHid<VirtualTransport>, user: &[u8]) {
    let request = map(vec![
        (1, Value::Bytes(vec![1; 32])),
        (2, text_map(vec![("id", "example.com".into())])),
        (3, text_map(vec![("id", Value::Bytes(user.to_vec())), ("name", "n".into())])),
        (4, Value::Array(vec![text_map(vec![("alg", (-7).into()), ("type", "public-key".into())])])),
        (7, text_map(vec![("rk", true.into())])),
    ]);
    assert_eq!(call(hid, 0x01, Some(request))[0], 0x00);
}

#[test]
fn several_discoverable_credentials_come_newest_first_through_get_next_assertion() {
    let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
    let mut hid = channel(&key);
    for user in [b"first", b"secnd", b"third"] {
        make_discoverable(&mut hid, user);
    }
    let request = map(vec![(1, "example.com".into()), (2, Value::Bytes(vec![2; 32]))]);
    let first = call(&mut hid, 0x02, Some(request));
    assert_eq!(first[0], 0x00);
    let first: Value = ciborium::from_reader(&first[1..]).unwrap();
    let field = |v: &Value, k: i64| v.as_map().unwrap().iter().find(|(key, _)| *key == Value::from(k)).map(|(_, v)| v.clone());
    assert_eq!(field(&first, 5), Some(Value::from(3)), "numberOfCredentials");
    let user_id = |v: &Value| field(v, 4).unwrap().as_map().unwrap()[0].1.as_bytes().unwrap().clone();
    assert_eq!(user_id(&first), b"third");

    let second: Value = ciborium::from_reader(&call(&mut hid, 0x08, None)[1..]).unwrap();
    assert_eq!(user_id(&second), b"secnd");
    let third: Value = ciborium::from_reader(&call(&mut hid, 0x08, None)[1..]).unwrap();
    assert_eq!(user_id(&third), b"first");
    assert_eq!(call(&mut hid, 0x08, None), vec![0x30], "NOT_ALLOWED once all were returned");
    // Any other command ends the sequence.
    call(&mut hid, 0x04, None);
    assert_eq!(call(&mut hid, 0x08, None), vec![0x30]);
}

/// What browsers send to let a person pick a key: makeCredential with an empty
/// pinUvAuthParam. It waits for a touch, then always fails: PIN_NOT_SET or PIN_INVALID,
/// or OPERATION_DENIED when nobody touches.
#[test]
fn the_touch_probe_waits_for_a_touch_and_then_fails_by_design() {
    let probe = || {
        map(vec![
            (1, Value::Bytes(vec![0; 32])),
            (2, text_map(vec![("id", ".dummy".into())])),
            (3, text_map(vec![("id", Value::Bytes(vec![0]))])),
            (4, Value::Array(vec![text_map(vec![("alg", (-7).into()), ("type", "public-key".into())])])),
            (8, Value::Bytes(Vec::new())),
            (9, Value::from(1)),
        ])
    };
    let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
    assert_eq!(call(&mut channel(&key), 0x01, Some(probe())), vec![0x35]);
    let absent = VirtualKey::new(VirtualKeyConfig {
        touch: tap2key_virtual_key::TouchPolicy::Never,
        touch_timeout: Duration::from_millis(100),
        ..VirtualKeyConfig::default()
    })
    .unwrap();
    assert_eq!(call(&mut channel(&absent), 0x01, Some(probe())), vec![0x27]);
    assert!(key.credentials().is_empty());
}

#[test]
fn responses_are_canonical_cbor() {
    let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
    let mut hid = channel(&key);
    let info = call(&mut hid, 0x04, None);
    let value: Value = ciborium::from_reader(&info[1..]).unwrap();
    let mut again = Vec::new();
    ciborium::into_writer(&value, &mut again).unwrap();
    assert_eq!(&info[1..], again.as_slice(), "re-encoding changes nothing");
    let options = value.as_map().unwrap().iter().find(|(k, _)| *k == Value::from(4)).unwrap().1.clone();
    let names: Vec<String> = options.as_map().unwrap().iter().map(|(k, _)| k.as_text().unwrap().to_owned()).collect();
    assert_eq!(names, ["rk", "up", "plat", "credMgmt", "clientPin", "pinUvAuthToken", "makeCredUvNotRqd"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Malformed CBOR for every command gets a CTAP error status, never a crash, and the
    /// key keeps working.
    #[test]
    fn malformed_requests_get_an_error_status_and_the_key_keeps_working(
        command in prop::sample::select(vec![0x01u8, 0x02, 0x06, 0x07, 0x08, 0x0A, 0x0B, 0x42]),
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let key = VirtualKey::new(VirtualKeyConfig { touch_timeout: Duration::from_millis(50), ..VirtualKeyConfig::default() }).unwrap();
        let mut hid = channel(&key);
        let mut request = vec![command];
        request.extend_from_slice(&body);
        let response = hid.cbor(&request, &mut |_| {}, &CancelToken::new(), Duration::from_secs(5)).unwrap();
        prop_assert!(!response.is_empty());
        if response[0] == 0x00 {
            // Only a well-formed request may succeed; its answer is CBOR or nothing.
            prop_assert!(response.len() == 1 || ciborium::from_reader::<Value, _>(&response[1..]).is_ok());
        }
        let info = call(&mut hid, 0x04, None);
        prop_assert_eq!(info[0], 0x00);
    }
}

#[test]
fn get_info_reports_large_capacities_as_unsigned_integers() {
    let key = VirtualKey::new(VirtualKeyConfig { max_credentials: usize::MAX, ..VirtualKeyConfig::default() }).unwrap();
    let mut client = tap2key_keys::virtual_key::open(key.plug_in()).unwrap();
    let info = tap2key_keys::Key::info(&mut client).unwrap();
    assert_eq!(info.remaining_discoverable_credentials, Some(u64::try_from(usize::MAX).unwrap()));
}
