//! What Graph reads from an attestationObject before and after webauthn-rs verifies it:
//! `fmt`, the AAGUID and credential id from authData (WebAuthn §6.1: rpIdHash(32)
//! flags(1) signCount(4), then aaguid(16) credentialIdLength(2) credentialId), and the
//! `attStmt.x5c` certificates whose SHA-1 thumbprints Graph lists as
//! `attestationCertificates`. `model` comes from a small table standing in for the FIDO
//! Metadata Service Entra uses; unknown models are `null`.

use ciborium::Value;
use uuid::{Uuid, uuid};

use crate::keys::hex_thumbprint;

pub(crate) struct Summary {
    pub fmt: String,
    pub aaguid: Uuid,
    pub credential_id: Vec<u8>,
    pub certificates: Vec<String>,
}

/// Model names by AAGUID (FIDO MDS descriptions), plus the project's virtual key.
const MODELS: [(Uuid, &str); 5] = [
    (
        uuid!("74617032-6b65-792d-766b-65792d303031"),
        "tap2key Virtual Key",
    ),
    (
        uuid!("cb69481e-8ff7-4039-93ec-0a2729a154a8"),
        "YubiKey 5 Series",
    ),
    (
        uuid!("ee882879-721c-4913-9775-3dfcce97072a"),
        "YubiKey 5 Series",
    ),
    (
        uuid!("fa2b99dc-9e39-4257-8f92-4a30d23c4118"),
        "YubiKey 5 Series with NFC",
    ),
    (
        uuid!("42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3"),
        "Google Titan Security Key v2",
    ),
];

pub(crate) fn model(aaguid: Uuid) -> Option<&'static str> {
    MODELS
        .iter()
        .find(|(id, _)| *id == aaguid)
        .map(|(_, name)| *name)
}

pub(crate) fn summarize(object: &[u8]) -> Result<Summary, String> {
    let value: Value = ciborium::from_reader(object)
        .map_err(|_| "The attestationObject is not valid CBOR.".to_owned())?;
    let map = value
        .as_map()
        .ok_or("The attestationObject is not a CBOR map.")?;
    let get = |name: &str| {
        map.iter()
            .find(|(k, _)| k.as_text() == Some(name))
            .map(|(_, v)| v)
    };
    let fmt = get("fmt")
        .and_then(Value::as_text)
        .ok_or("The attestationObject has no fmt.")?
        .to_owned();
    let auth_data = get("authData")
        .and_then(Value::as_bytes)
        .ok_or("The attestationObject has no authData.")?;
    let statement = get("attStmt")
        .and_then(Value::as_map)
        .ok_or("The attestationObject has no attStmt.")?;
    let certificates = statement
        .iter()
        .find(|(k, _)| k.as_text() == Some("x5c"))
        .and_then(|(_, v)| v.as_array())
        .map(|chain| {
            chain
                .iter()
                .filter_map(Value::as_bytes)
                .map(|der| hex_thumbprint(der))
                .collect()
        })
        .unwrap_or_default();
    const HEAD: usize = 32 + 1 + 4;
    let flags = *auth_data
        .get(32)
        .ok_or("The authenticator data is too short.")?;
    if flags & 0x40 == 0 {
        return Err("The authenticator data has no attested credential data.".into());
    }
    let aaguid = auth_data
        .get(HEAD..HEAD + 16)
        .and_then(|b| Uuid::from_slice(b).ok())
        .ok_or("The authenticator data is too short.")?;
    let length = auth_data
        .get(HEAD + 16..HEAD + 18)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or("The authenticator data is too short.")?;
    let credential_id = auth_data
        .get(HEAD + 18..HEAD + 18 + length)
        .ok_or("The authenticator data is too short.")?
        .to_vec();
    Ok(Summary {
        fmt,
        aaguid,
        credential_id,
        certificates,
    })
}
