//! authenticatorCredentialManagement (0x0A): count, list and delete discoverable
//! credentials (CTAP 2.1 §6.8), which is how a failed registration is cleaned up.

use ciborium::Value;
use sha2::{Digest, Sha256};

use super::{
    Authenticator, cose_public_key,
    cbor::{Params, bytes, bytes_field, count, encode, int, text},
    get_assertion::user_entity,
    pin_protocol::permission,
    status::{CtapResult, Status},
};
use crate::state::Credential;

/// What an authenticated subcommand acts on.
enum Target<'a> {
    /// getCredsMetadata: counts over the whole key.
    Metadata,
    /// enumerateRPsBegin: every RP on the key.
    RelyingParties,
    /// enumerateCredentialsBegin: the credentials of the RP with this rpIdHash.
    RelyingParty(&'a [u8]),
    /// deleteCredential: the credential with this id.
    Credential(&'a [u8]),
}

/// What enumerateRPsGetNextRP / enumerateCredentialsGetNextCredential continue.
pub(super) enum Enumeration {
    RelyingParties(Vec<String>),
    Credentials(Vec<Vec<u8>>),
}

const GET_METADATA: u64 = 0x01;
const ENUMERATE_RPS_BEGIN: u64 = 0x02;
const ENUMERATE_RPS_NEXT: u64 = 0x03;
const ENUMERATE_CREDENTIALS_BEGIN: u64 = 0x04;
const ENUMERATE_CREDENTIALS_NEXT: u64 = 0x05;
const DELETE_CREDENTIAL: u64 = 0x06;

impl Authenticator {
    pub(super) fn credential_management(&mut self, params: &Params) -> CtapResult<Option<Value>> {
        let subcommand = Params::required(params.uint(0x01))?;
        let continuing = self.enumeration.take();
        match subcommand {
            ENUMERATE_RPS_NEXT => return self.next_rp(continuing).map(Some),
            ENUMERATE_CREDENTIALS_NEXT => return self.next_credential(continuing).map(Some),
            GET_METADATA | ENUMERATE_RPS_BEGIN | ENUMERATE_CREDENTIALS_BEGIN | DELETE_CREDENTIAL => {}
            _ => return Err(Status::InvalidSubcommand),
        }
        let sub_params = params.get(0x02);
        let sub_map = sub_params.map(|v| v.as_map().map(Vec::as_slice).ok_or(Status::CborUnexpectedType)).transpose()?;
        let sub_param = |key: i64| sub_map.unwrap_or_default().iter().find(|(k, _)| *k == int(key)).map(|(_, v)| v);
        // What the subcommand acts on, required before anything is authorized (§6.8 step 1).
        let target = match subcommand {
            ENUMERATE_CREDENTIALS_BEGIN => {
                let hash = sub_param(0x01).ok_or(Status::MissingParameter)?;
                Target::RelyingParty(hash.as_bytes().ok_or(Status::CborUnexpectedType)?.as_slice())
            }
            DELETE_CREDENTIAL => {
                let descriptor = sub_param(0x02).ok_or(Status::MissingParameter)?;
                let descriptor = descriptor.as_map().ok_or(Status::CborUnexpectedType)?;
                Target::Credential(bytes_field(descriptor, "id")?.ok_or(Status::MissingParameter)?)
            }
            GET_METADATA => Target::Metadata,
            _ => Target::RelyingParties,
        };
        self.authorize(params, subcommand, sub_params, &target)?;
        match target {
            Target::Metadata => Ok(Some(self.metadata())),
            Target::RelyingParties => self.first_rp().map(Some),
            Target::RelyingParty(rp_id_hash) => self.first_credential(rp_id_hash).map(Some),
            Target::Credential(id) => self.delete(id).map(|()| None),
        }
    }

    /// pinUvAuthParam = authenticate(token, subCommand ‖ CBOR(subCommandParams)), and the
    /// token must carry the cm permission. A token bound to an RP may only list or delete
    /// that RP's credentials: metadata and the RP list are refused, and so is anything that
    /// cannot be shown to be the RP's, such as an id the key does not hold (PIN_AUTH_INVALID,
    /// rather than NO_CREDENTIALS, which would tell the holder of a narrow token about others).
    fn authorize(&mut self, params: &Params, subcommand: u64, sub_params: Option<&Value>, target: &Target<'_>) -> CtapResult<()> {
        let param = params.bytes(0x04)?.ok_or(Status::PuatRequired)?;
        let protocol = self.pin_protocol(params, true, 0x03)?.expect("required above");
        let mut message = vec![subcommand as u8];
        if let Some(sub_params) = sub_params {
            // The request was canonical, so this is exactly what the platform MACed.
            message.extend_from_slice(&encode(sub_params.clone()));
        }
        self.token.verify(protocol, &message, param, permission::CREDENTIAL_MANAGEMENT, None)?;
        let Some(bound_rp) = self.token.rp_id() else { return Ok(()) };
        let bound_hash = Sha256::digest(bound_rp.as_bytes());
        let allowed = match target {
            Target::Metadata | Target::RelyingParties => false,
            Target::RelyingParty(rp_id_hash) => bound_hash.as_slice() == *rp_id_hash,
            Target::Credential(id) => self.shared.read(|state| {
                state.credentials.iter().any(|c| c.discoverable && c.id == *id && c.rp_id == bound_rp)
            }),
        };
        if allowed { Ok(()) } else { Err(Status::PinAuthInvalid) }
    }

    fn metadata(&self) -> Value {
        let existing = self.shared.read(|state| state.credentials.iter().filter(|c| c.discoverable).count());
        let remaining = self.shared.config.max_credentials.saturating_sub(existing);
        Value::Map(vec![(int(0x01), count(existing)), (int(0x02), count(remaining))])
    }

    fn first_rp(&mut self) -> CtapResult<Value> {
        let mut rps: Vec<String> = self.shared.read(|state| {
            let mut rps: Vec<String> = state.credentials.iter().filter(|c| c.discoverable).map(|c| c.rp_id.clone()).collect();
            rps.sort();
            rps.dedup();
            rps
        });
        if rps.is_empty() {
            return Err(Status::NoCredentials);
        }
        let total = rps.len();
        let first = rps.remove(0);
        let mut response = self.rp_entry(&first);
        response.push((int(0x05), count(total)));
        self.enumeration = Some(Enumeration::RelyingParties(rps));
        Ok(Value::Map(response))
    }

    fn next_rp(&mut self, continuing: Option<Enumeration>) -> CtapResult<Value> {
        let Some(Enumeration::RelyingParties(mut rest)) = continuing else { return Err(Status::NotAllowed) };
        if rest.is_empty() {
            return Err(Status::NotAllowed);
        }
        let next = rest.remove(0);
        let response = self.rp_entry(&next);
        self.enumeration = Some(Enumeration::RelyingParties(rest));
        Ok(Value::Map(response))
    }

    fn rp_entry(&self, rp_id: &str) -> Vec<(Value, Value)> {
        let name = self.shared.read(|s| s.credentials.iter().find(|c| c.rp_id == rp_id).and_then(|c| c.rp_name.clone()));
        let mut rp = vec![(text("id"), text(rp_id))];
        if let Some(name) = name {
            rp.push((text("name"), text(&name)));
        }
        vec![(int(0x03), Value::Map(rp)), (int(0x04), bytes(&Sha256::digest(rp_id.as_bytes())))]
    }

    fn first_credential(&mut self, rp_id_hash: &[u8]) -> CtapResult<Value> {
        let mut ids: Vec<Vec<u8>> = self.shared.read(|state| {
            state
                .credentials
                .iter()
                .filter(|c| c.discoverable && Sha256::digest(c.rp_id.as_bytes()).as_slice() == rp_id_hash)
                .map(|c| c.id.clone())
                .collect()
        });
        if ids.is_empty() {
            return Err(Status::NoCredentials);
        }
        let total = ids.len();
        let first = ids.remove(0);
        let mut response = self.credential_entry(&first)?;
        response.push((int(0x09), count(total)));
        self.enumeration = Some(Enumeration::Credentials(ids));
        Ok(Value::Map(response))
    }

    fn next_credential(&mut self, continuing: Option<Enumeration>) -> CtapResult<Value> {
        let Some(Enumeration::Credentials(mut rest)) = continuing else { return Err(Status::NotAllowed) };
        if rest.is_empty() {
            return Err(Status::NotAllowed);
        }
        let next = rest.remove(0);
        let response = self.credential_entry(&next)?;
        self.enumeration = Some(Enumeration::Credentials(rest));
        Ok(Value::Map(response))
    }

    fn credential_entry(&self, id: &[u8]) -> CtapResult<Vec<(Value, Value)>> {
        self.shared.read(|state| {
            let credential: &Credential = state.credentials.iter().find(|c| c.id == id).ok_or(Status::NoCredentials)?;
            Ok(vec![
                (int(0x06), user_entity(credential, true)),
                (int(0x07), Value::Map(vec![(text("id"), bytes(&credential.id)), (text("type"), text("public-key"))])),
                (int(0x08), cose_public_key(&credential.private_key)),
                (int(0x0A), int(credential.cred_protect.into())),
            ])
        })
    }

    fn delete(&mut self, id: &[u8]) -> CtapResult<()> {
        self.shared.try_update(|state| {
            let before = state.credentials.len();
            state.credentials.retain(|c| !(c.discoverable && c.id == id));
            if state.credentials.len() == before { Err(Status::NoCredentials) } else { Ok(()) }
        })?;
        tracing::info!("credential deleted");
        Ok(())
    }
}
