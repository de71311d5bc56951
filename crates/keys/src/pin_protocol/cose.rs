//! The keyAgreement COSE_Key of both directions (CTAP 2.1 §6.5.6, RFC 8152 §13.1.1):
//! `{1: 2 (EC2), 3: -25, -1: 1 (P-256), -2: x, -3: y}`.

use ciborium::Value;
use p256::PublicKey;
use p256::elliptic_curve::sec1::{FromSec1Point, Sec1Point, ToSec1Point};

use super::PinProtocolError;

const KTY: i64 = 1;
const ALG: i64 = 3;
const CRV: i64 = -1;
const X: i64 = -2;
const Y: i64 = -3;

const KTY_EC2: i64 = 2;
/// ECDH-ES+HKDF-256: what CTAP puts in `alg`, "although this is NOT the algorithm actually used".
const ALG_ECDH_ES_HKDF_256: i64 = -25;
const CRV_P256: i64 = 1;
const COORDINATE_LEN: usize = 32;

/// Our public key as a COSE_Key, entries in CTAP canonical order (1, 3, -1, -2, -3).
pub(super) fn encode(key: &PublicKey) -> Value {
    // SEC1 uncompressed form: 0x04 ‖ x ‖ y.
    let point = key.to_uncompressed_point();
    let (x, y) = point[1..].split_at(COORDINATE_LEN);
    Value::Map(vec![
        (KTY.into(), KTY_EC2.into()),
        (ALG.into(), ALG_ECDH_ES_HKDF_256.into()),
        (CRV.into(), CRV_P256.into()),
        (X.into(), Value::Bytes(x.to_vec())),
        (Y.into(), Value::Bytes(y.to_vec())),
    ])
}

/// The authenticator's keyAgreement key, checked to be a P-256 point (an off-curve point would let a
/// malicious key learn bits of our ephemeral secret).
///
/// Strict about what the key agreement depends on (kty, crv, x, y); `alg` may be absent, as
/// libfido2 and python-fido2 do not look at it, but a present one must be -25. Unknown entries are
/// ignored (COSE allows more parameters), duplicated ones are not.
pub(super) fn decode(key: &Value) -> Result<PublicKey, PinProtocolError> {
    let entries = key.as_map().ok_or(invalid("not a CBOR map"))?;
    let field = |label: i64| lookup(entries, label);

    if field(KTY)?.ok_or(invalid("kty (1) missing"))? != &Value::from(KTY_EC2) {
        return Err(invalid("kty (1) is not 2 (EC2)"));
    }
    if field(ALG)?.is_some_and(|alg| alg != &Value::from(ALG_ECDH_ES_HKDF_256)) {
        return Err(invalid("alg (3) is not -25 (ECDH-ES+HKDF-256)"));
    }
    if field(CRV)?.ok_or(invalid("crv (-1) missing"))? != &Value::from(CRV_P256) {
        return Err(invalid("crv (-1) is not 1 (P-256)"));
    }
    let x = coordinate(field(X)?.ok_or(invalid("x (-2) missing"))?, "x (-2) is not a 32-byte string")?;
    let y = coordinate(field(Y)?.ok_or(invalid("y (-3) missing"))?, "y (-3) is not a 32-byte string")?;

    let point = Sec1Point::<p256::NistP256>::from_affine_coordinates(x.into(), y.into(), false);
    Option::from(PublicKey::from_sec1_point(&point)).ok_or(invalid("(x, y) is not a point on P-256"))
}

/// The value under an integer label, refusing a label that appears twice: which of the two would
/// count is exactly the kind of ambiguity an attacker can play with.
fn lookup(entries: &[(Value, Value)], label: i64) -> Result<Option<&Value>, PinProtocolError> {
    let mut found =
        entries.iter().filter(|(key, _)| key.as_integer().is_some_and(|k| i128::from(k) == i128::from(label)));
    let first = found.next().map(|(_, value)| value);
    if found.next().is_some() {
        return Err(invalid("a label appears twice"));
    }
    Ok(first)
}

fn coordinate<'a>(value: &'a Value, error: &'static str) -> Result<&'a [u8; COORDINATE_LEN], PinProtocolError> {
    value.as_bytes().and_then(|bytes| bytes.as_slice().try_into().ok()).ok_or(invalid(error))
}

fn invalid(reason: &'static str) -> PinProtocolError {
    PinProtocolError::InvalidKeyAgreement(reason)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use p256::SecretKey;
    use p256::elliptic_curve::Generate;

    /// A fresh authenticator-style key pair and its COSE_Key; shared with the other test modules.
    pub(in crate::pin_protocol) fn authenticator_key() -> (SecretKey, Value) {
        let secret = SecretKey::generate_from_rng(&mut rand::rng());
        let cose = encode(&secret.public_key());
        (secret, cose)
    }

    fn with_entry(key: &Value, label: i64, value: Option<Value>) -> Value {
        let mut entries: Vec<(Value, Value)> =
            key.as_map().unwrap().iter().filter(|(k, _)| k != &Value::from(label)).cloned().collect();
        if let Some(value) = value {
            entries.push((label.into(), value));
        }
        Value::Map(entries)
    }

    #[test]
    fn encode_gives_canonical_labels_and_32_byte_coordinates() {
        let (secret, cose) = authenticator_key();
        let entries = cose.as_map().unwrap();
        let labels: Vec<i128> = entries.iter().map(|(k, _)| k.as_integer().unwrap().into()).collect();
        assert_eq!(labels, [1, 3, -1, -2, -3]);
        assert_eq!(entries[0].1, Value::from(2));
        assert_eq!(entries[1].1, Value::from(-25));
        assert_eq!(entries[2].1, Value::from(1));
        assert_eq!(entries[3].1.as_bytes().unwrap().len(), 32);
        assert_eq!(entries[4].1.as_bytes().unwrap().len(), 32);
        assert_eq!(decode(&cose).unwrap(), secret.public_key());
    }

    #[test]
    fn alg_may_be_absent_and_unknown_labels_are_ignored() {
        let (secret, cose) = authenticator_key();
        let without_alg = with_entry(&cose, ALG, None);
        assert_eq!(decode(&without_alg).unwrap(), secret.public_key());
        let with_extra = with_entry(&cose, -4, Some(Value::Bytes(vec![1, 2, 3])));
        assert_eq!(decode(&with_extra).unwrap(), secret.public_key());
    }

    #[test]
    fn malformed_keys_are_rejected_with_a_reason() {
        let (_, cose) = authenticator_key();
        let cases = [
            (Value::Array(vec![]), "not a CBOR map"),
            (with_entry(&cose, KTY, None), "kty (1) missing"),
            (with_entry(&cose, KTY, Some(3.into())), "kty (1) is not 2 (EC2)"),
            (with_entry(&cose, ALG, Some((-7).into())), "alg (3) is not -25 (ECDH-ES+HKDF-256)"),
            (with_entry(&cose, CRV, None), "crv (-1) missing"),
            (with_entry(&cose, CRV, Some(2.into())), "crv (-1) is not 1 (P-256)"),
            (with_entry(&cose, X, None), "x (-2) missing"),
            (with_entry(&cose, X, Some(Value::Bytes(vec![0; 31]))), "x (-2) is not a 32-byte string"),
            (with_entry(&cose, Y, Some(Value::Text("y".into()))), "y (-3) is not a 32-byte string"),
            (with_entry(&cose, Y, Some(Value::Bytes(vec![0; 32]))), "(x, y) is not a point on P-256"),
        ];
        for (key, reason) in cases {
            assert_eq!(decode(&key).unwrap_err(), PinProtocolError::InvalidKeyAgreement(reason));
        }
    }

    #[test]
    fn a_repeated_label_is_rejected() {
        let (_, cose) = authenticator_key();
        let mut entries = cose.as_map().unwrap().clone();
        entries.push((KTY.into(), KTY_EC2.into()));
        let reason = "a label appears twice";
        assert_eq!(decode(&Value::Map(entries)).unwrap_err(), PinProtocolError::InvalidKeyAgreement(reason));
    }
}
