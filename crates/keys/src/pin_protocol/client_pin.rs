//! authenticatorClientPIN (0x06) requests and responses, CTAP 2.1 §6.5.5.
//!
//! Builders return the whole CTAP2 request, `0x06 ‖ CBOR map`, ready for a CTAPHID CBOR message.
//! Parsers take what follows the status byte of a successful (0x00) response; mapping error statuses
//! is the transport's business. Unknown response keys are ignored, as CTAP asks of platforms.
//!
//! A typical getPinUvAuthTokenUsingPinWithPermissions:
//! ```ignore
//! let key = parse_get_key_agreement_response(&send(get_key_agreement_request(protocol))?)?;
//! let (platform_key, secret) = SharedSecret::agree(protocol, &key)?;
//! let request = get_pin_uv_auth_token_using_pin_with_permissions_request(
//!     &platform_key, &secret, &pin, permissions::MAKE_CREDENTIAL, Some("example.com"))?;
//! let token = parse_pin_token_response(&send(request)?, &secret)?;
//! ```

use ciborium::Value;

use super::{Pin, PinProtocol, PinProtocolError, PinUvAuthToken, SharedSecret, cbor, cose};

/// The CTAP2 command byte of authenticatorClientPIN.
pub const COMMAND: u8 = 0x06;

/// The clientPIN subcommands this module builds (key 0x02 of the request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubCommand {
    GetPinRetries = 0x01,
    GetKeyAgreement = 0x02,
    SetPin = 0x03,
    ChangePin = 0x04,
    /// The CTAP 2.0 way to get a token, still the only one a 2.0 authenticator (no `pinUvAuthToken`
    /// option in getInfo) knows; the token then carries the mc and ga permissions and no RP ID.
    GetPinToken = 0x05,
    GetPinUvAuthTokenUsingPinWithPermissions = 0x09,
}

/// Request parameter keys, §6.5.5.1.
mod request_key {
    pub const PIN_UV_AUTH_PROTOCOL: u8 = 0x01;
    pub const SUB_COMMAND: u8 = 0x02;
    pub const KEY_AGREEMENT: u8 = 0x03;
    pub const PIN_UV_AUTH_PARAM: u8 = 0x04;
    pub const NEW_PIN_ENC: u8 = 0x05;
    pub const PIN_HASH_ENC: u8 = 0x06;
    pub const PERMISSIONS: u8 = 0x09;
    pub const RP_ID: u8 = 0x0A;
}

/// Response keys, §6.5.5.2.
mod response_key {
    pub const KEY_AGREEMENT: u8 = 0x01;
    pub const PIN_UV_AUTH_TOKEN: u8 = 0x02;
    pub const PIN_RETRIES: u8 = 0x03;
    pub const POWER_CYCLE_STATE: u8 = 0x04;
}

/// getPINRetries (0x01).
pub fn get_pin_retries_request(protocol: PinProtocol) -> Vec<u8> {
    request(protocol, SubCommand::GetPinRetries, Vec::new())
}

/// getKeyAgreement (0x02): the first step of every request that carries a secret.
pub fn get_key_agreement_request(protocol: PinProtocol) -> Vec<u8> {
    request(protocol, SubCommand::GetKeyAgreement, Vec::new())
}

/// setPIN (0x03), for an authenticator without a PIN. `platform_key` and `secret` are what
/// [`SharedSecret::agree`] returned for this request. Make `new_pin` with the authenticator's
/// minPINLength (getInfo 0x0D) as minimum, or the authenticator refuses it with 0x37.
pub fn set_pin_request(platform_key: &Value, secret: &SharedSecret, new_pin: &Pin) -> Vec<u8> {
    let new_pin_enc = secret.new_pin_enc(new_pin);
    let pin_uv_auth_param = secret.authenticate(&new_pin_enc);
    request(
        secret.protocol(),
        SubCommand::SetPin,
        vec![
            (request_key::KEY_AGREEMENT, platform_key.clone()),
            (request_key::PIN_UV_AUTH_PARAM, Value::Bytes(pin_uv_auth_param)),
            (request_key::NEW_PIN_ENC, Value::Bytes(new_pin_enc)),
        ],
    )
}

/// changePIN (0x04). A wrong `current_pin` costs one of the authenticator's PIN retries; `new_pin` is
/// made as for [`set_pin_request`].
pub fn change_pin_request(platform_key: &Value, secret: &SharedSecret, current_pin: &Pin, new_pin: &Pin) -> Vec<u8> {
    let new_pin_enc = secret.new_pin_enc(new_pin);
    let pin_hash_enc = secret.pin_hash_enc(current_pin);
    let pin_uv_auth_param = secret.authenticate(&[new_pin_enc.as_slice(), &pin_hash_enc].concat());
    request(
        secret.protocol(),
        SubCommand::ChangePin,
        vec![
            (request_key::KEY_AGREEMENT, platform_key.clone()),
            (request_key::PIN_UV_AUTH_PARAM, Value::Bytes(pin_uv_auth_param)),
            (request_key::NEW_PIN_ENC, Value::Bytes(new_pin_enc)),
            (request_key::PIN_HASH_ENC, Value::Bytes(pin_hash_enc)),
        ],
    )
}

/// getPinToken (0x05), for authenticators without the `pinUvAuthToken` option. Answer with
/// [`parse_pin_token_response`]. A wrong `pin` costs one of the authenticator's PIN retries.
pub fn get_pin_token_request(platform_key: &Value, secret: &SharedSecret, pin: &Pin) -> Vec<u8> {
    request(
        secret.protocol(),
        SubCommand::GetPinToken,
        vec![
            (request_key::KEY_AGREEMENT, platform_key.clone()),
            (request_key::PIN_HASH_ENC, Value::Bytes(secret.pin_hash_enc(pin))),
        ],
    )
}

/// getPinUvAuthTokenUsingPinWithPermissions (0x09). `permissions` combines [`super::permissions`]
/// bits and must not be 0; `rp_id` binds the token to one RP, and authenticators require it with the
/// mc and ga permissions. Answer with [`parse_pin_token_response`].
pub fn get_pin_uv_auth_token_using_pin_with_permissions_request(
    platform_key: &Value,
    secret: &SharedSecret,
    pin: &Pin,
    permissions: u8,
    rp_id: Option<&str>,
) -> Result<Vec<u8>, PinProtocolError> {
    if permissions == 0 {
        return Err(PinProtocolError::NoPermissions);
    }
    let mut parameters = vec![
        (request_key::KEY_AGREEMENT, platform_key.clone()),
        (request_key::PIN_HASH_ENC, Value::Bytes(secret.pin_hash_enc(pin))),
        (request_key::PERMISSIONS, Value::from(permissions)),
    ];
    if let Some(rp_id) = rp_id {
        parameters.push((request_key::RP_ID, Value::Text(rp_id.to_owned())));
    }
    Ok(request(secret.protocol(), SubCommand::GetPinUvAuthTokenUsingPinWithPermissions, parameters))
}

/// `0x06 ‖ CBOR{1: protocol, 2: subCommand, ...parameters}`. Keys are all below 24, so they encode in
/// one byte each and canonical order is plain numeric order, which the callers list them in.
fn request(protocol: PinProtocol, sub_command: SubCommand, parameters: Vec<(u8, Value)>) -> Vec<u8> {
    let mut entries = vec![
        (request_key::PIN_UV_AUTH_PROTOCOL, Value::from(protocol.number())),
        (request_key::SUB_COMMAND, Value::from(sub_command as u8)),
    ];
    entries.extend(parameters);
    debug_assert!(entries.windows(2).all(|pair| pair[0].0 < pair[1].0), "keys in canonical order");

    let map = Value::Map(entries.into_iter().map(|(key, value)| (Value::from(key), value)).collect());
    let mut bytes = vec![COMMAND];
    bytes.extend(cbor::encode(&map));
    bytes
}

/// What getPINRetries reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinRetries {
    /// Wrong PINs left before the authenticator blocks its PIN for good (reset is then the only way out).
    pub retries: u8,
    /// `Some(true)`: too many wrong PINs since power-up; the key must be unplugged and plugged back in
    /// before it takes another PIN. `None` when the authenticator does not say (optional in CTAP 2.1).
    pub power_cycle_state: Option<bool>,
}

/// The response to getPINRetries: `{3: pinRetries, 4?: powerCycleState}`.
pub fn parse_get_pin_retries_response(cbor: &[u8]) -> Result<PinRetries, PinProtocolError> {
    let entries = response_map(cbor)?;
    let retries = required(&entries, response_key::PIN_RETRIES, "pinRetries (0x03) is missing")?
        .as_integer()
        .and_then(|n| u8::try_from(n).ok())
        .ok_or(PinProtocolError::UnexpectedResponse("pinRetries (0x03) is not an unsigned integer below 256"))?;
    let power_cycle_state = field(&entries, response_key::POWER_CYCLE_STATE)
        .map(|value| {
            value.as_bool().ok_or(PinProtocolError::UnexpectedResponse("powerCycleState (0x04) is not a boolean"))
        })
        .transpose()?;
    Ok(PinRetries { retries, power_cycle_state })
}

/// The response to getKeyAgreement: `{1: COSE_Key}`. The key is checked to be a usable P-256
/// keyAgreement key, so [`SharedSecret::agree`] will accept it.
pub fn parse_get_key_agreement_response(cbor: &[u8]) -> Result<Value, PinProtocolError> {
    let entries = response_map(cbor)?;
    let key = required(&entries, response_key::KEY_AGREEMENT, "keyAgreement (0x01) is missing")?;
    cose::decode(key)?;
    Ok(key.clone())
}

/// The response to setPIN, which carries nothing.
pub fn parse_set_pin_response(cbor: &[u8]) -> Result<(), PinProtocolError> {
    parse_empty_response(cbor)
}

/// The response to changePIN, which carries nothing.
pub fn parse_change_pin_response(cbor: &[u8]) -> Result<(), PinProtocolError> {
    parse_empty_response(cbor)
}

/// The response to getPinToken (0x05) or getPinUvAuthTokenUsingPinWithPermissions (0x09):
/// `{2: encrypted pinUvAuthToken}`, decrypted with the `secret` of that request.
pub fn parse_pin_token_response(cbor: &[u8], secret: &SharedSecret) -> Result<PinUvAuthToken, PinProtocolError> {
    let entries = response_map(cbor)?;
    let encrypted = required(&entries, response_key::PIN_UV_AUTH_TOKEN, "pinUvAuthToken (0x02) is missing")?
        .as_bytes()
        .ok_or(PinProtocolError::UnexpectedResponse("pinUvAuthToken (0x02) is not a byte string"))?;
    secret.decrypt_token(encrypted)
}

/// CTAP sends no CBOR at all for "no output"; an empty map means the same and is accepted too.
fn parse_empty_response(cbor: &[u8]) -> Result<(), PinProtocolError> {
    if cbor.is_empty() {
        return Ok(());
    }
    response_map(cbor).map(drop)
}

fn response_map(cbor: &[u8]) -> Result<Vec<(Value, Value)>, PinProtocolError> {
    cbor::decode(cbor)?.into_map().map_err(|_| PinProtocolError::UnexpectedResponse("the response is not a CBOR map"))
}

/// The value under `key`. Canonical decoding already refused repeated keys, so the first is the only one.
fn field(entries: &[(Value, Value)], key: u8) -> Option<&Value> {
    entries.iter().find(|(k, _)| k == &Value::from(key)).map(|(_, value)| value)
}

fn required<'a>(entries: &'a [(Value, Value)], key: u8, missing: &'static str) -> Result<&'a Value, PinProtocolError> {
    field(entries, key).ok_or(PinProtocolError::UnexpectedResponse(missing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pin_protocol::cose::tests::authenticator_key;
    use crate::pin_protocol::permissions;
    use crate::pin_protocol::secret::tests::{StandIn, agree};
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};
    use std::sync::LazyLock;

    const PROTOCOLS: [PinProtocol; 2] = [PinProtocol::One, PinProtocol::Two];

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// Splits off the command byte, and checks the CBOR is canonical two ways: decoding and
    /// re-encoding gives the same bytes, and every map's keys ascend in CTAP order.
    fn decode_request(request: &[u8]) -> Vec<(Value, Value)> {
        assert_eq!(request[0], COMMAND);
        let cbor = &request[1..];
        let value: Value = ciborium::from_reader(cbor).unwrap();
        assert_eq!(cbor::encode(&value), cbor, "re-encoding changes the bytes");
        assert!(cbor::keys_in_canonical_order(&value));
        value.into_map().unwrap()
    }

    fn keys(entries: &[(Value, Value)]) -> Vec<u8> {
        entries.iter().map(|(key, _)| u8::try_from(key.as_integer().unwrap()).unwrap()).collect()
    }

    fn bytes_at(entries: &[(Value, Value)], key: u8) -> &[u8] {
        field(entries, key).unwrap().as_bytes().unwrap()
    }

    fn pin(typed: &str) -> Pin {
        Pin::new(typed, 4).unwrap()
    }

    #[test]
    fn get_pin_retries_is_exactly_these_bytes() {
        assert_eq!(get_pin_retries_request(PinProtocol::Two), hex("06 a2 01 02 02 01"));
        assert_eq!(get_pin_retries_request(PinProtocol::One), hex("06 a2 01 01 02 01"));
    }

    #[test]
    fn get_key_agreement_is_exactly_these_bytes() {
        assert_eq!(get_key_agreement_request(PinProtocol::Two), hex("06 a2 01 02 02 02"));
        assert_eq!(get_key_agreement_request(PinProtocol::One), hex("06 a2 01 01 02 02"));
    }

    #[test]
    fn set_pin_sends_the_padded_pin_and_macs_it_with_the_shared_secret() {
        for protocol in PROTOCOLS {
            let (authenticator, platform_key, secret) = agree(protocol);
            let entries = decode_request(&set_pin_request(&platform_key, &secret, &pin("2468")));

            assert_eq!(keys(&entries), [1, 2, 3, 4, 5]);
            assert_eq!(entries[0].1, Value::from(protocol.number()));
            assert_eq!(entries[1].1, Value::from(0x03));
            assert_eq!(entries[2].1, platform_key);
            let new_pin_enc = bytes_at(&entries, 5);
            assert_eq!(bytes_at(&entries, 4), authenticator.mac(new_pin_enc), "{protocol:?}");
            let mut padded = b"2468".to_vec();
            padded.resize(64, 0);
            assert_eq!(authenticator.decrypt(new_pin_enc), padded, "{protocol:?}");
        }
    }

    #[test]
    fn change_pin_macs_the_new_pin_then_the_old_pin_hash() {
        for protocol in PROTOCOLS {
            let (authenticator, platform_key, secret) = agree(protocol);
            let request = change_pin_request(&platform_key, &secret, &pin("1111"), &pin("2222"));
            let entries = decode_request(&request);

            assert_eq!(keys(&entries), [1, 2, 3, 4, 5, 6]);
            assert_eq!(entries[1].1, Value::from(0x04));
            assert_eq!(entries[2].1, platform_key);
            let (new_pin_enc, pin_hash_enc) = (bytes_at(&entries, 5), bytes_at(&entries, 6));
            let macced = [new_pin_enc, pin_hash_enc].concat();
            assert_eq!(bytes_at(&entries, 4), authenticator.mac(&macced), "{protocol:?}");
            assert_eq!(authenticator.decrypt(pin_hash_enc), Sha256::digest(b"1111")[..16], "{protocol:?}");
            assert_eq!(authenticator.decrypt(new_pin_enc)[..5], *b"2222\0", "{protocol:?}");
        }
    }

    #[test]
    fn get_pin_token_sends_only_the_key_and_the_pin_hash() {
        for protocol in PROTOCOLS {
            let (authenticator, platform_key, secret) = agree(protocol);
            let entries = decode_request(&get_pin_token_request(&platform_key, &secret, &pin("1234")));

            assert_eq!(keys(&entries), [1, 2, 3, 6]);
            assert_eq!(entries[1].1, Value::from(0x05));
            assert_eq!(entries[2].1, platform_key);
            assert_eq!(authenticator.decrypt(bytes_at(&entries, 6)), Sha256::digest(b"1234")[..16]);
        }
    }

    #[test]
    fn get_token_with_permissions_sends_permissions_and_the_rp_id() {
        for protocol in PROTOCOLS {
            let (authenticator, platform_key, secret) = agree(protocol);
            let wanted = permissions::MAKE_CREDENTIAL | permissions::GET_ASSERTION;
            let request = get_pin_uv_auth_token_using_pin_with_permissions_request(
                &platform_key,
                &secret,
                &pin("1234"),
                wanted,
                Some("example.com"),
            )
            .unwrap();
            let entries = decode_request(&request);

            assert_eq!(keys(&entries), [1, 2, 3, 6, 9, 10]);
            assert_eq!(entries[1].1, Value::from(0x09));
            assert_eq!(entries[2].1, platform_key);
            assert_eq!(authenticator.decrypt(bytes_at(&entries, 6)), Sha256::digest(b"1234")[..16]);
            assert_eq!(entries[4].1, Value::from(0x03));
            assert_eq!(entries[5].1, Value::Text("example.com".into()));
        }
    }

    #[test]
    fn get_token_with_permissions_leaves_out_an_absent_rp_id() {
        let (_, platform_key, secret) = agree(PinProtocol::Two);
        let request = get_pin_uv_auth_token_using_pin_with_permissions_request(
            &platform_key,
            &secret,
            &pin("1234"),
            permissions::CREDENTIAL_MANAGEMENT,
            None,
        )
        .unwrap();
        let entries = decode_request(&request);
        assert_eq!(keys(&entries), [1, 2, 3, 6, 9]);
        assert_eq!(entries[4].1, Value::from(0x04));
    }

    #[test]
    fn get_token_with_no_permissions_is_refused_before_sending() {
        let (_, platform_key, secret) = agree(PinProtocol::Two);
        let result =
            get_pin_uv_auth_token_using_pin_with_permissions_request(&platform_key, &secret, &pin("1234"), 0, None);
        assert_eq!(result.unwrap_err(), PinProtocolError::NoPermissions);
    }

    #[test]
    fn permission_bits_are_the_spec_values() {
        let all = [
            permissions::MAKE_CREDENTIAL,
            permissions::GET_ASSERTION,
            permissions::CREDENTIAL_MANAGEMENT,
            permissions::BIO_ENROLLMENT,
            permissions::LARGE_BLOB_WRITE,
            permissions::AUTHENTICATOR_CONFIGURATION,
        ];
        assert_eq!(all, [0x01, 0x02, 0x04, 0x08, 0x10, 0x20]);
    }

    #[test]
    fn pin_retries_parse_with_and_without_power_cycle_state() {
        let parsed = parse_get_pin_retries_response(&hex("a1 03 08")).unwrap();
        assert_eq!(parsed, PinRetries { retries: 8, power_cycle_state: None });
        let parsed = parse_get_pin_retries_response(&hex("a2 03 02 04 f5")).unwrap();
        assert_eq!(parsed, PinRetries { retries: 2, power_cycle_state: Some(true) });
        // An unknown key (0x05 uvRetries here) is ignored.
        let parsed = parse_get_pin_retries_response(&hex("a3 03 00 04 f4 05 03")).unwrap();
        assert_eq!(parsed, PinRetries { retries: 0, power_cycle_state: Some(false) });
    }

    #[test]
    fn pin_retries_refuse_wrong_shapes() {
        let cases = [
            ("a0", "pinRetries (0x03) is missing"),
            ("a1 03 20", "pinRetries (0x03) is not an unsigned integer below 256"),
            ("a1 03 19 0100", "pinRetries (0x03) is not an unsigned integer below 256"),
            ("a1 03 f5", "pinRetries (0x03) is not an unsigned integer below 256"),
            ("a2 03 08 04 01", "powerCycleState (0x04) is not a boolean"),
            ("83 01 02 03", "the response is not a CBOR map"),
        ];
        for (cbor, reason) in cases {
            let error = parse_get_pin_retries_response(&hex(cbor)).unwrap_err();
            assert_eq!(error, PinProtocolError::UnexpectedResponse(reason), "{cbor}");
        }
        assert_eq!(parse_get_pin_retries_response(&hex("a2 04 f5 03 08")), Err(PinProtocolError::NonCanonicalCbor));
        assert!(matches!(parse_get_pin_retries_response(&hex("a1 03")), Err(PinProtocolError::InvalidCbor(_))));
        assert!(matches!(parse_get_pin_retries_response(&[]), Err(PinProtocolError::InvalidCbor(_))));
    }

    #[test]
    fn key_agreement_parses_into_a_key_agree_accepts() {
        let (_, cose) = authenticator_key();
        let response = cbor::encode(&Value::Map(vec![(Value::from(1), cose.clone())]));
        let parsed = parse_get_key_agreement_response(&response).unwrap();
        assert_eq!(parsed, cose);
        assert!(SharedSecret::agree(PinProtocol::Two, &parsed).is_ok());
    }

    #[test]
    fn key_agreement_refuses_missing_or_invalid_keys() {
        assert_eq!(
            parse_get_key_agreement_response(&hex("a0")).unwrap_err(),
            PinProtocolError::UnexpectedResponse("keyAgreement (0x01) is missing")
        );
        // {1: {1: 2, -1: 1}}: no coordinates.
        assert_eq!(
            parse_get_key_agreement_response(&hex("a1 01 a2 01 02 20 01")).unwrap_err(),
            PinProtocolError::InvalidKeyAgreement("x (-2) missing")
        );
    }

    #[test]
    fn set_and_change_pin_responses_are_empty() {
        for parse in [parse_set_pin_response, parse_change_pin_response] {
            assert_eq!(parse(&[]), Ok(()));
            assert_eq!(parse(&hex("a0")), Ok(()));
            assert_eq!(parse(&hex("f6")), Err(PinProtocolError::UnexpectedResponse("the response is not a CBOR map")));
            assert!(matches!(parse(&hex("a0 00")), Err(PinProtocolError::InvalidCbor(_))));
        }
    }

    fn token_response(authenticator: &StandIn, token: &[u8]) -> Vec<u8> {
        cbor::encode(&Value::Map(vec![(Value::from(2), Value::Bytes(authenticator.encrypt(token)))]))
    }

    #[test]
    fn pin_token_responses_decrypt_into_a_working_token() {
        for protocol in PROTOCOLS {
            let (authenticator, _, secret) = agree(protocol);
            let token_bytes = [0x3c; 32];
            let response = token_response(&authenticator, &token_bytes);
            let token = parse_pin_token_response(&response, &secret).unwrap();
            assert_eq!(token.protocol(), protocol);
            let expected = crate::pin_protocol::secret::tests::hmac_sha256(protocol, &token_bytes, b"cdh");
            assert_eq!(token.authenticate(b"cdh"), expected, "{protocol:?}");
        }
    }

    #[test]
    fn pin_token_responses_refuse_wrong_shapes() {
        let (authenticator, _, secret) = agree(PinProtocol::Two);
        assert_eq!(
            parse_pin_token_response(&hex("a0"), &secret).unwrap_err(),
            PinProtocolError::UnexpectedResponse("pinUvAuthToken (0x02) is missing")
        );
        assert_eq!(
            parse_pin_token_response(&hex("a1 02 63 616263"), &secret).unwrap_err(),
            PinProtocolError::UnexpectedResponse("pinUvAuthToken (0x02) is not a byte string")
        );
        assert_eq!(
            parse_pin_token_response(&token_response(&authenticator, &[0; 16]), &secret).unwrap_err(),
            PinProtocolError::InvalidToken
        );
        assert_eq!(
            parse_pin_token_response(&hex("a1 02 45 0102030405"), &secret).unwrap_err(),
            PinProtocolError::InvalidCiphertext
        );
    }

    /// Parses `bytes` as every kind of response; none may panic, whatever the result.
    fn parse_everything(bytes: &[u8]) {
        // One agreement per protocol for all cases: ECDH per case would dominate the run time.
        static SECRETS: LazyLock<[SharedSecret; 2]> = LazyLock::new(|| PROTOCOLS.map(|protocol| agree(protocol).2));
        let _ = parse_get_pin_retries_response(bytes);
        let _ = parse_get_key_agreement_response(bytes);
        let _ = parse_set_pin_response(bytes);
        let _ = parse_change_pin_response(bytes);
        for secret in SECRETS.iter() {
            let _ = parse_pin_token_response(bytes, secret);
        }
    }

    /// Plausible-looking response maps: the real keys with values of every type and of the lengths
    /// that matter (16, 32, 48 bytes), so the parsers' later checks are reached, not just the decoder's.
    fn response_like() -> impl Strategy<Value = Vec<u8>> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::Bool),
            prop::sample::select(vec![0usize, 15, 16, 32, 48, 64]).prop_map(|len| Value::Bytes(vec![0x11; len])),
            "[a-z]{0,8}".prop_map(Value::Text),
            Just(Value::Null),
        ];
        let value = leaf.prop_recursive(2, 16, 6, |inner| {
            prop::collection::vec((-4i64..6, inner), 0..6)
                .prop_map(|entries| Value::Map(entries.into_iter().map(|(k, v)| (Value::from(k), v)).collect()))
        });
        prop::collection::btree_map(0u8..8, value, 0..5).prop_map(|entries| {
            cbor::encode(&Value::Map(entries.into_iter().map(|(k, v)| (Value::from(k), v)).collect()))
        })
    }

    proptest! {
        #[test]
        fn parsers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            parse_everything(&bytes);
        }

        #[test]
        fn parsers_never_panic_on_response_like_maps(bytes in response_like()) {
            parse_everything(&bytes);
        }

        #[test]
        fn pin_retries_accept_exactly_the_bytes_below_256(retries in any::<u64>()) {
            let cbor = cbor::encode(&Value::Map(vec![(Value::from(3), Value::from(retries))]));
            let parsed = parse_get_pin_retries_response(&cbor);
            prop_assert_eq!(parsed.is_ok(), retries < 256);
        }
    }
}
