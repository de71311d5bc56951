//! authenticatorGetAssertion (0x02) and authenticatorGetNextAssertion (0x08),
//! CTAP 2.1 §6.2 and §6.3.

use std::time::{Duration, Instant};

use ciborium::Value;

use super::{
    Authenticator, flags,
    cbor::{self, Params, bool_field, bytes, int, text},
    make_credential::descriptor_ids,
    pin_protocol::permission,
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
}

impl Authenticator {
    pub(super) fn get_assertion(&mut self, params: &Params, io: &mut dyn HidIo) -> CtapResult<Value> {
        let rp_id = Params::required(params.text(0x01))?.to_owned();
        let client_data_hash = Params::required(params.bytes(0x02))?;
        let allow_list = params.array(0x03)?.map(descriptor_ids).transpose()?.unwrap_or_default();
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

        let matches = self.matching_credentials(&rp_id, &allow_list, user_verified);
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
        let count = (allow_list.is_empty() && !rest.is_empty()).then_some(matches.len());
        let response = self.assertion(first, &rp_id, client_data_hash, flag_bits, count);
        if count.is_some() {
            self.next_assertions = Some(Pending {
                remaining: rest.to_vec(),
                rp_id,
                client_data_hash: client_data_hash.to_vec(),
                flags: flag_bits,
                started: Instant::now(),
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
        let response = self.assertion(&next, &pending.rp_id, &pending.client_data_hash, pending.flags, None);
        pending.started = Instant::now();
        self.next_assertions = Some(pending);
        Ok(response)
    }

    /// Credentials that may answer: those on the allow list (stored or wrapped in their
    /// id), or else every discoverable credential of the RP, newest first; credProtect
    /// decides which need UV.
    fn matching_credentials(&self, rp_id: &str, allow_list: &[&[u8]], user_verified: bool) -> Vec<Credential> {
        let mut found: Vec<Credential> = if allow_list.is_empty() {
            self.shared.read(|state| state.credentials.iter().filter(|c| c.rp_id == rp_id && c.discoverable).cloned().collect())
        } else {
            allow_list.iter().filter_map(|id| self.find_credential(id, rp_id)).collect()
        };
        found.retain(|c| match c.cred_protect {
            3 => user_verified,
            2 => user_verified || !allow_list.is_empty(),
            _ => true,
        });
        found.sort_by_key(|c| std::cmp::Reverse(c.serial));
        found
    }

    fn assertion(&self, credential: &Credential, rp_id: &str, client_data_hash: &[u8], flag_bits: u8, total: Option<usize>) -> Value {
        let auth_data = self.auth_data_prefix(rp_id, flag_bits);
        let signature = sign(&credential.private_key, &[auth_data.as_slice(), client_data_hash].concat());
        let mut response = vec![
            (int(0x01), Value::Map(vec![(text("id"), bytes(&credential.id)), (text("type"), text("public-key"))])),
            (int(0x02), Value::Bytes(auth_data)),
            (int(0x03), Value::Bytes(signature)),
        ];
        if credential.discoverable {
            response.push((int(0x04), user_entity(credential, flag_bits & flags::USER_VERIFIED != 0)));
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
