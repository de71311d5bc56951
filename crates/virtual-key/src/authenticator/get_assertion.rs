//! authenticatorGetAssertion (0x02) and authenticatorGetNextAssertion (0x08),
//! CTAP 2.1 §6.2 and §6.3.

use std::time::{Duration, Instant};

use ciborium::Value;
use zeroize::Zeroizing;

use super::{
    Authenticator, crypto, descriptor_ids, flags,
    cbor::{self, Params, as_uint, bool_field, bytes, field, int, text},
    pin_protocol::{SharedSecret, permission},
    sign,
    status::{CtapResult, Status},
};
use crate::{hid::HidIo, state::Credential};

/// getNextAssertion must follow within 30 s.
const NEXT_ASSERTION_WINDOW: Duration = Duration::from_secs(30);

/// The rest of a getAssertion that matched several discoverable credentials.
pub(super) struct Pending {
    remaining: Vec<Credential>,
    rp_id: String,
    client_data_hash: Vec<u8>,
    flags: u8,
    started: Instant,
    hmac_secret: Option<HmacSecretInput>,
}

/// getAssertion's hmac-secret input (CTAP 2.1 §12.5), authenticated and decrypted.
pub(super) struct HmacSecretInput {
    secret: SharedSecret,
    /// salt1, or salt1 ‖ salt2: 32 or 64 bytes.
    salts: Zeroizing<Vec<u8>>,
}

impl HmacSecretInput {
    /// encrypt(sharedSecret, HMAC-SHA-256(CredRandom, salt1) ‖ HMAC-SHA-256(CredRandom, salt2)),
    /// with the CredRandom for UV or without, as the assertion's UV bit says. None for a
    /// credential made without hmac-secret.
    fn output(&self, credential: &Credential, user_verified: bool) -> Option<Vec<u8>> {
        let (with_uv, without_uv) = credential.hmac_secret.as_ref()?;
        let cred_random = if user_verified { with_uv } else { without_uv };
        let mut outputs = Zeroizing::new(Vec::with_capacity(self.salts.len()));
        for salt in self.salts.chunks(SALT_LEN) {
            outputs.extend_from_slice(crypto::hmac_sha256(cred_random, &[salt]).as_slice());
        }
        Some(self.secret.encrypt(&outputs))
    }
}

const SALT_LEN: usize = 32;

impl Authenticator {
    pub(super) fn get_assertion(&mut self, params: &Params, io: &mut dyn HidIo) -> CtapResult<Value> {
        let rp_id = Params::required(params.text(0x01))?.to_owned();
        let client_data_hash = Params::required(params.bytes(0x02))?;
        let allow_list = params.array(0x03)?;
        // A non-empty allowList asks for those credentials only, even when none of its
        // descriptors can be ours (CTAP 2.1 §6.2.2 step 7); an empty one is as none.
        let listed = allow_list.is_some_and(|list| !list.is_empty());
        let allowed = allow_list.map(descriptor_ids).transpose()?.unwrap_or_default();
        let pin_auth = params.bytes(0x06)?;
        if pin_auth.is_some_and(<[u8]>::is_empty) {
            return self.touch_probe(io);
        }
        let protocol = self.pin_protocol(params, pin_auth.is_some(), 0x07)?;
        if client_data_hash.len() != 32 {
            return Err(Status::InvalidLength);
        }
        let options = params.map(0x05)?.unwrap_or_default();
        if bool_field(options, "rk")?.is_some() {
            return Err(Status::UnsupportedOption);
        }
        if pin_auth.is_none() && bool_field(options, "uv")? == Some(true) {
            return Err(Status::InvalidOption);
        }
        let up = bool_field(options, "up")?.unwrap_or(true);
        let user_verified = match pin_auth {
            Some(param) => {
                if self.shared.read(|s| s.pin.is_none()) {
                    return Err(Status::PinNotSet);
                }
                let protocol = protocol.expect("checked with the parameter");
                self.token.verify(protocol, client_data_hash, param, permission::GET_ASSERTION, Some(&rp_id))?;
                true
            }
            None => false,
        };

        // Checked before the touch: a request that cannot succeed should not ask for one.
        let hmac_secret = self.hmac_secret_input(params)?;
        let matches = self.matching_credentials(&rp_id, listed.then_some(allowed.as_slice()), user_verified);
        let Some((first, rest)) = matches.split_first() else { return Err(Status::NoCredentials) };
        if up {
            self.wait_for_touch(io)?;
            if pin_auth.is_some() {
                self.token.spend_after_ceremony();
            }
        }
        let mut flag_bits = if up { flags::USER_PRESENT } else { 0 };
        if user_verified {
            flag_bits |= flags::USER_VERIFIED;
        }
        let count = (!listed && !rest.is_empty()).then_some(matches.len());
        let response = self.assertion(first, &rp_id, client_data_hash, flag_bits, count, hmac_secret.as_ref());
        if count.is_some() {
            self.next_assertions = Some(Pending {
                remaining: rest.to_vec(),
                rp_id,
                client_data_hash: client_data_hash.to_vec(),
                flags: flag_bits,
                started: Instant::now(),
                hmac_secret,
            });
        }
        Ok(response)
    }

    pub(super) fn get_next_assertion(&mut self) -> CtapResult<Value> {
        let mut pending = self.next_assertions.take().ok_or(Status::NotAllowed)?;
        if pending.started.elapsed() > NEXT_ASSERTION_WINDOW || pending.remaining.is_empty() {
            return Err(Status::NotAllowed);
        }
        let next = pending.remaining.remove(0);
        let response =
            self.assertion(&next, &pending.rp_id, &pending.client_data_hash, pending.flags, None, pending.hmac_secret.as_ref());
        pending.started = Instant::now();
        self.next_assertions = Some(pending);
        Ok(response)
    }

    /// Credentials that may answer: those on the allow list (stored or wrapped in their
    /// id), or without one every discoverable credential of the RP, newest first;
    /// credProtect decides which need UV.
    fn matching_credentials(&self, rp_id: &str, allow_list: Option<&[&[u8]]>, user_verified: bool) -> Vec<Credential> {
        let mut found: Vec<Credential> = match allow_list {
            None => self.shared.read(|state| state.credentials.iter().filter(|c| c.rp_id == rp_id && c.discoverable).cloned().collect()),
            Some(ids) => ids.iter().filter_map(|id| self.find_credential(id, rp_id)).collect(),
        };
        found.retain(|c| match c.cred_protect {
            3 => user_verified,
            2 => user_verified || allow_list.is_some(),
            _ => true,
        });
        found.sort_by_key(|c| std::cmp::Reverse(c.serial));
        found
    }

    /// The hmac-secret input of getAssertion's extensions, if there is one: keyAgreement
    /// (0x01), saltEnc (0x02), saltAuth (0x03), pinUvAuthProtocol (0x04, default 1).
    fn hmac_secret_input(&self, params: &Params) -> CtapResult<Option<HmacSecretInput>> {
        let Some(extensions) = params.map(0x04)? else { return Ok(None) };
        let Some(input) = field(extensions, "hmac-secret") else { return Ok(None) };
        let input = input.as_map().ok_or(Status::CborUnexpectedType)?;
        let get = |key: i64| input.iter().find(|(k, _)| *k == int(key)).map(|(_, v)| v);
        let bytes_at = |key: i64| get(key).ok_or(Status::MissingParameter)?.as_bytes().ok_or(Status::CborUnexpectedType);
        let platform_key = get(0x01).ok_or(Status::MissingParameter)?;
        let (salt_enc, salt_auth) = (bytes_at(0x02)?, bytes_at(0x03)?);
        let protocol = get(0x04).map(as_uint).transpose()?.unwrap_or(1);
        let protocol = u8::try_from(protocol).ok().filter(|p| self.shared.config.pin_protocols.contains(p));
        let secret = self.key_agreement.shared_secret(protocol.ok_or(Status::InvalidParameter)?, platform_key)?;
        if !secret.verify(salt_enc, salt_auth) {
            return Err(Status::PinAuthInvalid);
        }
        let salts = secret.decrypt(salt_enc).map_err(|_| Status::InvalidParameter)?;
        if salts.len() != SALT_LEN && salts.len() != 2 * SALT_LEN {
            return Err(Status::InvalidParameter);
        }
        Ok(Some(HmacSecretInput { secret, salts }))
    }

    fn assertion(
        &self,
        credential: &Credential,
        rp_id: &str,
        client_data_hash: &[u8],
        mut flag_bits: u8,
        total: Option<usize>,
        hmac_secret: Option<&HmacSecretInput>,
    ) -> Value {
        let user_verified = flag_bits & flags::USER_VERIFIED != 0;
        let extensions = hmac_secret
            .and_then(|input| input.output(credential, user_verified))
            .map(|output| Value::Map(vec![(text("hmac-secret"), Value::Bytes(output))]));
        if extensions.is_some() {
            flag_bits |= flags::EXTENSION_DATA;
        }
        let mut auth_data = self.auth_data_prefix(rp_id, flag_bits);
        if let Some(extensions) = extensions {
            auth_data.extend(cbor::encode(extensions));
        }
        let signature = sign(&credential.private_key, &[auth_data.as_slice(), client_data_hash].concat());
        let mut response = vec![
            (int(0x01), Value::Map(vec![(text("id"), bytes(&credential.id)), (text("type"), text("public-key"))])),
            (int(0x02), Value::Bytes(auth_data)),
            (int(0x03), Value::Bytes(signature)),
        ];
        if credential.discoverable {
            response.push((int(0x04), user_entity(credential, user_verified)));
        }
        if let Some(total) = total {
            response.push((int(0x05), cbor::count(total)));
        }
        Value::Map(response)
    }
}

/// Names only with UV: without it, anyone holding the key could read who it belongs to.
pub(super) fn user_entity(credential: &Credential, with_names: bool) -> Value {
    let mut user = vec![(text("id"), bytes(&credential.user_id))];
    if with_names {
        if let Some(name) = &credential.user_name {
            user.push((text("name"), text(name)));
        }
        if let Some(name) = &credential.user_display_name {
            user.push((text("displayName"), text(name)));
        }
    }
    Value::Map(user)
}
