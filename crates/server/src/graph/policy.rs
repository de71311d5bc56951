//! The directory's attestation policy: which certificate authorities may vouch for a
//! security key, and which key models (AAGUIDs) may be registered. Entra's FIDO2 policy
//! has the same two knobs: `isAttestationEnforced` and `keyRestrictions` (allow-list).
//!
//! It is part of the [`crate::ServerConfig`]; the default enforces nothing (any key,
//! reported as `notAttested`).

use std::collections::BTreeMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use webauthn_rs_core::proto::{AttestationCaList, AttestationCaListBuilder};

use crate::app::AppState;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttestationPolicy {
    /// DER attestation root certificates trusted to vouch for keys. Non-empty enforces
    /// attestation: a key must present a `packed` certificate chain ending at one of them
    /// (self and `none` attestation are refused). Empty: any attestation is accepted and
    /// the method is `notAttested`.
    pub roots: Vec<Vec<u8>>,
    /// Key restrictions: `Some` allows only these models (by the AAGUID in the signed
    /// authenticator data, which the attestation certificate must agree with); `None`
    /// allows every model.
    pub allowed_aaguids: Option<Vec<Uuid>>,
    /// Models refused whatever else is allowed (Entra's `enforcementType: block`).
    pub blocked_aaguids: Vec<Uuid>,
    /// Model names by AAGUID, for the method's `model` (Entra takes them from the FIDO
    /// Metadata Service). Unknown models get an empty name.
    pub model_names: BTreeMap<Uuid, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("attestation root {index} is not a DER X.509 certificate")]
    BadRoot { index: usize },
}

impl AttestationPolicy {
    /// Trust one root for one model: the demo directory with the virtual key
    /// (`VirtualKey::attestation_root_der()` and `key.model()`).
    pub fn trust(root_der: &[u8], aaguid: Uuid, model: &str) -> Self {
        Self {
            roots: vec![root_der.to_vec()],
            allowed_aaguids: Some(vec![aaguid]),
            blocked_aaguids: Vec::new(),
            model_names: BTreeMap::from([(aaguid, model.to_owned())]),
        }
    }

    pub fn enforces_attestation(&self) -> bool {
        !self.roots.is_empty()
    }

    pub fn allows(&self, aaguid: Uuid) -> bool {
        !self.blocked_aaguids.contains(&aaguid) && self.allowed_aaguids.as_ref().is_none_or(|allowed| allowed.contains(&aaguid))
    }

    pub fn model_name(&self, aaguid: Uuid) -> &str {
        self.model_names.get(&aaguid).map_or("", String::as_str)
    }

    /// The trust list webauthn-rs checks attestation chains against; `None` when
    /// attestation is not enforced. With an allow-list each root vouches for exactly those
    /// models (webauthn-rs refuses others with `AttestationUntrustedAaguid`); without one
    /// each root vouches for any model it signed.
    pub(crate) fn ca_list(&self) -> Result<Option<AttestationCaList>, PolicyError> {
        if self.roots.is_empty() {
            return Ok(None);
        }
        match &self.allowed_aaguids {
            Some(allowed) => {
                let mut builder = AttestationCaListBuilder::new();
                for (index, root) in self.roots.iter().enumerate() {
                    for &aaguid in allowed {
                        builder
                            .insert_device_der(root, aaguid, self.model_name(aaguid).to_owned(), BTreeMap::new())
                            .map_err(|_| PolicyError::BadRoot { index })?;
                    }
                }
                Ok(Some(builder.build()))
            }
            None => {
                // The builder only makes per-model entries; a blanket entry ("any model this
                // root signed") is made through the list's documented serialized form.
                let cas: serde_json::Map<String, serde_json::Value> = self
                    .roots
                    .iter()
                    .map(|der| {
                        let id = URL_SAFE_NO_PAD.encode(Sha256::digest(der));
                        (id, json!({"ca": URL_SAFE_NO_PAD.encode(der), "aaguids": {}, "blanket_allow": true}))
                    })
                    .collect();
                // A root that is not a certificate fails the whole list; `validate` checks them
                // one by one to say which.
                let list: AttestationCaList = serde_json::from_value(json!({ "cas": cas })).map_err(|_| PolicyError::BadRoot { index: 0 })?;
                Ok(Some(list))
            }
        }
    }
}

impl AttestationPolicy {
    /// Checks every root, so a bad certificate fails at start-up rather than at the first
    /// registration, and says which one.
    pub fn validate(&self) -> Result<(), PolicyError> {
        for (index, root) in self.roots.iter().enumerate() {
            AttestationPolicy { roots: vec![root.clone()], ..AttestationPolicy::default() }
                .ca_list()
                .map_err(|_| PolicyError::BadRoot { index })?;
        }
        Ok(())
    }
}

/// The policy registrations are checked against.
pub(crate) fn attestation_policy(state: &AppState) -> &AttestationPolicy {
    &state.config.attestation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_and_names() {
        let model = Uuid::from_bytes([1; 16]);
        let other = Uuid::from_bytes([2; 16]);
        let open = AttestationPolicy::default();
        assert!(!open.enforces_attestation());
        assert!(open.allows(model) && open.allows(other));
        assert_eq!(open.model_name(model), "");
        assert!(open.ca_list().unwrap().is_none());

        let closed = AttestationPolicy { allowed_aaguids: Some(vec![model]), model_names: BTreeMap::from([(model, "Key".into())]), ..AttestationPolicy::default() };
        assert!(closed.allows(model) && !closed.allows(other));
        let blocking = AttestationPolicy { blocked_aaguids: vec![other], ..AttestationPolicy::default() };
        assert!(blocking.allows(model) && !blocking.allows(other));
        assert_eq!(closed.model_name(model), "Key");
    }

    #[test]
    fn trust_lists_for_a_real_root() {
        let root = tap2key_virtual_key::attestation::AttestationCa::tap2key_test().root_certificate_der();
        let model = Uuid::from_bytes([1; 16]);

        let restricted = AttestationPolicy::trust(root, model, "Key").ca_list().unwrap().unwrap();
        let ca = restricted.cas().values().next().unwrap();
        assert_eq!((restricted.len(), ca.blanket_allow()), (1, false));
        assert_eq!(ca.aaguids().get(&model).unwrap().description_en(), "Key");

        let blanket = AttestationPolicy { roots: vec![root.to_vec(), root.to_vec()], ..AttestationPolicy::default() };
        let list = blanket.ca_list().unwrap().unwrap();
        let ca = list.cas().values().next().unwrap();
        assert_eq!((list.len(), ca.blanket_allow(), ca.aaguids().len()), (1, true, 0));
        assert_eq!(list.cas().keys().next().unwrap().as_slice(), Sha256::digest(root).as_slice(), "keyed by the certificate's digest, as the builder keys it");
    }

    #[test]
    fn a_root_that_is_not_a_certificate_is_refused() {
        let policy = AttestationPolicy { roots: vec![b"not DER".to_vec()], ..AttestationPolicy::default() };
        assert!(matches!(policy.ca_list(), Err(PolicyError::BadRoot { .. })));
        let policy = AttestationPolicy::trust(b"not DER", Uuid::from_bytes([1; 16]), "Key");
        assert!(matches!(policy.ca_list(), Err(PolicyError::BadRoot { index: 0 })));
        assert!(matches!(policy.validate(), Err(PolicyError::BadRoot { index: 0 })));
    }
}
