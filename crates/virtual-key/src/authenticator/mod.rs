//! The CTAP2 authenticator: one instance per power cycle, behind the HID interface.

mod cbor;
mod client_pin;
mod credential_management;
mod crypto;
mod get_assertion;
mod info;
mod make_credential;
mod pin_protocol;
mod status;
mod wrapping;

use std::{sync::Arc, time::Instant};

use ciborium::Value;
use p256::ecdsa::{DerSignature, SigningKey, signature::Signer};
use sha2::{Digest, Sha256};

use crate::{
    hid::{CtapHandler, HidIo},
    key::Shared,
    state::Credential,
    touch::Presence,
};
use cbor::{Params, bytes_field, text_field};
use info::{MAX_CREDENTIAL_ID_LENGTH, MAX_CREDENTIALS_IN_LIST};
use pin_protocol::{KeyAgreement, PinUvAuthToken};
pub use status::Status;
use status::CtapResult;

/// CTAP 2.1 §6.6: reset only within 10 s of power-up, so malware cannot wipe a key
/// that has been plugged in for a while.
const RESET_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

/// The CTAP2 commands this key implements (CTAP 2.1 §6).
enum Command {
    MakeCredential,
    GetAssertion,
    GetInfo,
    ClientPin,
    Reset,
    GetNextAssertion,
    CredentialManagement,
    Selection,
}

impl Command {
    fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0x01 => Self::MakeCredential,
            0x02 => Self::GetAssertion,
            0x04 => Self::GetInfo,
            0x06 => Self::ClientPin,
            0x07 => Self::Reset,
            0x08 => Self::GetNextAssertion,
            0x0A => Self::CredentialManagement,
            0x0B => Self::Selection,
            _ => return None,
        })
    }
}

pub(crate) struct Authenticator {
    shared: Arc<Shared>,
    key_agreement: KeyAgreement,
    token: PinUvAuthToken,
    consecutive_pin_mismatches: u8,
    powered_up: Instant,
    next_assertions: Option<get_assertion::Pending>,
    enumeration: Option<credential_management::Enumeration>,
}

impl Authenticator {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            key_agreement: KeyAgreement::generate(),
            token: PinUvAuthToken::new(),
            consecutive_pin_mismatches: 0,
            powered_up: Instant::now(),
            next_assertions: None,
            enumeration: None,
        }
    }

    fn process(&mut self, command: u8, params: &[u8], io: &mut dyn HidIo) -> CtapResult<Option<Value>> {
        if command != 0x08 {
            self.next_assertions = None;
        }
        if command != 0x0A {
            self.enumeration = None;
        }
        // The command byte first: an unknown command is INVALID_COMMAND whatever follows it,
        // as on a real key, not INVALID_CBOR because its bytes mean nothing to us.
        let command = Command::from_byte(command).ok_or(Status::InvalidCommand)?;
        let params = Params::decode(params)?;
        match command {
            Command::MakeCredential => self.make_credential(&params, io).map(Some),
            Command::GetAssertion => self.get_assertion(&params, io).map(Some),
            Command::GetInfo => Ok(Some(self.info())),
            Command::ClientPin => self.client_pin(&params),
            Command::Reset => self.reset(io).map(|()| None),
            Command::GetNextAssertion => self.get_next_assertion().map(Some),
            Command::CredentialManagement => self.credential_management(&params),
            Command::Selection => self.wait_for_touch(io).map(|()| None),
        }
    }

    /// Asks the user for a touch, as the CTAP status the host sees.
    fn wait_for_touch(&self, io: &mut dyn HidIo) -> CtapResult<()> {
        match self.shared.touch.request(io, self.shared.config.touch_timeout) {
            Presence::Touched => Ok(()),
            Presence::TimedOut => Err(Status::UserActionTimeout),
            Presence::Cancelled => Err(Status::KeepaliveCancel),
        }
    }

    fn reset(&mut self, io: &mut dyn HidIo) -> CtapResult<()> {
        if self.powered_up.elapsed() > RESET_WINDOW {
            return Err(Status::NotAllowed);
        }
        self.wait_for_touch(io)?;
        let min_pin_length = self.shared.config.min_pin_length;
        self.shared.update(|state| *state = crate::state::PersistentState::new(min_pin_length));
        self.key_agreement = KeyAgreement::generate();
        self.token.reset();
        self.consecutive_pin_mismatches = 0;
        tracing::info!("virtual key reset");
        Ok(())
    }

    // What makeCredential, getAssertion and credentialManagement share.

    /// Both branches of the "touch to select" probe end in an error, by design: no touch
    /// is OPERATION_DENIED, but a host that cancelled hears KEEPALIVE_CANCEL, as for any
    /// other wait.
    fn touch_probe(&self, io: &mut dyn HidIo) -> CtapResult<Value> {
        match self.wait_for_touch(io) {
            Ok(()) => Err(if self.shared.read(|s| s.pin.is_some()) { Status::PinInvalid } else { Status::PinNotSet }),
            Err(Status::KeepaliveCancel) => Err(Status::KeepaliveCancel),
            Err(_) => Err(Status::OperationDenied),
        }
    }

    /// The pinUvAuthProtocol under `key`: required with a pinUvAuthParam, and supported.
    fn pin_protocol(&self, params: &Params, has_param: bool, key: i64) -> CtapResult<Option<u8>> {
        if !has_param {
            return Ok(None);
        }
        let protocol = Params::required(params.uint(key))?;
        let protocol = u8::try_from(protocol).ok().filter(|p| self.shared.config.pin_protocols.contains(p));
        protocol.map(Some).ok_or(Status::InvalidParameter)
    }

    /// A credential of this RP by id: stored on the key, or wrapped inside the id.
    fn find_credential(&self, id: &[u8], rp_id: &str) -> Option<Credential> {
        self.shared.read(|state| {
            let stored = state.credentials.iter().find(|c| c.id == id && c.rp_id == rp_id).cloned();
            stored.or_else(|| wrapping::unwrap(state.wrapping_secret.expose(), id, rp_id))
        })
    }

    /// authenticatorData without attested credential data: rpIdHash ‖ flags ‖ signCount.
    fn auth_data_prefix(&self, rp_id: &str, flags: u8) -> Vec<u8> {
        let count = self.shared.update(|state| {
            state.sign_count = state.sign_count.wrapping_add(1);
            state.sign_count
        });
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&count.to_be_bytes());
        data
    }
}

impl CtapHandler for Authenticator {
    fn power_up(&mut self) {
        *self = Self::new(self.shared.clone());
    }

    fn cbor(&mut self, request: &[u8], io: &mut dyn HidIo) -> Vec<u8> {
        let Some((&command, params)) = request.split_first() else {
            return vec![Status::InvalidLength.code()];
        };
        match self.process(command, params, io) {
            Ok(None) => vec![0x00],
            Ok(Some(value)) => [vec![0x00], cbor::encode(value)].concat(),
            Err(status) => {
                tracing::debug!(command, status = ?status, "request refused");
                vec![status.code()]
            }
        }
    }

    fn wink(&mut self) {
        self.shared.winks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// authenticatorData flags.
mod flags {
    pub const USER_PRESENT: u8 = 0x01;
    pub const USER_VERIFIED: u8 = 0x04;
    pub const ATTESTED_CREDENTIAL: u8 = 0x40;
    pub const EXTENSION_DATA: u8 = 0x80;
}

/// The credential ids of an excludeList or allowList. Every descriptor must be well-formed,
/// but only "public-key" ones count (WebAuthn: clients and authenticators skip types they
/// do not know), and ids longer than maxCredentialIdLength cannot be this key's, so they
/// match nothing. A list longer than the maxCredentialCountInList advertised in getInfo is
/// LIMIT_EXCEEDED: the platform must split it, as browsers do.
fn descriptor_ids(list: &[Value]) -> CtapResult<Vec<&[u8]>> {
    if list.len() as u64 > MAX_CREDENTIALS_IN_LIST {
        return Err(Status::LimitExceeded);
    }
    let mut ids = Vec::new();
    for entry in list {
        let map = entry.as_map().ok_or(Status::CborUnexpectedType)?;
        let id = bytes_field(map, "id")?.ok_or(Status::MissingParameter)?;
        let kind = text_field(map, "type")?.ok_or(Status::MissingParameter)?;
        if kind == "public-key" && id.len() as u64 <= MAX_CREDENTIAL_ID_LENGTH {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// ES256 signature, DER-encoded as WebAuthn requires.
fn sign(private_key: &[u8; 32], message: &[u8]) -> Vec<u8> {
    let key = SigningKey::from_slice(private_key).expect("stored keys are valid scalars");
    let signature: DerSignature = key.sign(message);
    signature.as_bytes().to_vec()
}

/// The credential's public key as a COSE_Key: {1: 2, 3: -7, -1: 1, -2: x, -3: y}.
fn cose_public_key(private_key: &[u8; 32]) -> Value {
    let key = SigningKey::from_slice(private_key).expect("stored keys are valid scalars");
    let point = key.verifying_key().to_sec1_point(false);
    let point = point.as_bytes();
    Value::Map(vec![
        (cbor::int(1), cbor::int(2)),
        (cbor::int(3), cbor::int(-7)),
        (cbor::int(-1), cbor::int(1)),
        (cbor::int(-2), cbor::bytes(&point[1..33])),
        (cbor::int(-3), cbor::bytes(&point[33..])),
    ])
}
