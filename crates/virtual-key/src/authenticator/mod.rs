//! The CTAP2 authenticator: one instance per power cycle, behind the HID interface.

mod cbor;
mod client_pin;
mod credential_management;
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
    touch::Presence,
};
use cbor::Params;
use pin_protocol::{KeyAgreement, PinUvAuthToken};
pub use status::Status;
use status::CtapResult;

/// CTAP 2.1 §6.6: reset only within 10 s of power-up, so malware cannot wipe a key
/// that has been plugged in for a while.
const RESET_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

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
        let params = Params::decode(params)?;
        match command {
            0x01 => self.make_credential(&params, io).map(Some),
            0x02 => self.get_assertion(&params, io).map(Some),
            0x04 => Ok(Some(self.info())),
            0x06 => self.client_pin(&params),
            0x07 => self.reset(io).map(|()| None),
            0x08 => self.get_next_assertion().map(Some),
            0x0A => self.credential_management(&params),
            0x0B => self.wait_for_touch(io).map(|()| None),
            _ => Err(Status::InvalidCommand),
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
