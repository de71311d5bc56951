//! authenticatorClientPIN (0x06): retries, key agreement, set and change the PIN, and
//! pinUvAuthTokens, with the retry and blocking rules of CTAP 2.1 §6.5.

use ciborium::Value;
use zeroize::Zeroizing;

use super::{
    Authenticator, crypto,
    cbor::{Params, int},
    pin_protocol::{SharedSecret, permission},
    status::{CtapResult, Status},
};
use crate::state::{MAX_PIN_RETRIES, StoredPin};

/// Three wrong PINs in a row block PIN entry until the key is re-plugged.
const MISMATCHES_BEFORE_POWER_CYCLE: u8 = 3;
/// newPinEnc's plaintext: the PIN zero-padded to exactly 64 bytes, so at most 63 bytes.
const PADDED_PIN_LEN: usize = 64;

impl Authenticator {
    pub(super) fn client_pin(&mut self, params: &Params) -> CtapResult<Option<Value>> {
        let subcommand = Params::required(params.uint(0x02))?;
        let protocol = Params::required(params.uint(0x01))?;
        let protocol = u8::try_from(protocol).ok().filter(|p| self.shared.config.pin_protocols.contains(p));
        let protocol = protocol.ok_or(Status::InvalidParameter)?;
        match subcommand {
            0x01 => Ok(Some(self.pin_retries())),
            0x02 => Ok(Some(Value::Map(vec![(int(0x01), self.key_agreement.cose_public_key())]))),
            0x03 => self.set_pin(protocol, params).map(|()| None),
            0x04 => self.change_pin(protocol, params).map(|()| None),
            0x05 => self.pin_token(protocol, params, false).map(Some),
            0x09 => self.pin_token(protocol, params, true).map(Some),
            _ => Err(Status::InvalidSubcommand),
        }
    }

    fn pin_retries(&self) -> Value {
        let retries = self.shared.read(|s| s.pin_retries);
        Value::Map(vec![
            (int(0x03), int(retries.into())),
            (int(0x04), Value::Bool(self.consecutive_pin_mismatches >= MISMATCHES_BEFORE_POWER_CYCLE)),
        ])
    }

    fn set_pin(&mut self, protocol: u8, params: &Params) -> CtapResult<()> {
        // Every parameter is checked before whether a PIN is set (§6.5.5.5 step 1).
        let platform_key = params.get(0x03).ok_or(Status::MissingParameter)?;
        let param = Params::required(params.bytes(0x04))?;
        let new_pin_enc = Params::required(params.bytes(0x05))?;
        if self.shared.read(|s| s.pin.is_some()) {
            return Err(Status::PinAuthInvalid);
        }
        let secret = self.key_agreement.shared_secret(protocol, platform_key)?;
        if !secret.verify(new_pin_enc, param) {
            return Err(Status::PinAuthInvalid);
        }
        let pin = self.new_pin(&secret, new_pin_enc)?;
        self.shared.update(|state| {
            state.pin = Some(pin);
            state.pin_retries = MAX_PIN_RETRIES;
        });
        self.token.reset();
        tracing::info!("PIN set");
        Ok(())
    }

    fn change_pin(&mut self, protocol: u8, params: &Params) -> CtapResult<()> {
        let param = Params::required(params.bytes(0x04))?;
        let new_pin_enc = Params::required(params.bytes(0x05))?;
        let pin_hash_enc = Params::required(params.bytes(0x06))?;
        let platform_key = params.get(0x03).ok_or(Status::MissingParameter)?;
        self.check_pin_usable()?;
        let secret = self.key_agreement.shared_secret(protocol, platform_key)?;
        if !secret.verify(&[new_pin_enc, pin_hash_enc].concat(), param) {
            return Err(Status::PinAuthInvalid);
        }
        self.check_pin_hash(&secret, pin_hash_enc)?;
        let pin = self.new_pin(&secret, new_pin_enc)?;
        let unchanged = self.shared.read(|s| s.pin.as_ref().is_some_and(|old| crypto::constant_time_eq(&old.hash, &pin.hash)));
        if unchanged && self.shared.read(|s| s.force_pin_change) {
            return Err(Status::PinPolicyViolation);
        }
        self.shared.update(|state| {
            state.pin = Some(pin);
            state.force_pin_change = false;
        });
        self.token.reset();
        tracing::info!("PIN changed");
        Ok(())
    }

    /// getPinToken (0x05, the CTAP 2.0 way: mc|ga, no RP) or
    /// getPinUvAuthTokenUsingPinWithPermissions (0x09).
    fn pin_token(&mut self, protocol: u8, params: &Params, with_permissions: bool) -> CtapResult<Value> {
        let pin_hash_enc = Params::required(params.bytes(0x06))?;
        let platform_key = params.get(0x03).ok_or(Status::MissingParameter)?;
        let (permissions, rp_id) = if with_permissions {
            let permissions = Params::required(params.uint(0x09))?;
            let rp_id = params.text(0x0A)?.map(str::to_owned);
            (self.check_permissions(permissions, rp_id.as_deref())?, rp_id)
        } else {
            if params.has(0x09) || params.has(0x0A) {
                return Err(Status::InvalidParameter);
            }
            (permission::MAKE_CREDENTIAL | permission::GET_ASSERTION, None)
        };
        self.check_pin_usable()?;
        let secret = self.key_agreement.shared_secret(protocol, platform_key)?;
        self.check_pin_hash(&secret, pin_hash_enc)?;
        if self.shared.read(|s| s.force_pin_change) {
            return Err(Status::PinPolicyViolation);
        }
        self.token.reset();
        self.token.begin_using(permissions, rp_id);
        Ok(Value::Map(vec![(int(0x02), Value::Bytes(secret.encrypt(self.token.bytes())))]))
    }

    fn check_permissions(&self, permissions: u64, rp_id: Option<&str>) -> CtapResult<u8> {
        let permissions = u8::try_from(permissions).map_err(|_| Status::InvalidParameter)?;
        if permissions == 0 {
            return Err(Status::InvalidParameter);
        }
        let supported = permission::MAKE_CREDENTIAL | permission::GET_ASSERTION | permission::CREDENTIAL_MANAGEMENT;
        if permissions & !supported != 0 {
            return Err(Status::UnauthorizedPermission);
        }
        let ceremony = permission::MAKE_CREDENTIAL | permission::GET_ASSERTION;
        if permissions & ceremony != 0 && rp_id.is_none() {
            return Err(Status::InvalidParameter);
        }
        Ok(permissions)
    }

    /// PIN set, not blocked, and not blocked until re-plug.
    fn check_pin_usable(&self) -> CtapResult<()> {
        let (pin_set, retries) = self.shared.read(|s| (s.pin.is_some(), s.pin_retries));
        if !pin_set {
            return Err(Status::PinNotSet);
        }
        if retries == 0 {
            return Err(Status::PinBlocked);
        }
        if self.consecutive_pin_mismatches >= MISMATCHES_BEFORE_POWER_CYCLE {
            return Err(Status::PinAuthBlocked);
        }
        Ok(())
    }

    /// The retry counter goes down before the comparison and is stored at once, so
    /// pulling the key out mid-check cannot buy an extra attempt.
    fn check_pin_hash(&mut self, secret: &SharedSecret, pin_hash_enc: &[u8]) -> CtapResult<()> {
        let retries = self.shared.update(|state| {
            state.pin_retries = state.pin_retries.saturating_sub(1);
            state.pin_retries
        });
        let typed = secret.decrypt(pin_hash_enc).ok().filter(|hash| hash.len() == 16);
        let stored = self.shared.read(|s| s.pin.as_ref().map(|pin| Zeroizing::new(pin.hash)));
        let matches = match (typed, stored) {
            (Some(typed), Some(stored)) => crypto::constant_time_eq(&typed, stored.as_slice()),
            _ => false,
        };
        if matches {
            self.shared.update(|state| state.pin_retries = MAX_PIN_RETRIES);
            self.consecutive_pin_mismatches = 0;
            return Ok(());
        }
        self.key_agreement = super::pin_protocol::KeyAgreement::generate();
        if retries == 0 {
            tracing::info!("PIN blocked");
            return Err(Status::PinBlocked);
        }
        self.consecutive_pin_mismatches += 1;
        if self.consecutive_pin_mismatches >= MISMATCHES_BEFORE_POWER_CYCLE {
            return Err(Status::PinAuthBlocked);
        }
        Err(Status::PinInvalid)
    }

    /// Decrypts newPinEnc and checks the new PIN against the key's policy.
    fn new_pin(&self, secret: &SharedSecret, new_pin_enc: &[u8]) -> CtapResult<StoredPin> {
        let padded = secret.decrypt(new_pin_enc)?;
        if padded.len() != PADDED_PIN_LEN {
            return Err(Status::InvalidParameter);
        }
        let len = padded.iter().position(|&b| b == 0).ok_or(Status::PinPolicyViolation)?;
        let pin = Zeroizing::new(padded[..len].to_vec());
        let text = std::str::from_utf8(&pin).map_err(|_| Status::PinPolicyViolation)?;
        let code_points = text.chars().count();
        if code_points < self.shared.read(|s| s.min_pin_length) {
            return Err(Status::PinPolicyViolation);
        }
        // Only the left half is kept, but the whole digest stands in for the PIN until wiped.
        let digest = crypto::sha256(&pin);
        let mut hash = [0u8; 16];
        hash.copy_from_slice(&digest[..16]);
        Ok(StoredPin { hash, code_points })
    }
}
