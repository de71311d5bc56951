//! A CTAP2 client over any CTAPHID transport: the request encoders and response parsers
//! of ctap-hid-fido2 for makeCredential and getAssertion (the same bytes it sends to real
//! keys), our own for what it does not expose (getInfo, clientPIN, credentialManagement).

use std::{panic::AssertUnwindSafe, time::Duration};

use ciborium::Value;
use ctap_hid_fido2::fidokey::{
    CredentialExtension, CredentialSupportedKeyType,
    credential_management::credential_management_params::CredentialProtectionPolicy,
    get_assertion::{get_assertion_command, get_assertion_response},
    make_credential::{make_credential_command, make_credential_response},
};

use crate::{
    attestation_object,
    ctaphid::{CancelToken, CtapHid, HidError, HidTransport, KeepAliveStatus},
    error::KeyError,
    info::AuthenticatorInfo,
    key::{Assertion, Events, GetAssertionRequest, Key, KeyEvent, MakeCredentialRequest, NewCredential, PinRetries, client_data_hash},
    pin_protocol::{Pin, PinProtocol, PinProtocolError, PinUvAuthToken, SharedSecret, client_pin, permissions},
};

/// The longest silence between two frames: a key waiting for a touch sends keepalives
/// every 100 ms or so, so anything this long means the key is gone or stuck.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

mod command {
    pub const GET_INFO: u8 = 0x04;
    pub const RESET: u8 = 0x07;
    pub const CREDENTIAL_MANAGEMENT: u8 = 0x0A;
    pub const CREDENTIAL_MANAGEMENT_PREVIEW: u8 = 0x41;
    pub const SELECTION: u8 = 0x0B;
}

pub struct CtapClient<T: HidTransport> {
    hid: CtapHid<T>,
    info: Option<AuthenticatorInfo>,
    /// The token from `verify_pin`, kept for the next ceremony on its RP.
    token: Option<(PinUvAuthToken, String)>,
}

impl<T: HidTransport> CtapClient<T> {
    pub fn open(transport: T) -> Result<Self, KeyError> {
        let hid = CtapHid::open(transport).map_err(hid_error)?;
        if !hid.device_info().supports_cbor() {
            return Err(KeyError::Protocol("the key speaks only CTAP1/U2F, not FIDO2".into()));
        }
        Ok(Self { hid, info: None, token: None })
    }

    pub fn into_transport(self) -> T {
        self.hid.into_transport()
    }

    /// authenticatorReset: erases every credential and the PIN. Keys accept it only within
    /// seconds of being plugged in, and only after a touch. For IT tooling, not onboarding.
    pub fn reset(&mut self, events: Events<'_>, cancel: &CancelToken) -> Result<(), KeyError> {
        self.transact(&[command::RESET], events, cancel)?;
        self.info = None;
        self.token = None;
        Ok(())
    }

    /// The discoverable credentials stored for `rp_id` (credentialManagement 0x04/0x05).
    pub fn list_credentials(&mut self, pin: &Pin, rp_id: &str) -> Result<Vec<StoredCredential>, KeyError> {
        const BEGIN: u8 = 0x04;
        const NEXT: u8 = 0x05;
        let token = self.pin_token(pin, permissions::CREDENTIAL_MANAGEMENT, None)?;
        let rp_id_hash = <sha2::Sha256 as sha2::Digest>::digest(rp_id.as_bytes());
        let sub_params = Value::Map(vec![(Value::from(0x01), Value::Bytes(rp_id_hash.to_vec()))]);
        let message = [&[BEGIN][..], &cbor(&sub_params)].concat();
        let request = Value::Map(vec![
            (Value::from(0x01), Value::from(BEGIN)),
            (Value::from(0x02), sub_params),
            (Value::from(0x03), Value::from(token.protocol().number())),
            (Value::from(0x04), Value::Bytes(token.authenticate(&message))),
        ]);
        let first = match self.simple(&[&[command::CREDENTIAL_MANAGEMENT][..], &cbor(&request)].concat()) {
            Err(KeyError::NoCredentials) => return Ok(Vec::new()),
            other => other?,
        };
        let (credential, total) = parse_credential(&first)?;
        let mut credentials = vec![credential];
        while credentials.len() < total {
            let next = cbor(&Value::Map(vec![(Value::from(0x01), Value::from(NEXT))]));
            let response = self.simple(&[&[command::CREDENTIAL_MANAGEMENT][..], &next].concat())?;
            credentials.push(parse_credential(&response)?.0);
        }
        Ok(credentials)
    }

    /// Sends one CTAP2 request; `Ok` carries the CBOR after a success status.
    fn transact(&mut self, request: &[u8], events: Events<'_>, cancel: &CancelToken) -> Result<Vec<u8>, KeyError> {
        let mut on_keepalive = |status| {
            if status == KeepAliveStatus::UserPresenceNeeded {
                events(KeyEvent::TouchNeeded);
            }
        };
        let response = self.hid.cbor(request, &mut on_keepalive, cancel, FRAME_TIMEOUT).map_err(hid_error)?;
        match response.split_first() {
            Some((0x00, cbor)) => Ok(cbor.to_vec()),
            Some((&status, _)) => Err(KeyError::from_status(status)),
            None => Err(KeyError::Protocol("empty CTAP response".into())),
        }
    }

    fn simple(&mut self, request: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.transact(request, &mut |_| {}, &CancelToken::new())
    }

    fn cached_info(&mut self) -> Result<AuthenticatorInfo, KeyError> {
        match &self.info {
            Some(info) => Ok(info.clone()),
            None => self.info(),
        }
    }

    fn protocol(&mut self) -> Result<PinProtocol, KeyError> {
        let number = self.cached_info()?.pin_protocol();
        PinProtocol::from_number(number.into()).ok_or_else(|| KeyError::Protocol(format!("PIN protocol {number}")))
    }

    fn key_agreement(&mut self) -> Result<(Value, SharedSecret), KeyError> {
        let protocol = self.protocol()?;
        let response = self.simple(&client_pin::get_key_agreement_request(protocol))?;
        let key = client_pin::parse_get_key_agreement_response(&response).map_err(pin_error)?;
        SharedSecret::agree(protocol, &key).map_err(pin_error)
    }

    /// A wrong PIN comes back without the count; the screen needs it.
    fn with_retries(&mut self, error: KeyError) -> KeyError {
        match error {
            KeyError::PinInvalid { .. } => match self.pin_retries() {
                Ok(retries) if retries.power_cycle_required => KeyError::PinAuthBlocked,
                Ok(retries) => KeyError::PinInvalid { retries_left: retries.retries },
                Err(other) => other,
            },
            other => other,
        }
    }

    /// A token for `permissions`, the CTAP 2.1 way where the key knows it.
    fn pin_token(&mut self, pin: &Pin, permission_bits: u8, rp_id: Option<&str>) -> Result<PinUvAuthToken, KeyError> {
        let info = self.cached_info()?;
        let (platform_key, secret) = self.key_agreement()?;
        let request = if info.supports_permissions() {
            client_pin::get_pin_uv_auth_token_using_pin_with_permissions_request(&platform_key, &secret, pin, permission_bits, rp_id)
                .map_err(pin_error)?
        } else {
            client_pin::get_pin_token_request(&platform_key, &secret, pin)
        };
        let response = match self.simple(&request) {
            // After a correct PIN, PIN_POLICY_VIOLATION here means forcePINChange.
            Err(KeyError::PinPolicyViolation) => return Err(KeyError::PinChangeRequired),
            Err(error) => return Err(self.with_retries(error)),
            Ok(response) => response,
        };
        client_pin::parse_pin_token_response(&response, &secret).map_err(pin_error)
    }

    /// The pinUvAuthParam for a ceremony: the token kept by `verify_pin` if it is for this
    /// RP, else a fresh one from the PIN; none when the key has no PIN and none was given.
    fn ceremony_auth(&mut self, pin: Option<&Pin>, rp_id: &str, permission: u8, message: &[u8]) -> Result<Option<(Vec<u8>, u8)>, KeyError> {
        let token = match self.token.take() {
            Some((token, bound)) if bound == rp_id => token,
            _ => match pin {
                Some(pin) => self.pin_token(pin, permission, Some(rp_id))?,
                None if self.cached_info()?.client_pin() == Some(true) => return Err(KeyError::PinRequired),
                None => return Ok(None),
            },
        };
        Ok(Some((token.authenticate(message), token.protocol().number())))
    }

    fn make_credential_once(&mut self, request: &MakeCredentialRequest, pin: Option<&Pin>, events: Events<'_>, cancel: &CancelToken) -> Result<NewCredential, KeyError> {
        let client_data_hash = client_data_hash(&request.client_data_json);
        let auth = self.ceremony_auth(pin, &request.rp_id, permissions::MAKE_CREDENTIAL, &client_data_hash)?;
        // Params::new hashes the clientDataJSON itself, as it does for real keys.
        let mut params = make_credential_command::Params::new(&request.rp_id, request.client_data_json.clone(), request.user_id.clone());
        debug_assert_eq!(params.client_data_hash, client_data_hash);
        params.rp_name = request.rp_name.clone().unwrap_or_default();
        params.user_name = request.user_name.clone();
        params.user_display_name = request.user_display_name.clone();
        params.exclude_list = request.exclude_list.clone();
        params.option_rk = request.resident_key;
        params.key_types = vec![CredentialSupportedKeyType::Ecdsa256];
        let protocol = auth.as_ref().map_or(1, |(_, protocol)| *protocol);
        params.pin_auth = auth.map(|(param, _)| param).unwrap_or_default();
        let mut extensions = Vec::new();
        if request.hmac_secret {
            extensions.push(CredentialExtension::HmacSecret(Some(true)));
        }
        if let Some(level) = request.cred_protect {
            extensions.push(CredentialExtension::CredProtect(Some(cred_protect_policy(level)?)));
        }
        let extensions = (!extensions.is_empty()).then_some(extensions);
        let payload = make_credential_command::create_payload(params, extensions.as_ref(), protocol)
            .map_err(|e| KeyError::Protocol(e.to_string()))?;
        let response = self.transact(&payload, events, cancel)?;
        let attestation = parse_guarded(|| make_credential_response::parse_cbor(&response))?;
        let attestation_object = attestation_object::build(
            &attestation.fmt,
            &attestation.auth_data,
            attestation.attstmt_alg,
            &attestation.attstmt_sig,
            &attestation.attstmt_x5c,
        )?;
        Ok(NewCredential {
            credential_id: attestation.credential_descriptor.id,
            attestation_object,
            authenticator_data: attestation.auth_data,
        })
    }

    fn get_assertion_once(&mut self, request: &GetAssertionRequest, pin: Option<&Pin>, events: Events<'_>, cancel: &CancelToken) -> Result<Assertion, KeyError> {
        let client_data_hash = client_data_hash(&request.client_data_json);
        let auth = self.ceremony_auth(pin, &request.rp_id, permissions::GET_ASSERTION, &client_data_hash)?;
        let mut params = get_assertion_command::Params::new(&request.rp_id, request.client_data_json.clone(), request.allow_list.clone());
        debug_assert_eq!(params.client_data_hash, client_data_hash);
        params.option_up = true;
        params.option_uv = None;
        let protocol = auth.as_ref().map_or(1, |(_, protocol)| *protocol);
        params.pin_auth = auth.map(|(param, _)| param).unwrap_or_default();
        let payload = get_assertion_command::create_payload(params, None, None, protocol)
            .map_err(|e| KeyError::Protocol(e.to_string()))?;
        let response = self.transact(&payload, events, cancel)?;
        let assertion = parse_guarded(|| get_assertion_response::parse_cbor(&response, None))?;
        let user_handle = Some(assertion.user.id).filter(|id| !id.is_empty());
        Ok(Assertion {
            credential_id: assertion.credential_id,
            authenticator_data: assertion.auth_data,
            signature: assertion.signature,
            user_handle,
        })
    }

    /// authenticatorSelection needs CTAP 2.1; a 2.0 key is asked the way browsers do it,
    /// with a makeCredential carrying an empty pinUvAuthParam, which waits for a touch and
    /// then fails with PIN_INVALID or PIN_NOT_SET.
    fn select_legacy(&mut self, events: Events<'_>, cancel: &CancelToken) -> Result<(), KeyError> {
        let mut params = make_credential_command::Params::new(".dummy", Vec::new(), vec![0]);
        params.client_data_hash = vec![0; 32];
        params.pin_auth = Vec::new();
        let mut payload = make_credential_command::create_payload(params, None, 1).map_err(|e| KeyError::Protocol(e.to_string()))?;
        append_empty_pin_auth(&mut payload)?;
        match self.transact(&payload, events, cancel) {
            Err(KeyError::PinInvalid { .. } | KeyError::PinNotSet) | Ok(_) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

impl<T: HidTransport> Key for CtapClient<T> {
    fn info(&mut self) -> Result<AuthenticatorInfo, KeyError> {
        let response = self.simple(&[command::GET_INFO])?;
        let info = AuthenticatorInfo::parse(&response)?;
        self.info = Some(info.clone());
        Ok(info)
    }

    fn pin_retries(&mut self) -> Result<PinRetries, KeyError> {
        let protocol = self.protocol()?;
        let response = self.simple(&client_pin::get_pin_retries_request(protocol))?;
        let retries = client_pin::parse_get_pin_retries_response(&response).map_err(pin_error)?;
        Ok(PinRetries { retries: retries.retries, power_cycle_required: retries.power_cycle_state.unwrap_or(false) })
    }

    fn set_pin(&mut self, pin: &Pin) -> Result<(), KeyError> {
        let (platform_key, secret) = self.key_agreement()?;
        self.simple(&client_pin::set_pin_request(&platform_key, &secret, pin))?;
        self.info = None; // clientPin changed
        Ok(())
    }

    fn change_pin(&mut self, current: &Pin, new: &Pin) -> Result<(), KeyError> {
        let (platform_key, secret) = self.key_agreement()?;
        let result = self.simple(&client_pin::change_pin_request(&platform_key, &secret, current, new));
        self.info = None; // forcePINChange may have cleared
        result.map(drop).map_err(|error| self.with_retries(error))
    }

    fn verify_pin(&mut self, pin: &Pin, rp_id: &str) -> Result<(), KeyError> {
        let token = self.pin_token(pin, permissions::MAKE_CREDENTIAL | permissions::GET_ASSERTION, Some(rp_id))?;
        self.token = Some((token, rp_id.to_owned()));
        Ok(())
    }

    fn make_credential(&mut self, request: &MakeCredentialRequest, pin: Option<&Pin>, events: Events<'_>, cancel: &CancelToken) -> Result<NewCredential, KeyError> {
        let had_token = self.token.is_some();
        match self.make_credential_once(request, pin, events, cancel) {
            // The kept token expired or was spent: once more with a fresh one.
            Err(KeyError::Ctap(0x33)) if had_token && pin.is_some() => self.make_credential_once(request, pin, events, cancel),
            other => other,
        }
    }

    fn get_assertion(&mut self, request: &GetAssertionRequest, pin: Option<&Pin>, events: Events<'_>, cancel: &CancelToken) -> Result<Assertion, KeyError> {
        let had_token = self.token.is_some();
        match self.get_assertion_once(request, pin, events, cancel) {
            Err(KeyError::Ctap(0x33)) if had_token && pin.is_some() => self.get_assertion_once(request, pin, events, cancel),
            other => other,
        }
    }

    fn delete_credential(&mut self, credential_id: &[u8], pin: &Pin) -> Result<(), KeyError> {
        let info = self.cached_info()?;
        let command = if info.supports_credential_management() {
            command::CREDENTIAL_MANAGEMENT
        } else if info.options.get("credentialMgmtPreview") == Some(&true) {
            command::CREDENTIAL_MANAGEMENT_PREVIEW
        } else {
            return Err(KeyError::Protocol("the key cannot delete passkeys (no credential management)".into()));
        };
        let token = self.pin_token(pin, permissions::CREDENTIAL_MANAGEMENT, None)?;
        self.simple(&delete_credential_request(command, &token, credential_id))?;
        Ok(())
    }

    fn select(&mut self, events: Events<'_>, cancel: &CancelToken) -> Result<(), KeyError> {
        if self.cached_info()?.versions.iter().any(|v| v == "FIDO_2_1") {
            self.transact(&[command::SELECTION], events, cancel).map(drop)
        } else {
            self.select_legacy(events, cancel)
        }
    }

    fn wink(&mut self) -> Result<(), KeyError> {
        if !self.hid.device_info().supports_wink() {
            return Ok(());
        }
        self.hid.wink(FRAME_TIMEOUT).map_err(hid_error)
    }
}

/// A discoverable credential as credential management lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCredential {
    pub credential_id: Vec<u8>,
    pub user_id: Vec<u8>,
    pub user_name: Option<String>,
}

/// One enumerateCredentials answer: {6: user, 7: descriptor, 9: total (first only), ...}.
fn parse_credential(response: &[u8]) -> Result<(StoredCredential, usize), KeyError> {
    let bad = |what: &str| KeyError::Protocol(format!("credential management: {what}"));
    let value: Value = ciborium::from_reader(response).map_err(|_| bad("not CBOR"))?;
    let map = value.as_map().ok_or_else(|| bad("not a map"))?;
    let get = |key: u8| map.iter().find(|(k, _)| *k == Value::from(key)).map(|(_, v)| v);
    let text_field = |entity: &Value, name: &str| {
        entity.as_map()?.iter().find(|(k, _)| k.as_text() == Some(name)).map(|(_, v)| v.clone())
    };
    let user = get(0x06).ok_or_else(|| bad("no user"))?;
    let descriptor = get(0x07).ok_or_else(|| bad("no credential id"))?;
    let credential = StoredCredential {
        credential_id: text_field(descriptor, "id").and_then(|v| v.into_bytes().ok()).ok_or_else(|| bad("credential id"))?,
        user_id: text_field(user, "id").and_then(|v| v.into_bytes().ok()).ok_or_else(|| bad("user id"))?,
        user_name: text_field(user, "name").and_then(|v| v.into_text().ok()),
    };
    let total = get(0x09).and_then(|v| v.as_integer()).and_then(|t| usize::try_from(t).ok()).unwrap_or(1);
    Ok((credential, total))
}

/// deleteCredential (0x06): {1: 6, 2: {2: descriptor}, 3: protocol, 4: pinUvAuthParam},
/// the param over subCommand ‖ CBOR(subCommandParams).
fn delete_credential_request(command: u8, token: &PinUvAuthToken, credential_id: &[u8]) -> Vec<u8> {
    const DELETE: u8 = 0x06;
    let descriptor = Value::Map(vec![
        (Value::from("id"), Value::Bytes(credential_id.to_vec())),
        (Value::from("type"), Value::from("public-key")),
    ]);
    let sub_params = Value::Map(vec![(Value::from(0x02), descriptor)]);
    let message = [&[DELETE][..], &cbor(&sub_params)].concat();
    let request = Value::Map(vec![
        (Value::from(0x01), Value::from(DELETE)),
        (Value::from(0x02), sub_params),
        (Value::from(0x03), Value::from(token.protocol().number())),
        (Value::from(0x04), Value::Bytes(token.authenticate(&message))),
    ]);
    [&[command][..], &cbor(&request)].concat()
}

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

/// ctap-hid-fido2 leaves out an empty pinUvAuthParam; the legacy selection probe needs
/// exactly that: {8: h'', 9: 1} appended to the request map.
fn append_empty_pin_auth(payload: &mut Vec<u8>) -> Result<(), KeyError> {
    let mut value: Value = ciborium::from_reader(&payload[1..]).map_err(|e| KeyError::Protocol(e.to_string()))?;
    let map = value.as_map_mut().ok_or_else(|| KeyError::Protocol("makeCredential is not a map".into()))?;
    map.retain(|(k, _)| *k != Value::from(8) && *k != Value::from(9));
    map.push((Value::from(8), Value::Bytes(Vec::new())));
    map.push((Value::from(9), Value::from(1)));
    payload.truncate(1);
    payload.extend(cbor(&value));
    Ok(())
}

fn cred_protect_policy(level: u8) -> Result<CredentialProtectionPolicy, KeyError> {
    match level {
        1 => Ok(CredentialProtectionPolicy::UserVerificationOptional),
        2 => Ok(CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList),
        3 => Ok(CredentialProtectionPolicy::UserVerificationRequired),
        other => Err(KeyError::Protocol(format!("credProtect level {other} does not exist"))),
    }
}

/// ctap-hid-fido2's parsers index into authenticatorData without bounds checks; a key
/// that answers garbage must give an error, not bring the app down.
fn parse_guarded<R, E: std::fmt::Display>(parse: impl FnOnce() -> Result<R, E>) -> Result<R, KeyError> {
    match std::panic::catch_unwind(AssertUnwindSafe(parse)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(KeyError::Protocol(error.to_string())),
        Err(_) => Err(KeyError::Protocol("the key's answer is malformed".into())),
    }
}

fn hid_error(error: HidError) -> KeyError {
    match error {
        HidError::Disconnected => KeyError::Removed,
        HidError::Timeout => KeyError::Timeout,
        other => KeyError::Transport(other.to_string()),
    }
}

fn pin_error(error: PinProtocolError) -> KeyError {
    KeyError::Protocol(error.to_string())
}
