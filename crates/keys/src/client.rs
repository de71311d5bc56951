//! A CTAP2 client over any CTAPHID transport: the request encoders and response parsers
//! of ctap-hid-fido2 for makeCredential and getAssertion (the same bytes it sends to real
//! keys), our own for what it does not expose (getInfo, clientPIN, credentialManagement).

use std::{panic::AssertUnwindSafe, time::Duration};

use ciborium::Value;
use ctap_hid_fido2::fidokey::{
    CredentialSupportedKeyType,
    get_assertion::{get_assertion_command, get_assertion_response},
    make_credential::{make_credential_command, make_credential_response},
};

use crate::{
    attestation_object,
    ctaphid::{CancelToken, CtapHid, HidError, HidTransport, KeepAliveStatus, error_code},
    error::KeyError,
    info::AuthenticatorInfo,
    key::{Assertion, Events, GetAssertionRequest, Key, KeyEvent, MakeCredentialRequest, NewCredential, PinRetries, client_data_hash},
    pin_protocol::{Pin, PinProtocol, PinProtocolError, PinUvAuthToken, SharedSecret, client_pin, permissions},
    shared,
};

/// The longest silence between two frames: a key waiting for a touch sends keepalives
/// every 100 ms or so, so anything this long means the key is gone or stuck.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// More discoverable credentials than any key holds (they keep a few dozen to a few hundred).
const MAX_LISTED_CREDENTIALS: usize = 1024;

mod command {
    pub const GET_INFO: u8 = 0x04;
    pub const RESET: u8 = 0x07;
    pub const CREDENTIAL_MANAGEMENT: u8 = 0x0A;
    pub const CREDENTIAL_MANAGEMENT_PREVIEW: u8 = 0x41;
    pub const SELECTION: u8 = 0x0B;
}

/// A ceremony's pinUvAuthParam and the PIN/UV auth protocol it was made with.
type Auth = (Vec<u8>, u8);

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
        // The count is the key's word; a key that claims millions must not keep us asking.
        if total > MAX_LISTED_CREDENTIALS {
            return Err(KeyError::Protocol(format!("the key claims {total} credentials for one relying party")));
        }
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

    fn with_retries(&mut self, error: KeyError) -> KeyError {
        shared::with_pin_retries(error, || self.pin_retries())
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
    fn ceremony_auth(&mut self, pin: Option<&Pin>, rp_id: &str, permission: u8, message: &[u8]) -> Result<Option<Auth>, KeyError> {
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
        // Probes for a long exclude list carry no PIN token: the token is for makeCredential
        // only. They sign nothing the relying party sees, so a random clientDataHash does.
        params.exclude_list = self.fit_list(&request.rp_id, &request.exclude_list, &rand::random(), None)?;
        params.option_rk = request.resident_key;
        params.key_types = vec![CredentialSupportedKeyType::Ecdsa256];
        let protocol = auth.as_ref().map_or(1, |(_, protocol)| *protocol);
        params.pin_auth = auth.map(|(param, _)| param).unwrap_or_default();
        let extensions = shared::make_credential_extensions(request)?;
        let extensions = (!extensions.is_empty()).then_some(extensions);
        let payload = make_credential_command::create_payload(params, extensions.as_ref(), protocol)
            .map_err(|e| KeyError::Protocol(e.to_string()))?;
        let response = self.transact(&payload, events, cancel)?;
        let attestation = parse_guarded(|| make_credential_response::parse_cbor(&response))?;
        attestation_object::new_credential(attestation)
    }

    fn get_assertion_once(&mut self, request: &GetAssertionRequest, pin: Option<&Pin>, events: Events<'_>, cancel: &CancelToken) -> Result<Assertion, KeyError> {
        let client_data_hash = client_data_hash(&request.client_data_json);
        let auth = self.ceremony_auth(pin, &request.rp_id, permissions::GET_ASSERTION, &client_data_hash)?;
        let allow_list = self.fit_list(&request.rp_id, &request.allow_list, &client_data_hash, auth.as_ref())?;
        if allow_list.is_empty() && !request.allow_list.is_empty() {
            // Sending no list would ask for any discoverable credential instead.
            return Err(KeyError::NoCredentials);
        }
        let mut params = get_assertion_command::Params::new(&request.rp_id, request.client_data_json.clone(), allow_list);
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

    /// `ids` cut down to what the key takes in one list (see [`shared::fit_list`]).
    ///
    /// The probes are getAssertions over `client_data_hash` carrying `auth`, the ceremony's
    /// pinUvAuthParam over it. With it they are user-verified and also find credProtect=3
    /// credentials; a request without a touch does not spend the token (CTAP 2.1 §6.2.2
    /// step 9). Without it (makeCredential, whose token lacks the getAssertion permission) a
    /// credProtect=3 credential is not found, so a long exclude list cannot keep such a
    /// credential from being registered twice.
    fn fit_list(&mut self, rp_id: &str, ids: &[Vec<u8>], client_data_hash: &[u8; 32], auth: Option<&Auth>) -> Result<Vec<Vec<u8>>, KeyError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let info = self.cached_info()?;
        shared::fit_list(ids, &info, |batch| self.probe(rp_id, batch, client_data_hash, auth))
    }

    /// A silent getAssertion (up=false) for `batch`: the id of the credential the key found.
    fn probe(&mut self, rp_id: &str, batch: &[Vec<u8>], client_data_hash: &[u8; 32], auth: Option<&Auth>) -> Result<Option<Vec<u8>>, KeyError> {
        let mut params = get_assertion_command::Params::new(rp_id, Vec::new(), batch.to_vec());
        params.client_data_hash = client_data_hash.to_vec();
        params.option_up = false;
        params.option_uv = None;
        params.pin_auth = auth.map(|(param, _)| param.clone()).unwrap_or_default();
        let protocol = auth.map_or(1, |(_, protocol)| *protocol);
        let payload =
            get_assertion_command::create_payload(params, None, None, protocol).map_err(|e| KeyError::Protocol(e.to_string()))?;
        let response = match self.simple(&payload) {
            Err(KeyError::NoCredentials) => return Ok(None),
            other => other?,
        };
        Ok(Some(parse_guarded(|| get_assertion_response::parse_cbor(&response, None))?.credential_id))
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
        // CtapHid gives up on a busy channel only after retrying for seconds: another
        // program (a browser waiting for a touch) holds the key.
        HidError::Device(error_code::CHANNEL_BUSY) => KeyError::Busy,
        // The key's frames made no sense: its fault, not the cable's.
        HidError::Protocol(message) => KeyError::Protocol(message),
        other => KeyError::Transport(other.to_string()),
    }
}

fn pin_error(error: PinProtocolError) -> KeyError {
    KeyError::Protocol(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_errors_keep_their_meaning() {
        assert_eq!(hid_error(HidError::Disconnected), KeyError::Removed);
        assert_eq!(hid_error(HidError::Timeout), KeyError::Timeout);
        assert_eq!(hid_error(HidError::Device(error_code::CHANNEL_BUSY)), KeyError::Busy);
        assert_eq!(hid_error(HidError::Protocol("a frame from nowhere".into())), KeyError::Protocol("a frame from nowhere".into()));
        assert!(matches!(hid_error(HidError::Device(error_code::INVALID_SEQ)), KeyError::Transport(_)));
        assert!(matches!(hid_error(HidError::Io("EIO".into())), KeyError::Transport(_)));
    }
}
