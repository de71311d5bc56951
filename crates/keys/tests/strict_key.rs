//! The virtual key is as strict as a real CTAP 2.1 key: requests and responses at the byte
//! level, with the PIN protocol from the client side (`tap2key_keys::pin_protocol`), which
//! shares no code with the key.

use std::{cmp::Ordering, time::Duration};

use ciborium::Value;
use sha2::{Digest, Sha256};
use tap2key_keys::{
    CancelToken, Pin,
    ctaphid::CtapHid,
    pin_protocol::{PinProtocol, PinUvAuthToken, SharedSecret, client_pin, permissions},
    virtual_key::{self, VirtualTransport},
};
use tap2key_virtual_key::{TouchPolicy, VirtualKey, VirtualKeyConfig};

const RP: &str = "example.com";
const PIN: &str = "1234";

// ---------------------------------------------------------------------------------------
// CBOR as the spec writes it, independent of both the client and the key
// ---------------------------------------------------------------------------------------

fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

/// CTAP 2.1 §8: major type, then encoded length, then bytes.
fn ctap_order(a: &Value, b: &Value) -> Ordering {
    let (a, b) = (encode(a), encode(b));
    (a[0] >> 5).cmp(&(b[0] >> 5)).then(a.len().cmp(&b.len())).then(a.cmp(&b))
}

/// Sorts every map into CTAP order, so that test requests are canonical however written.
fn canonical(value: Value) -> Value {
    match value {
        Value::Map(entries) => {
            let mut entries: Vec<(Value, Value)> = entries.into_iter().map(|(k, v)| (canonical(k), canonical(v))).collect();
            entries.sort_by(|a, b| ctap_order(&a.0, &b.0));
            Value::Map(entries)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// One data item in canonical form: shortest encodings (re-encoding changes nothing) and
/// every map's keys strictly ascending in CTAP order (so no repeats either).
fn assert_canonical(bytes: &[u8], what: &str) -> Value {
    let value: Value = ciborium::from_reader(bytes).unwrap_or_else(|e| panic!("{what}: not CBOR: {e}"));
    assert_eq!(encode(&value), bytes, "{what}: not in its shortest, definite-length form");
    fn ordered(value: &Value) -> bool {
        match value {
            Value::Map(entries) => {
                entries.windows(2).all(|pair| ctap_order(&pair[0].0, &pair[1].0) == Ordering::Less)
                    && entries.iter().all(|(k, v)| ordered(k) && ordered(v))
            }
            Value::Array(items) => items.iter().all(ordered),
            _ => true,
        }
    }
    assert!(ordered(&value), "{what}: map keys out of CTAP order: {value:?}");
    value
}

fn map(entries: Vec<(i64, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (Value::from(k), v)).collect())
}

fn text_map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (Value::from(k), v)).collect())
}

fn field(value: &Value, key: i64) -> Option<&Value> {
    value.as_map()?.iter().find(|(k, _)| *k == Value::from(key)).map(|(_, v)| v)
}

fn text_field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.as_map()?.iter().find(|(k, _)| k.as_text() == Some(key)).map(|(_, v)| v)
}

fn descriptor(id: &[u8]) -> Value {
    text_map(vec![("id", Value::Bytes(id.to_vec())), ("type", "public-key".into())])
}

fn es256() -> Value {
    Value::Array(vec![text_map(vec![("alg", (-7).into()), ("type", "public-key".into())])])
}

// ---------------------------------------------------------------------------------------
// A host that talks raw CTAP2 to the key
// ---------------------------------------------------------------------------------------

struct Host {
    hid: CtapHid<VirtualTransport>,
    protocol: PinProtocol,
}

/// What the key answered: its status byte and the CBOR after it.
#[derive(Debug)]
struct Answer {
    status: u8,
    cbor: Vec<u8>,
}

impl Answer {
    fn ok(self) -> Value {
        assert_eq!(self.status, 0x00, "CTAP status");
        assert_canonical(&self.cbor, "response")
    }
}

impl Host {
    fn new(key: &VirtualKey) -> Self {
        Self::with_protocol(key, PinProtocol::Two)
    }

    fn with_protocol(key: &VirtualKey, protocol: PinProtocol) -> Self {
        let hid = CtapHid::open(virtual_key::transport(key.plug_in())).unwrap();
        Self { hid, protocol }
    }

    /// Sends exactly these bytes.
    fn send(&mut self, request: &[u8]) -> Answer {
        let response = self.hid.cbor(request, &mut |_| {}, &CancelToken::new(), Duration::from_secs(5)).unwrap();
        let (&status, cbor) = response.split_first().expect("a status byte");
        Answer { status, cbor: cbor.to_vec() }
    }

    /// `command` followed by `params` in canonical form.
    fn call(&mut self, command: u8, params: Option<Value>) -> Answer {
        let mut request = vec![command];
        if let Some(params) = params {
            request.extend(encode(&canonical(params)));
        }
        self.send(&request)
    }

    fn key_agreement(&mut self) -> (Value, SharedSecret) {
        let answer = self.send(&client_pin::get_key_agreement_request(self.protocol));
        assert_eq!(answer.status, 0x00);
        let key = client_pin::parse_get_key_agreement_response(&answer.cbor).unwrap();
        SharedSecret::agree(self.protocol, &key).unwrap()
    }

    fn set_pin(&mut self) {
        let (platform_key, secret) = self.key_agreement();
        let answer = self.send(&client_pin::set_pin_request(&platform_key, &secret, &pin()));
        assert_eq!(answer.status, 0x00, "setPIN");
    }

    /// getPinUvAuthTokenUsingPinWithPermissions.
    fn token(&mut self, permissions: u8, rp_id: Option<&str>) -> PinUvAuthToken {
        let (platform_key, secret) = self.key_agreement();
        let request =
            client_pin::get_pin_uv_auth_token_using_pin_with_permissions_request(&platform_key, &secret, &pin(), permissions, rp_id)
                .unwrap();
        let answer = self.send(&request);
        assert_eq!(answer.status, 0x00, "token");
        client_pin::parse_pin_token_response(&answer.cbor, &secret).unwrap()
    }

    /// makeCredential for `rp_id`; `extra` entries are added to the request map.
    fn make_credential(&mut self, rp_id: &str, user: &[u8], extra: Vec<(i64, Value)>) -> Answer {
        let mut request = vec![
            (1, Value::Bytes(vec![1; 32])),
            (2, text_map(vec![("id", rp_id.into())])),
            (3, text_map(vec![("id", Value::Bytes(user.to_vec())), ("name", "n".into()), ("displayName", "N".into())])),
            (4, es256()),
        ];
        request.extend(extra);
        self.call(0x01, Some(map(request)))
    }

    /// makeCredential paid for with `token`.
    fn make_credential_with(&mut self, token: &PinUvAuthToken, rp_id: &str, user: &[u8], mut extra: Vec<(i64, Value)>) -> Answer {
        extra.push((8, Value::Bytes(token.authenticate(&[1; 32]))));
        extra.push((9, Value::from(token.protocol().number())));
        self.make_credential(rp_id, user, extra)
    }

    /// A discoverable credential made with a fresh token; returns its id.
    fn discoverable(&mut self, user: &[u8], extra: Vec<(i64, Value)>) -> Vec<u8> {
        let token = self.token(permissions::MAKE_CREDENTIAL, Some(RP));
        let mut extra = extra;
        extra.push((7, text_map(vec![("rk", true.into())])));
        let response = self.make_credential_with(&token, RP, user, extra).ok();
        credential_id(field(&response, 2).unwrap().as_bytes().unwrap())
    }

    fn get_assertion(&mut self, rp_id: &str, allow: &[&[u8]], extra: Vec<(i64, Value)>) -> Answer {
        let mut request = vec![(1, rp_id.into()), (2, Value::Bytes(vec![2; 32]))];
        if !allow.is_empty() {
            request.push((3, Value::Array(allow.iter().map(|id| descriptor(id)).collect())));
        }
        request.extend(extra);
        self.call(0x02, Some(map(request)))
    }

    fn get_assertion_with(&mut self, token: &PinUvAuthToken, rp_id: &str, allow: &[&[u8]], mut extra: Vec<(i64, Value)>) -> Answer {
        extra.push((6, Value::Bytes(token.authenticate(&[2; 32]))));
        extra.push((7, Value::from(token.protocol().number())));
        self.get_assertion(rp_id, allow, extra)
    }

    /// credentialManagement with `token`: {1: sub, 2?: params, 3: protocol, 4: param}.
    fn credential_management(&mut self, token: &PinUvAuthToken, subcommand: u8, sub_params: Option<Value>) -> Answer {
        let sub_params = sub_params.map(canonical);
        let mut message = vec![subcommand];
        if let Some(sub_params) = &sub_params {
            message.extend(encode(sub_params));
        }
        let mut request = vec![(1, Value::from(subcommand))];
        if let Some(sub_params) = sub_params {
            request.push((2, sub_params));
        }
        request.push((3, Value::from(token.protocol().number())));
        request.push((4, Value::Bytes(token.authenticate(&message))));
        self.call(0x0A, Some(map(request)))
    }
}

fn pin() -> Pin {
    Pin::new(PIN, 4).unwrap()
}

fn blank_key() -> VirtualKey {
    VirtualKey::new(VirtualKeyConfig::default()).unwrap()
}

/// The credential id inside attested authenticatorData.
fn credential_id(auth_data: &[u8]) -> Vec<u8> {
    let length = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
    auth_data[55..55 + length].to_vec()
}

/// The extensions map at the end of authenticatorData, checked to be canonical.
fn auth_data_extensions(auth_data: &[u8]) -> Option<Value> {
    if auth_data[32] & 0x80 == 0 {
        return None;
    }
    let mut rest = &auth_data[37..];
    if auth_data[32] & 0x40 != 0 {
        let length = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
        rest = &auth_data[55 + length..];
        let before = rest.len();
        let key: Value = ciborium::from_reader(&mut rest).unwrap();
        assert_canonical(&auth_data[auth_data.len() - before..auth_data.len() - rest.len()], "credential public key");
        drop(key);
    }
    Some(assert_canonical(rest, "authenticatorData extensions"))
}

fn rp_id_hash(rp_id: &str) -> Vec<u8> {
    Sha256::digest(rp_id.as_bytes()).to_vec()
}

// ---------------------------------------------------------------------------------------
// Canonical CBOR, both ways
// ---------------------------------------------------------------------------------------

#[test]
fn non_canonical_requests_are_invalid_cbor_on_the_wire() {
    let key = blank_key();
    let mut host = Host::new(&key);
    // getAssertion {2: cdh, 1: rpId}: keys out of order.
    let mut request = vec![0x02, 0xa2, 0x02, 0x58, 0x20];
    request.extend([0u8; 32]);
    request.extend([0x01, 0x61, b'x']);
    assert_eq!(host.send(&request).status, 0x12);
    // {1: "x", 1: "x"}: a repeated key.
    assert_eq!(host.send(&[0x02, 0xa2, 0x01, 0x61, b'x', 0x01, 0x61, b'x']).status, 0x12);
    // clientPIN {1: 2, 2: 1} with protocol written as 0x18 0x02.
    assert_eq!(host.send(&[0x06, 0xa2, 0x01, 0x18, 0x02, 0x02, 0x01]).status, 0x12);
    assert_eq!(host.send(&[0x06, 0xa2, 0x01, 0x02, 0x02, 0x01]).status, 0x00, "the same request, canonical");
}

#[test]
fn every_response_is_canonical() {
    let key = blank_key();
    let mut host = Host::new(&key);
    host.call(0x04, None).ok();
    host.set_pin();
    // clientPIN: retries, key agreement, token.
    host.send(&client_pin::get_pin_retries_request(host.protocol)).ok();
    host.send(&client_pin::get_key_agreement_request(host.protocol)).ok();
    host.token(permissions::MAKE_CREDENTIAL, Some(RP));

    // makeCredential with both extensions: the response and the maps inside authData.
    let extensions = text_map(vec![("hmac-secret", true.into()), ("credProtect", 2.into())]);
    let token = host.token(permissions::MAKE_CREDENTIAL, Some(RP));
    let made = host.make_credential_with(&token, RP, b"user", vec![(6, extensions), (7, text_map(vec![("rk", true.into())]))]).ok();
    let auth_data = field(&made, 2).unwrap().as_bytes().unwrap().clone();
    let outputs = auth_data_extensions(&auth_data).expect("extension outputs");
    assert_eq!(text_field(&outputs, "credProtect"), Some(&Value::from(2)));
    let id = credential_id(&auth_data);

    // getAssertion, discoverable (user entity and count) and by id.
    host.discoverable(b"user 2", vec![]);
    let token = host.token(permissions::GET_ASSERTION, Some(RP));
    let assertion = host.get_assertion_with(&token, RP, &[], vec![]).ok();
    assert_eq!(field(&assertion, 5), Some(&Value::from(2)));
    host.call(0x08, None).ok();
    host.get_assertion(RP, &[&id], vec![]).ok();

    // credentialManagement: metadata, RPs, credentials.
    let token = host.token(permissions::CREDENTIAL_MANAGEMENT, None);
    host.credential_management(&token, 0x01, None).ok();
    host.credential_management(&token, 0x02, None).ok();
    let listed = host.credential_management(&token, 0x04, Some(map(vec![(1, Value::Bytes(rp_id_hash(RP)))]))).ok();
    assert!(field(&listed, 8).is_some(), "public key");
    host.call(0x0A, Some(map(vec![(1, 0x05.into())]))).ok();
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

#[test]
fn an_unknown_command_is_invalid_command_whatever_follows_it() {
    let key = blank_key();
    let mut host = Host::new(&key);
    for command in [0x03, 0x05, 0x09, 0x0C, 0x0D, 0x41, 0x42, 0xBF] {
        assert_eq!(host.send(&[command, 0xff, 0x00, 0x13]).status, 0x01, "command {command:#04x}");
        assert_eq!(host.send(&[command]).status, 0x01, "command {command:#04x}");
    }
}

// ---------------------------------------------------------------------------------------
// makeCredential and getAssertion parameters
// ---------------------------------------------------------------------------------------

/// A key whose user never touches it, and gives up quickly.
fn untouched_key() -> VirtualKey {
    VirtualKey::new(VirtualKeyConfig {
        touch: TouchPolicy::Never,
        touch_timeout: Duration::from_millis(300),
        ..VirtualKeyConfig::default()
    })
    .unwrap()
}

#[test]
fn a_malformed_user_entity_is_refused_before_asking_for_a_touch() {
    let key = untouched_key();
    let mut host = Host::new(&key);
    for user in [
        text_map(vec![("id", Value::Bytes(vec![1])), ("name", Value::Bytes(b"n".to_vec()))]),
        text_map(vec![("id", Value::Bytes(vec![1])), ("displayName", 7.into())]),
        text_map(vec![("id", "not bytes".into())]),
    ] {
        let request = map(vec![
            (1, Value::Bytes(vec![1; 32])),
            (2, text_map(vec![("id", RP.into())])),
            (3, user),
            (4, es256()),
        ]);
        assert_eq!(host.call(0x01, Some(request)).status, 0x11, "CBOR_UNEXPECTED_TYPE, not USER_ACTION_TIMEOUT");
    }
    let bad_rp = map(vec![
        (1, Value::Bytes(vec![1; 32])),
        (2, text_map(vec![("id", RP.into()), ("name", 1.into())])),
        (3, text_map(vec![("id", Value::Bytes(vec![1]))])),
        (4, es256()),
    ]);
    assert_eq!(host.call(0x01, Some(bad_rp)).status, 0x11);
}

#[test]
fn an_excluded_credential_is_credential_excluded_even_without_a_touch() {
    let key = untouched_key();
    key.touch().set_policy(TouchPolicy::Immediately);
    let mut host = Host::new(&key);
    let made = host.make_credential(RP, b"u", vec![]).ok();
    let id = credential_id(field(&made, 2).unwrap().as_bytes().unwrap());
    key.touch().set_policy(TouchPolicy::Never);
    let again = host.make_credential(RP, b"u", vec![(5, Value::Array(vec![descriptor(&id)]))]);
    assert_eq!(again.status, 0x19, "CREDENTIAL_EXCLUDED after the touch timed out");
}

#[test]
fn the_touch_probe_reports_a_cancel_as_keepalive_cancel() {
    let key = VirtualKey::new(VirtualKeyConfig { touch: TouchPolicy::WhenPressed, ..VirtualKeyConfig::default() }).unwrap();
    let mut host = Host::new(&key);
    let probe = map(vec![
        (1, Value::Bytes(vec![0; 32])),
        (2, text_map(vec![("id", ".dummy".into())])),
        (3, text_map(vec![("id", Value::Bytes(vec![0]))])),
        (4, es256()),
        (8, Value::Bytes(Vec::new())),
        (9, Value::from(1)),
    ]);
    let cancel = CancelToken::new();
    let canceller = cancel.clone();
    let request = [vec![0x01], encode(&probe)].concat();
    let answer = host.hid.cbor(&request, &mut |_| canceller.cancel(), &cancel, Duration::from_secs(5)).unwrap();
    assert_eq!(answer, [0x2D]);
}

#[test]
fn descriptors_of_another_type_are_skipped_not_matched() {
    let key = blank_key();
    let mut host = Host::new(&key);
    let made = host.make_credential(RP, b"u", vec![]).ok();
    let id = credential_id(field(&made, 2).unwrap().as_bytes().unwrap());
    let other_type = text_map(vec![("id", Value::Bytes(id.clone())), ("type", "not-public-key".into())]);
    host.make_credential(RP, b"u", vec![(5, Value::Array(vec![other_type.clone()]))]).ok();
    let request = map(vec![(1, RP.into()), (2, Value::Bytes(vec![2; 32])), (3, Value::Array(vec![other_type]))]);
    assert_eq!(host.call(0x02, Some(request)).status, 0x2E, "an allowList of unknown types matches nothing");
    // A descriptor without its type is malformed.
    let untyped = text_map(vec![("id", Value::Bytes(id))]);
    assert_eq!(host.make_credential(RP, b"u", vec![(5, Value::Array(vec![untyped]))]).status, 0x14);
}

#[test]
fn lists_longer_than_max_credential_count_in_list_are_limit_exceeded() {
    let key = blank_key();
    let mut host = Host::new(&key);
    let info = host.call(0x04, None).ok();
    assert_eq!(field(&info, 7), Some(&Value::from(8)), "maxCredentialCountInList");
    assert_eq!(field(&info, 8), Some(&Value::from(128)), "maxCredentialIdLength");
    let made = host.make_credential(RP, b"u", vec![]).ok();
    let id = credential_id(field(&made, 2).unwrap().as_bytes().unwrap());
    let list = |count: usize| {
        let mut ids: Vec<Vec<u8>> = (0..count - 1).map(|i| vec![i as u8; 16]).collect();
        ids.push(id.clone());
        ids
    };
    let descriptors = |ids: &[Vec<u8>]| Value::Array(ids.iter().map(|id| descriptor(id)).collect());

    assert_eq!(host.make_credential(RP, b"u", vec![(5, descriptors(&list(8)))]).status, 0x19);
    assert_eq!(host.make_credential(RP, b"u", vec![(5, descriptors(&list(9)))]).status, 0x15);
    let nine = list(9);
    let nine: Vec<&[u8]> = nine.iter().map(Vec::as_slice).collect();
    assert_eq!(host.get_assertion(RP, &nine, vec![]).status, 0x15);
    assert_eq!(host.get_assertion(RP, &nine[1..], vec![]).status, 0x00);
}

#[test]
fn ids_longer_than_max_credential_id_length_are_not_matched_and_not_an_error() {
    let key = blank_key();
    let mut host = Host::new(&key);
    let made = host.make_credential(RP, b"u", vec![]).ok();
    let id = credential_id(field(&made, 2).unwrap().as_bytes().unwrap());
    let long = vec![7u8; 2000];
    let found = host.get_assertion(RP, &[&long, &id], vec![]).ok();
    assert_eq!(text_field(field(&found, 1).unwrap(), "id").unwrap().as_bytes(), Some(&id));
    assert_eq!(host.get_assertion(RP, &[&long], vec![]).status, 0x2E);
}

// ---------------------------------------------------------------------------------------
// clientPIN
// ---------------------------------------------------------------------------------------

#[test]
fn set_pin_checks_its_parameters_before_whether_a_pin_is_set() {
    let key = blank_key();
    let mut host = Host::new(&key);
    host.set_pin();
    let (platform_key, _) = host.key_agreement();
    let set_pin = |parameters: Vec<(i64, Value)>| {
        let mut request = vec![(1, Value::from(2)), (2, Value::from(3))];
        request.extend(parameters);
        map(request)
    };
    let param = (4, Value::Bytes(vec![0; 32]));
    let new_pin_enc = (5, Value::Bytes(vec![0; 80]));
    let agreement = (3, platform_key);
    for missing in [
        set_pin(vec![param.clone(), new_pin_enc.clone()]),
        set_pin(vec![agreement.clone(), new_pin_enc.clone()]),
        set_pin(vec![agreement.clone(), param.clone()]),
    ] {
        assert_eq!(host.call(0x06, Some(missing)).status, 0x14, "MISSING_PARAMETER");
    }
    let complete = set_pin(vec![agreement, param, new_pin_enc]);
    assert_eq!(host.call(0x06, Some(complete)).status, 0x33, "a PIN is already set: PIN_AUTH_INVALID");
}

// ---------------------------------------------------------------------------------------
// hmac-secret
// ---------------------------------------------------------------------------------------

/// getAssertion's hmac-secret input for `salts` over a fresh key agreement, and the shared
/// secret that decrypts the output.
fn hmac_secret_input(host: &mut Host, salts: &[u8]) -> (Value, SharedSecret) {
    let (platform_key, secret) = host.key_agreement();
    let salt_enc = secret.encrypt(salts);
    let salt_auth = secret.authenticate(&salt_enc);
    let input = map(vec![
        (1, platform_key),
        (2, Value::Bytes(salt_enc)),
        (3, Value::Bytes(salt_auth)),
        (4, Value::from(host.protocol.number())),
    ]);
    (text_map(vec![("hmac-secret", input)]), secret)
}

/// The decrypted hmac-secret output of an assertion, if it has one.
fn hmac_secret_output(assertion: &Value, secret: &SharedSecret) -> Option<Vec<u8>> {
    let auth_data = field(assertion, 2).unwrap().as_bytes().unwrap();
    let extensions = auth_data_extensions(auth_data)?;
    let encrypted = text_field(&extensions, "hmac-secret")?.as_bytes().unwrap();
    Some(secret.decrypt(encrypted).unwrap().to_vec())
}

/// One assertion by `id` with hmac-secret over `salts`: the decrypted output.
fn hmac_secret(host: &mut Host, id: &[u8], salts: &[u8], token: Option<&PinUvAuthToken>) -> Option<Vec<u8>> {
    let (input, secret) = hmac_secret_input(host, salts);
    let answer = match token {
        Some(token) => host.get_assertion_with(token, RP, &[id], vec![(4, input)]),
        None => host.get_assertion(RP, &[id], vec![(4, input)]),
    };
    hmac_secret_output(&answer.ok(), &secret)
}

const SALT_1: [u8; 32] = [0x11; 32];
const SALT_2: [u8; 32] = [0x22; 32];

#[test]
fn hmac_secret_gives_each_credential_stable_secrets_per_salt_with_both_protocols() {
    for protocol in [PinProtocol::One, PinProtocol::Two] {
        let key = blank_key();
        let mut host = Host::with_protocol(&key, protocol);
        let with_hmac = text_map(vec![("hmac-secret", true.into())]);
        let made = host.make_credential(RP, b"u", vec![(6, with_hmac.clone())]).ok();
        let auth_data = field(&made, 2).unwrap().as_bytes().unwrap();
        assert_eq!(text_field(&auth_data_extensions(auth_data).unwrap(), "hmac-secret"), Some(&Value::Bool(true)));
        let id = credential_id(auth_data);
        let other = credential_id(field(&host.make_credential(RP, b"u", vec![(6, with_hmac)]).ok(), 2).unwrap().as_bytes().unwrap());

        let first = hmac_secret(&mut host, &id, &SALT_1, None).expect("an hmac-secret output");
        assert_eq!(first.len(), 32, "{protocol:?}");
        assert_eq!(hmac_secret(&mut host, &id, &SALT_1, None).unwrap(), first, "same credential, same salt");
        let both = hmac_secret(&mut host, &id, &[SALT_1, SALT_2].concat(), None).unwrap();
        assert_eq!((both.len(), &both[..32]), (64, first.as_slice()));
        assert_ne!(both[32..], first[..], "another salt, another secret");
        assert_ne!(hmac_secret(&mut host, &other, &SALT_1, None).unwrap(), first, "another credential");

        // The secret lives in the credential id itself: it survives a power cycle.
        let mut host = Host::with_protocol(&key, protocol);
        assert_eq!(hmac_secret(&mut host, &id, &SALT_1, None).unwrap(), first);

        // With UV the credential answers from its other random.
        host.set_pin();
        let token = host.token(permissions::GET_ASSERTION, Some(RP));
        let verified = hmac_secret(&mut host, &id, &SALT_1, Some(&token)).unwrap();
        assert_ne!(verified, first, "CredRandomWithUV differs from CredRandomWithoutUV");
    }
}

#[test]
fn hmac_secret_works_for_discoverable_credentials_through_get_next_assertion() {
    let key = blank_key();
    let mut host = Host::new(&key);
    host.set_pin();
    let with_hmac = || vec![(6, text_map(vec![("hmac-secret", true.into())]))];
    host.discoverable(b"first", with_hmac());
    host.discoverable(b"second", with_hmac());
    let token = host.token(permissions::GET_ASSERTION, Some(RP));
    let (input, secret) = hmac_secret_input(&mut host, &SALT_1);
    let newest = host.get_assertion_with(&token, RP, &[], vec![(4, input)]).ok();
    let next = host.call(0x08, None).ok();
    let (newest, next) = (hmac_secret_output(&newest, &secret).unwrap(), hmac_secret_output(&next, &secret).unwrap());
    assert_ne!(newest, next);
}

#[test]
fn hmac_secret_input_is_checked() {
    let key = blank_key();
    let mut host = Host::new(&key);
    let made = host.make_credential(RP, b"u", vec![(6, text_map(vec![("hmac-secret", true.into())]))]).ok();
    let id = credential_id(field(&made, 2).unwrap().as_bytes().unwrap());
    /// The hmac-secret input's entries, to spoil.
    type Entries = Vec<(Value, Value)>;
    let with_input = |host: &mut Host, edit: &dyn Fn(&mut Entries)| {
        let (mut input, _) = hmac_secret_input(host, &SALT_1);
        let Value::Map(outer) = &mut input else { unreachable!() };
        let Value::Map(inner) = &mut outer[0].1 else { unreachable!() };
        edit(inner);
        host.get_assertion(RP, &[&id], vec![(4, input)]).status
    };
    let set = |key: i64, value: Value| {
        move |inner: &mut Entries| inner.iter_mut().find(|(k, _)| *k == Value::from(key)).unwrap().1 = value.clone()
    };
    assert_eq!(with_input(&mut host, &set(3, Value::Bytes(vec![0; 32]))), 0x33, "a wrong saltAuth");
    assert_eq!(with_input(&mut host, &|inner| inner.retain(|(k, _)| *k != Value::from(3))), 0x14, "no saltAuth");
    assert_eq!(with_input(&mut host, &set(4, Value::from(3))), 0x02, "an unknown protocol");
    assert_eq!(with_input(&mut host, &set(2, Value::from(3))), 0x11, "saltEnc is not bytes");

    // 48 bytes of salt, correctly encrypted and authenticated.
    let (platform_key, secret) = host.key_agreement();
    let salt_enc = secret.encrypt(&[7; 48]);
    let input = map(vec![
        (1, platform_key),
        (2, Value::Bytes(salt_enc.clone())),
        (3, Value::Bytes(secret.authenticate(&salt_enc))),
        (4, Value::from(2)),
    ]);
    let answer = host.get_assertion(RP, &[&id], vec![(4, text_map(vec![("hmac-secret", input)]))]);
    assert_eq!(answer.status, 0x02, "salts are 32 or 64 bytes");
}

#[test]
fn a_credential_made_without_hmac_secret_has_no_output() {
    let key = blank_key();
    let mut host = Host::new(&key);
    let made = host.make_credential(RP, b"u", vec![]).ok();
    let id = credential_id(field(&made, 2).unwrap().as_bytes().unwrap());
    assert_eq!(hmac_secret(&mut host, &id, &SALT_1, None), None);
}

// ---------------------------------------------------------------------------------------
// credentialManagement with a token bound to one RP
// ---------------------------------------------------------------------------------------

#[test]
fn a_token_bound_to_an_rp_manages_that_rp_only() {
    const OTHER: &str = "other.example";
    let key = blank_key();
    let mut host = Host::new(&key);
    host.set_pin();
    let ours = host.discoverable(b"u", vec![]);
    let token = host.token(permissions::MAKE_CREDENTIAL, Some(OTHER));
    host.make_credential_with(&token, OTHER, b"v", vec![(7, text_map(vec![("rk", true.into())]))]).ok();
    let theirs = key.credentials().into_iter().find(|c| c.rp_id == OTHER).unwrap().id;

    let bound = host.token(permissions::CREDENTIAL_MANAGEMENT, Some(RP));
    let enumerate = |rp_id: &str| Some(map(vec![(1, Value::Bytes(rp_id_hash(rp_id)))]));
    let delete = |id: &[u8]| Some(map(vec![(2, descriptor(id))]));
    assert_eq!(host.credential_management(&bound, 0x01, None).status, 0x33, "metadata needs an unbound token");
    assert_eq!(host.credential_management(&bound, 0x02, None).status, 0x33, "so does the RP list");
    assert_eq!(host.credential_management(&bound, 0x04, enumerate(OTHER)).status, 0x33);
    assert_eq!(host.credential_management(&bound, 0x04, enumerate("nobody.example")).status, 0x33, "not NO_CREDENTIALS");
    assert_eq!(host.credential_management(&bound, 0x04, enumerate(RP)).status, 0x00);
    assert_eq!(host.credential_management(&bound, 0x06, delete(&theirs)).status, 0x33);
    assert_eq!(host.credential_management(&bound, 0x06, delete(&[9; 48])).status, 0x33, "unknown: not NO_CREDENTIALS");
    assert_eq!(host.credential_management(&bound, 0x06, delete(&ours)).status, 0x00);
    assert_eq!(key.credentials().len(), 1);

    let unbound = host.token(permissions::CREDENTIAL_MANAGEMENT, None);
    assert_eq!(host.credential_management(&unbound, 0x06, delete(&[9; 48])).status, 0x2E);
    assert_eq!(host.credential_management(&unbound, 0x04, enumerate("nobody.example")).status, 0x2E);
    assert_eq!(host.credential_management(&unbound, 0x06, delete(&theirs)).status, 0x00);
}

// ---------------------------------------------------------------------------------------
// Errors a client meets, at the byte level
// ---------------------------------------------------------------------------------------

#[test]
fn a_request_without_es256_is_unsupported_algorithm() {
    let key = blank_key();
    let mut host = Host::new(&key);
    let rs256_only = map(vec![
        (1, Value::Bytes(vec![1; 32])),
        (2, text_map(vec![("id", RP.into())])),
        (3, text_map(vec![("id", Value::Bytes(vec![1]))])),
        (4, Value::Array(vec![text_map(vec![("alg", (-257).into()), ("type", "public-key".into())])])),
    ]);
    assert_eq!(host.call(0x01, Some(rs256_only)).status, 0x26);
    // ES256 of another credential type does not count either.
    let other_type = map(vec![
        (1, Value::Bytes(vec![1; 32])),
        (2, text_map(vec![("id", RP.into())])),
        (3, text_map(vec![("id", Value::Bytes(vec![1]))])),
        (4, Value::Array(vec![text_map(vec![("alg", (-7).into()), ("type", "secret-key".into())])])),
    ]);
    assert_eq!(host.call(0x01, Some(other_type)).status, 0x26);
    assert!(key.credentials().is_empty());
}

#[test]
fn a_token_for_another_rp_or_without_the_permission_is_pin_auth_invalid() {
    const OTHER: &str = "other.example";
    let key = blank_key();
    let mut host = Host::new(&key);
    host.set_pin();
    let id = host.discoverable(b"u", vec![]);

    let elsewhere = host.token(permissions::MAKE_CREDENTIAL | permissions::GET_ASSERTION, Some(OTHER));
    assert_eq!(host.make_credential_with(&elsewhere, RP, b"v", vec![]).status, 0x33);
    assert_eq!(host.get_assertion_with(&elsewhere, RP, &[&id], vec![]).status, 0x33);

    let assert_only = host.token(permissions::GET_ASSERTION, Some(RP));
    assert_eq!(host.make_credential_with(&assert_only, RP, b"v", vec![]).status, 0x33);
    let register_only = host.token(permissions::MAKE_CREDENTIAL, Some(RP));
    assert_eq!(host.get_assertion_with(&register_only, RP, &[&id], vec![]).status, 0x33);
    let manage_only = host.token(permissions::CREDENTIAL_MANAGEMENT, None);
    assert_eq!(host.make_credential_with(&manage_only, RP, b"v", vec![]).status, 0x33);
    let ceremonies = host.token(permissions::MAKE_CREDENTIAL | permissions::GET_ASSERTION, Some(RP));
    assert_eq!(host.credential_management(&ceremonies, 0x01, None).status, 0x33);
    // What is left works, once: a ceremony spends the token's mc and ga permissions.
    assert_eq!(host.get_assertion_with(&ceremonies, RP, &[&id], vec![]).status, 0x00);
    assert_eq!(host.get_assertion_with(&ceremonies, RP, &[&id], vec![]).status, 0x33);
    assert_eq!(key.credentials().len(), 1);
}

#[test]
fn cred_protect_hides_credentials_that_need_uv_or_their_id() {
    let key = blank_key();
    let mut host = Host::new(&key);
    host.set_pin();
    let level = |n: i64| vec![(6, text_map(vec![("credProtect", n.into())]))];
    let optional = host.discoverable(b"one", level(1));
    let with_id = host.discoverable(b"two", level(2));
    let with_uv = host.discoverable(b"three", level(3));
    let found = |answer: Answer| {
        let value = answer.ok();
        let user = field(&value, 4).unwrap();
        (text_field(user, "id").unwrap().as_bytes().unwrap().clone(), field(&value, 5).cloned())
    };

    // No UV, no allow list: only level 1.
    assert_eq!(found(host.get_assertion(RP, &[], vec![])), (b"one".to_vec(), None));
    // No UV, by id: level 2 too, never level 3.
    assert_eq!(found(host.get_assertion(RP, &[&with_id], vec![])).0, b"two");
    assert_eq!(host.get_assertion(RP, &[&with_uv], vec![]).status, 0x2E);
    assert_eq!(found(host.get_assertion(RP, &[&with_uv, &optional], vec![])).0, b"one");
    // With UV: all three, newest first.
    let token = host.token(permissions::GET_ASSERTION, Some(RP));
    assert_eq!(found(host.get_assertion_with(&token, RP, &[], vec![])), (b"three".to_vec(), Some(Value::from(3))));
    let token = host.token(permissions::GET_ASSERTION, Some(RP));
    assert_eq!(found(host.get_assertion_with(&token, RP, &[&with_uv], vec![])).0, b"three");

    // The same rules for a credential that lives in its id (made without UV:
    // makeCredUvNotRqd).
    let made = host.make_credential(RP, b"four", level(3)).ok();
    let wrapped = credential_id(field(&made, 2).unwrap().as_bytes().unwrap());
    assert_eq!(host.get_assertion(RP, &[&wrapped], vec![]).status, 0x2E);
    let token = host.token(permissions::GET_ASSERTION, Some(RP));
    host.get_assertion_with(&token, RP, &[&wrapped], vec![]).ok();
    let made = host.make_credential(RP, b"five", level(2)).ok();
    let wrapped = credential_id(field(&made, 2).unwrap().as_bytes().unwrap());
    host.get_assertion(RP, &[&wrapped], vec![]).ok();
}

/// getPinToken (0x05), what CTAP 2.0 platforms use: a token for makeCredential and
/// getAssertion on any RP, and nothing else.
#[test]
fn a_get_pin_token_token_serves_ceremonies_on_any_rp_only() {
    let key = blank_key();
    let mut host = Host::new(&key);
    host.set_pin();
    let get_pin_token = |host: &mut Host| {
        let (platform_key, secret) = host.key_agreement();
        let answer = host.send(&client_pin::get_pin_token_request(&platform_key, &secret, &pin()));
        assert_eq!(answer.status, 0x00, "getPinToken");
        client_pin::parse_pin_token_response(&answer.cbor, &secret).unwrap()
    };
    let token = get_pin_token(&mut host);
    host.make_credential_with(&token, "a.example", b"u", vec![]).ok();
    let token = get_pin_token(&mut host);
    host.make_credential_with(&token, "b.example", b"u", vec![]).ok();
    let token = get_pin_token(&mut host);
    assert_eq!(host.credential_management(&token, 0x01, None).status, 0x33, "no cm permission");

    // With permissions or an RP id it is not getPinToken any more.
    let (platform_key, secret) = host.key_agreement();
    let request = client_pin::get_pin_token_request(&platform_key, &secret, &pin());
    let mut value: Value = ciborium::from_reader(&request[1..]).unwrap();
    value.as_map_mut().unwrap().push((Value::from(9), Value::from(1)));
    assert_eq!(host.call(0x06, Some(value)).status, 0x02);
}
