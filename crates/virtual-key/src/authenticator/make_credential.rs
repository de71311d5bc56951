//! authenticatorMakeCredential (0x01), in the order of CTAP 2.1 §6.1.2, because the order
//! decides which error a client sees when several things are wrong.

use ciborium::Value;

use super::{
    Authenticator, cose_public_key, descriptor_ids, flags,
    cbor::{Params, bool_field, bytes, bytes_field, field, int, text, text_field},
    pin_protocol::permission,
    status::{CtapResult, Status},
};
use crate::{hid::HidIo, state::Credential};

const ES256: i64 = -7;
const MAX_USER_ID_LENGTH: usize = 64;
const CREDENTIAL_ID_LENGTH: usize = 48;

/// The extensions this key implements, as asked for.
#[derive(Default)]
struct Extensions {
    hmac_secret: bool,
    cred_protect: Option<u8>,
}

impl Authenticator {
    pub(super) fn make_credential(&mut self, params: &Params, io: &mut dyn HidIo) -> CtapResult<Value> {
        let client_data_hash = Params::required(params.bytes(0x01))?;
        let rp = Params::required(params.map(0x02))?;
        let rp_id = text_field(rp, "id")?.ok_or(Status::MissingParameter)?.to_owned();
        let rp_name = text_field(rp, "name")?.map(str::to_owned);
        let user = Params::required(params.map(0x03))?;
        // The whole entity is checked here, so that a malformed one is refused before the
        // user is asked for a touch.
        let user_id = bytes_field(user, "id")?.ok_or(Status::MissingParameter)?;
        let user_name = text_field(user, "name")?.map(str::to_owned);
        let user_display_name = text_field(user, "displayName")?.map(str::to_owned);
        let algorithms = Params::required(params.array(0x04))?;
        let exclude_list = params.array(0x05)?.map(descriptor_ids).transpose()?.unwrap_or_default();
        let extensions = parse_extensions(params)?;
        let pin_auth = params.bytes(0x08)?;

        // Step 1: an empty pinUvAuthParam is a platform asking "touch to pick this key".
        if pin_auth.is_some_and(<[u8]>::is_empty) {
            return self.touch_probe(io);
        }
        let protocol = self.pin_protocol(params, pin_auth.is_some(), 0x09)?;
        if client_data_hash.len() != 32 || user_id.len() > MAX_USER_ID_LENGTH {
            return Err(Status::InvalidLength);
        }
        choose_es256(algorithms)?;

        let options = params.map(0x07)?.unwrap_or_default();
        let rk = bool_field(options, "rk")?.unwrap_or(false);
        if bool_field(options, "up")? == Some(false) {
            return Err(Status::InvalidOption);
        }
        // No built-in UV here: uv=true is only acceptable when a PIN token stands in for it.
        if pin_auth.is_none() && bool_field(options, "uv")? == Some(true) {
            return Err(Status::InvalidOption);
        }
        let pin_set = self.shared.read(|s| s.pin.is_some());
        let user_verified = match (pin_auth, pin_set) {
            (Some(param), true) => {
                let protocol = protocol.expect("checked with the parameter");
                self.token.verify(protocol, client_data_hash, param, permission::MAKE_CREDENTIAL, Some(&rp_id))?;
                true
            }
            (Some(_), false) => return Err(Status::PinNotSet),
            // makeCredUvNotRqd: a PIN-protected key still makes non-discoverable
            // credentials without UV, but a discoverable one needs the PIN.
            (None, true) if rk => return Err(Status::PuatRequired),
            (None, _) => false,
        };

        if self.excluded(&exclude_list, &rp_id, user_verified) {
            // Even a refusal waits for a touch, so a page cannot silently probe which keys
            // a person holds; and it is a refusal whether or not the touch comes (§6.1.2
            // step 12: "regardless of whether user presence is obtained").
            let _ = self.wait_for_touch(io);
            return Err(Status::CredentialExcluded);
        }
        self.wait_for_touch(io)?;
        if pin_auth.is_some() {
            self.token.spend_after_ceremony();
        }

        let mut credential = Credential {
            id: random_bytes(CREDENTIAL_ID_LENGTH),
            rp_id,
            rp_name,
            user_id: user_id.to_vec(),
            user_name,
            user_display_name,
            private_key: new_private_key(),
            discoverable: rk,
            cred_protect: extensions.cred_protect.unwrap_or(1),
            hmac_secret: extensions.hmac_secret.then(|| (rand::random(), rand::random())),
            serial: 0,
        };
        if !rk {
            // The id carries the key; hmac-secret's randoms are derived from it, not stored.
            self.shared.read(|s| {
                credential.id = super::wrapping::wrap(s.wrapping_secret.expose(), &credential);
                if credential.hmac_secret.is_some() {
                    credential.hmac_secret = Some(super::wrapping::cred_randoms(s.wrapping_secret.expose(), &credential.id));
                }
            });
        }
        let response = self.attest(&credential, &extensions, client_data_hash, user_verified);
        if rk {
            self.store(credential)?;
        }
        Ok(response)
    }

    /// Whether a listed credential of this RP forbids registering again; a credProtect=3
    /// one counts only with UV, as it is invisible without it.
    fn excluded(&self, exclude_list: &[&[u8]], rp_id: &str, user_verified: bool) -> bool {
        exclude_list.iter().filter_map(|id| self.find_credential(id, rp_id)).any(|c| c.cred_protect != 3 || user_verified)
    }

    fn attest(&self, credential: &Credential, extensions: &Extensions, client_data_hash: &[u8], uv: bool) -> Value {
        let extension_output = extension_output(credential, extensions);
        let mut flag_bits = flags::USER_PRESENT | flags::ATTESTED_CREDENTIAL;
        if uv {
            flag_bits |= flags::USER_VERIFIED;
        }
        if extension_output.is_some() {
            flag_bits |= flags::EXTENSION_DATA;
        }
        let mut auth_data = self.auth_data_prefix(&credential.rp_id, flag_bits);
        auth_data.extend_from_slice(&self.shared.config.model.aaguid);
        auth_data.extend_from_slice(&(credential.id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&credential.id);
        auth_data.extend_from_slice(&super::cbor::encode(cose_public_key(&credential.private_key)));
        if let Some(output) = extension_output {
            auth_data.extend_from_slice(&super::cbor::encode(output));
        }
        let signed = [auth_data.as_slice(), client_data_hash].concat();
        let attestation = &self.shared.attestation;
        let statement = Value::Map(vec![
            (text("alg"), int(ES256)),
            (text("sig"), Value::Bytes(attestation.sign(&signed))),
            (text("x5c"), Value::Array(vec![bytes(attestation.certificate_der())])),
        ]);
        Value::Map(vec![(int(0x01), text("packed")), (int(0x02), Value::Bytes(auth_data)), (int(0x03), statement)])
    }

    /// Keeps a discoverable credential, replacing any for the same RP and user.
    fn store(&self, mut credential: Credential) -> CtapResult<()> {
        let max = self.shared.config.max_credentials;
        self.shared.try_update(|state| {
            state.credentials.retain(|c| !(c.rp_id == credential.rp_id && c.user_id == credential.user_id));
            if state.credentials.len() >= max {
                return Err(Status::KeyStoreFull);
            }
            credential.serial = state.next_serial;
            state.next_serial = state.next_serial.saturating_add(1);
            state.credentials.push(credential);
            Ok(())
        })
    }
}

/// ES256 must be among the requested algorithms: it is the only one this key has.
fn choose_es256(algorithms: &[Value]) -> CtapResult<()> {
    let mut found = false;
    for entry in algorithms {
        let map = entry.as_map().ok_or(Status::CborUnexpectedType)?;
        let alg = field(map, "alg").and_then(Value::as_integer).ok_or(Status::CborUnexpectedType)?;
        let kind = text_field(map, "type")?.ok_or(Status::CborUnexpectedType)?;
        found |= kind == "public-key" && i128::from(alg) == i128::from(ES256);
    }
    if found { Ok(()) } else { Err(Status::UnsupportedAlgorithm) }
}

fn parse_extensions(params: &Params) -> CtapResult<Extensions> {
    let Some(map) = params.map(0x06)? else { return Ok(Extensions::default()) };
    let hmac_secret = bool_field(map, "hmac-secret")?.unwrap_or(false);
    let cred_protect = match field(map, "credProtect") {
        None => None,
        Some(value) => {
            let level = super::cbor::as_uint(value)?;
            Some(u8::try_from(level).ok().filter(|l| (1..=3).contains(l)).ok_or(Status::InvalidParameter)?)
        }
    };
    Ok(Extensions { hmac_secret, cred_protect })
}

/// Outputs only for extensions that were asked for (CTAP: outputs ⊆ inputs).
fn extension_output(credential: &Credential, asked: &Extensions) -> Option<Value> {
    let mut entries = Vec::new();
    if let Some(level) = asked.cred_protect {
        debug_assert_eq!(level, credential.cred_protect);
        entries.push((text("credProtect"), int(level.into())));
    }
    if asked.hmac_secret {
        entries.push((text("hmac-secret"), Value::Bool(true)));
    }
    (!entries.is_empty()).then_some(Value::Map(entries))
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rand::fill(&mut bytes[..]);
    bytes
}

/// A fresh P-256 private key as raw bytes, for storage in the credential.
fn new_private_key() -> [u8; 32] {
    use p256::elliptic_curve::Generate;
    p256::SecretKey::generate().to_bytes().into()
}
