//! The WebAuthn attestationObject, rebuilt from the parts ctap-hid-fido2 parses out of a
//! makeCredential response (it does not keep the raw response). Exact for the `packed`
//! and `none` formats, which are the only ones Entra accepts.

use ciborium::Value;

use crate::{error::KeyError, key::NewCredential};

/// The key's answer as onboarding passes it on, from ctap-hid-fido2's parsed makeCredential.
pub fn new_credential(attestation: ctap_hid_fido2::fidokey::make_credential::Attestation) -> Result<NewCredential, KeyError> {
    let attestation_object = build(
        &attestation.fmt,
        &attestation.auth_data,
        attestation.attstmt_alg,
        &attestation.attstmt_sig,
        &attestation.attstmt_x5c,
    )?;
    Ok(NewCredential {
        credential_id: attestation.credential_descriptor.id,
        attestation_object,
        authenticator_data: attestation.auth_data,
    })
}

/// CBOR {"fmt", "attStmt", "authData"}, in canonical (length-first) key order.
pub fn build(fmt: &str, auth_data: &[u8], alg: i32, sig: &[u8], x5c: &[Vec<u8>]) -> Result<Vec<u8>, KeyError> {
    let statement = match fmt {
        "none" => Value::Map(Vec::new()),
        "packed" => {
            let mut statement = vec![(Value::from("alg"), Value::from(alg)), (Value::from("sig"), Value::Bytes(sig.to_vec()))];
            if !x5c.is_empty() {
                statement.push((Value::from("x5c"), Value::Array(x5c.iter().cloned().map(Value::Bytes).collect())));
            }
            Value::Map(statement)
        }
        other => return Err(KeyError::Protocol(format!("attestation format {other:?} cannot be passed on"))),
    };
    let object = Value::Map(vec![
        (Value::from("fmt"), Value::from(fmt)),
        (Value::from("attStmt"), statement),
        (Value::from("authData"), Value::Bytes(auth_data.to_vec())),
    ]);
    let mut out = Vec::new();
    ciborium::into_writer(&object, &mut out).map_err(|e| KeyError::Protocol(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_with_a_chain_and_none_without() {
        let object = build("packed", &[1, 2], -7, &[3], &[vec![4]]).unwrap();
        let value: Value = ciborium::from_reader(object.as_slice()).unwrap();
        let keys: Vec<&str> = value.as_map().unwrap().iter().map(|(k, _)| k.as_text().unwrap()).collect();
        assert_eq!(keys, ["fmt", "attStmt", "authData"]);
        let none = build("none", &[1], 0, &[], &[]).unwrap();
        assert_eq!(none, [0xa3, 0x63, b'f', b'm', b't', 0x64, b'n', b'o', b'n', b'e', 0x67, b'a', b't', b't', b'S', b't', b'm', b't', 0xa0, 0x68, b'a', b'u', b't', b'h', b'D', b'a', b't', b'a', 0x41, 1]);
        assert!(build("tpm", &[], 0, &[], &[]).is_err());
    }
}
