//! The authenticator's side of PIN/UV auth protocols 1 and 2 (CTAP 2.1 §6.5.6, §6.5.7),
//! and the pinUvAuthToken with its permissions and usage rules (§6.5.2).

use std::time::{Duration, Instant};

use ciborium::Value;
use hkdf::Hkdf;
use p256::{
    PublicKey, SecretKey,
    elliptic_curve::{
        Generate,
        sec1::ToSec1Point,
    },
};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{
    cbor::{as_uint, int},
    crypto::{self, BLOCK},
    status::{CtapResult, Status},
};

/// The key agreement key, made at power-up and again after every wrong PIN.
pub struct KeyAgreement(SecretKey);

impl KeyAgreement {
    pub fn generate() -> Self {
        Self(SecretKey::generate())
    }

    /// COSE_Key {1: 2 (EC2), 3: -25 (ECDH-ES+HKDF-256), -1: 1 (P-256), -2: x, -3: y}.
    pub fn cose_public_key(&self) -> Value {
        let point = self.0.public_key().to_uncompressed_point();
        Value::Map(vec![
            (int(1), int(2)),
            (int(3), int(-25)),
            (int(-1), int(1)),
            (int(-2), Value::Bytes(point[1..33].to_vec())),
            (int(-3), Value::Bytes(point[33..].to_vec())),
        ])
    }

    /// ECDH with the platform's COSE key; an invalid or off-curve key is INVALID_PARAMETER.
    pub fn shared_secret(&self, protocol: u8, platform_key: &Value) -> CtapResult<SharedSecret> {
        let peer = parse_cose_key(platform_key)?;
        let z = Zeroizing::new(self.0.diffie_hellman(&peer).raw_secret_bytes().to_vec());
        SharedSecret::derive(protocol, &z)
    }
}

fn parse_cose_key(value: &Value) -> CtapResult<PublicKey> {
    let map = value.as_map().ok_or(Status::CborUnexpectedType)?;
    let get = |key: i64| map.iter().find(|(k, _)| *k == int(key)).map(|(_, v)| v);
    let kty = get(1).map(as_uint).transpose()?;
    let crv = get(-1).map(as_uint).transpose()?;
    let (Some(2), Some(1)) = (kty, crv) else { return Err(Status::InvalidParameter) };
    let coordinate = |key| get(key).and_then(Value::as_bytes).filter(|b| b.len() == 32).ok_or(Status::InvalidParameter);
    let (x, y) = (coordinate(-2)?, coordinate(-3)?);
    let sec1 = [&[0x04][..], x, y].concat();
    PublicKey::from_sec1_bytes(&sec1).map_err(|_| Status::InvalidParameter)
}

/// The secret both sides derive from one key agreement.
pub struct SharedSecret {
    protocol: u8,
    /// v1: SHA-256(Z), used for both HMAC and AES. v2: HMAC key (32) ‖ AES key (32).
    key: Zeroizing<Vec<u8>>,
}

impl SharedSecret {
    fn derive(protocol: u8, z: &[u8]) -> CtapResult<Self> {
        let key = match protocol {
            1 => crypto::sha256(z).to_vec(),
            2 => {
                let hkdf = Hkdf::<Sha256>::new(Some(&[0u8; 32]), z);
                let mut key = vec![0u8; 64];
                hkdf.expand(b"CTAP2 HMAC key", &mut key[..32]).expect("32 bytes is a valid HKDF length");
                hkdf.expand(b"CTAP2 AES key", &mut key[32..]).expect("32 bytes is a valid HKDF length");
                key
            }
            _ => return Err(Status::InvalidParameter),
        };
        Ok(Self { protocol, key: Zeroizing::new(key) })
    }

    fn hmac_key(&self) -> &[u8] {
        &self.key[..32]
    }

    fn aes_key(&self) -> &[u8] {
        if self.protocol == 1 { &self.key[..32] } else { &self.key[32..] }
    }

    /// v1: AES-256-CBC with a zero IV; v2: a random IV, sent in front. Every plaintext the
    /// key encrypts (tokens, hmac-secret outputs) is whole blocks.
    pub fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        let iv: [u8; BLOCK] = if self.protocol == 1 { [0; BLOCK] } else { rand::random() };
        let ciphertext = crypto::aes256_cbc_encrypt(self.aes_key(), &iv, plaintext).expect("the key encrypts whole blocks only");
        if self.protocol == 1 { ciphertext } else { [iv.as_slice(), &ciphertext].concat() }
    }

    pub fn decrypt(&self, ciphertext: &[u8]) -> CtapResult<Zeroizing<Vec<u8>>> {
        let (iv, body) = match self.protocol {
            1 => (&[0u8; BLOCK], ciphertext),
            _ => ciphertext.split_first_chunk::<BLOCK>().ok_or(Status::PinAuthInvalid)?,
        };
        crypto::aes256_cbc_decrypt(self.aes_key(), iv, body).ok_or(Status::PinAuthInvalid)
    }

    /// Checks a pinUvAuthParam made with this shared secret (setPIN, changePIN).
    pub fn verify(&self, message: &[u8], param: &[u8]) -> bool {
        verify_hmac(self.protocol, self.hmac_key(), message, param)
    }
}

/// v1 truncates the HMAC to 16 bytes, v2 keeps all 32; compared in constant time.
fn verify_hmac(protocol: u8, key: &[u8], message: &[u8], param: &[u8]) -> bool {
    let expected_len = if protocol == 1 { 16 } else { 32 };
    crypto::constant_time_eq(&crypto::hmac_sha256(key, &[message])[..expected_len], param)
}

/// Token lifetime (§6.5.2.1): it must be used within 30 s of being issued (USB), and
/// serves at most 10 minutes in all.
const FIRST_USE_WITHIN: Duration = Duration::from_secs(30);
const MAX_USAGE_PERIOD: Duration = Duration::from_secs(600);

pub mod permission {
    pub const MAKE_CREDENTIAL: u8 = 0x01;
    pub const GET_ASSERTION: u8 = 0x02;
    pub const CREDENTIAL_MANAGEMENT: u8 = 0x04;
    pub const LARGE_BLOB_WRITE: u8 = 0x10;
}

/// The one pinUvAuthToken of this power cycle, valid for both protocols.
pub struct PinUvAuthToken {
    key: Zeroizing<[u8; 32]>,
    state: Option<TokenState>,
}

struct TokenState {
    permissions: u8,
    rp_id: Option<String>,
    issued: Instant,
    first_used: Option<Instant>,
    user_verified: bool,
}

impl PinUvAuthToken {
    pub fn new() -> Self {
        Self { key: Zeroizing::new(rand::random()), state: None }
    }

    /// resetPinUvAuthToken(): a fresh random token, nothing granted.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// beginUsingPinUvAuthToken() after a correct PIN, with what it may be used for.
    pub fn begin_using(&mut self, permissions: u8, rp_id: Option<String>) {
        let state = TokenState { permissions, rp_id, issued: Instant::now(), first_used: None, user_verified: true };
        self.state = Some(state);
    }

    pub fn bytes(&self) -> &[u8] {
        self.key.as_slice()
    }

    /// Checks a pinUvAuthParam over `message` for an operation needing `permission`,
    /// bound to `rp_id` when given (binding the token to it if it had no RP yet).
    pub fn verify(&mut self, protocol: u8, message: &[u8], param: &[u8], permission: u8, rp_id: Option<&str>) -> CtapResult<()> {
        self.expire_if_due();
        let state = self.state.as_mut().ok_or(Status::PinAuthInvalid)?;
        if !verify_hmac(protocol, self.key.as_slice(), message, param) {
            return Err(Status::PinAuthInvalid);
        }
        if state.permissions & permission == 0 || !state.user_verified {
            return Err(Status::PinAuthInvalid);
        }
        match (&state.rp_id, rp_id) {
            (Some(bound), Some(rp_id)) if bound != rp_id => return Err(Status::PinAuthInvalid),
            (None, Some(rp_id)) => state.rp_id = Some(rp_id.to_owned()),
            _ => {}
        }
        state.first_used.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// The RP the token is bound to, if any (credential management rules depend on it).
    pub fn rp_id(&self) -> Option<&str> {
        self.state.as_ref().and_then(|s| s.rp_id.as_deref())
    }

    /// After a makeCredential or getAssertion collected user presence, the token keeps
    /// only its large-blob permission: one PIN entry yields one ceremony (§6.1.2 step 14).
    pub fn spend_after_ceremony(&mut self) {
        if let Some(state) = &mut self.state {
            state.user_verified = false;
            state.permissions &= permission::LARGE_BLOB_WRITE;
        }
    }

    fn expire_if_due(&mut self) {
        let expired = self.state.as_ref().is_some_and(|s| {
            let age = s.issued.elapsed();
            age > MAX_USAGE_PERIOD || (s.first_used.is_none() && age > FIRST_USE_WITHIN)
        });
        if expired {
            self.state = None;
        }
    }
}
