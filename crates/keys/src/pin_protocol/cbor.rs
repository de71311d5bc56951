//! CTAP2 canonical CBOR (CTAP 2.1 §8, sheet §2) for clientPIN messages: shortest encodings, definite
//! lengths, map keys ordered by major type, then encoded length, then bytes.
//!
//! ciborium already writes shortest integers and definite lengths and keeps map entries in the order
//! given, so encoding only needs the caller to list keys in order. Decoding checks the same rules,
//! because python-fido2 rejects non-canonical responses and we want to catch such authenticators too.

use std::cmp::Ordering;

use ciborium::Value;

use super::PinProtocolError;

/// clientPIN responses nest two maps deep (response → COSE_Key). The limit leaves room for unknown
/// future keys while refusing the deeply nested input that only an attacker sends.
const RECURSION_LIMIT: usize = 16;

pub(super) fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and a Value has no serialisation that can.
    ciborium::into_writer(value, &mut out).expect("CBOR encoding into a Vec");
    out
}

/// Exactly one canonical CBOR data item, nothing after it.
pub(super) fn decode(bytes: &[u8]) -> Result<Value, PinProtocolError> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, RECURSION_LIMIT)
        .map_err(|error| PinProtocolError::InvalidCbor(error.to_string()))?;
    if !rest.is_empty() {
        return Err(PinProtocolError::InvalidCbor(format!("{} bytes after the data item", rest.len())));
    }
    // Re-encoding yields the shortest, definite-length form in the decoded key order, so any byte
    // difference is a non-canonical length or integer; the order itself is checked separately.
    if encode(&value) != bytes || !keys_in_canonical_order(&value) {
        return Err(PinProtocolError::NonCanonicalCbor);
    }
    Ok(value)
}

/// Whether every map in `value` has its keys strictly ascending; strict, so a repeated key fails too.
pub(super) fn keys_in_canonical_order(value: &Value) -> bool {
    match value {
        Value::Map(entries) => {
            let ascending = entries.windows(2).all(|pair| compare_keys(&pair[0].0, &pair[1].0) == Ordering::Less);
            ascending
                && entries.iter().all(|(key, value)| keys_in_canonical_order(key) && keys_in_canonical_order(value))
        }
        Value::Array(items) => items.iter().all(keys_in_canonical_order),
        Value::Tag(_, inner) => keys_in_canonical_order(inner),
        _ => true,
    }
}

/// CTAP2's key order: major type (the top 3 bits of the first byte), then encoded length, then bytes.
/// Unlike RFC 8949's length-first order, this puts every unsigned integer before every negative one.
fn compare_keys(a: &Value, b: &Value) -> Ordering {
    let (a, b) = (encode(a), encode(b));
    let major = |encoded: &[u8]| encoded.first().map(|byte| byte >> 5);
    major(&a).cmp(&major(&b)).then(a.len().cmp(&b.len())).then(a.cmp(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn canonical_maps_decode() {
        // {1: 2, 3: -25, -1: 1}
        let value = decode(&hex("a301020338182001")).unwrap();
        assert_eq!(value.as_map().unwrap().len(), 3);
    }

    #[test]
    fn ctap_order_puts_unsigned_before_negative_even_when_longer() {
        // 24 encodes in two bytes (18 18), -1 in one (20): CTAP2 still wants 24 first.
        assert_eq!(compare_keys(&Value::from(24), &Value::from(-1)), Ordering::Less);
        assert_eq!(compare_keys(&Value::from(-1), &Value::from(-2)), Ordering::Less);
        assert_eq!(compare_keys(&Value::from(10), &Value::from(24)), Ordering::Less);
        assert_eq!(compare_keys(&Value::Text("up".into()), &Value::Text("plat".into())), Ordering::Less);
        assert_eq!(compare_keys(&Value::from(-1), &Value::Bytes(vec![])), Ordering::Less);
    }

    #[test]
    fn non_canonical_forms_are_rejected() {
        let cases = [
            "a2020101 02",    // keys out of order: {2: 1, 1: 2}
            "a201010102",     // repeated key: {1: 1, 1: 2}
            "a1180101",       // key 1 in two bytes
            "a1011a00000003", // value 3 in five bytes
            "bf0103ff",       // indefinite-length map
            "a1015f4101ff",   // indefinite-length byte string
            "a2200101 02",    // {-1: 1, 1: 2}: negative before unsigned
        ];
        for case in cases {
            let bytes = hex(&case.replace(' ', ""));
            assert_eq!(decode(&bytes), Err(PinProtocolError::NonCanonicalCbor), "{case}");
        }
    }

    #[test]
    fn garbage_and_trailing_bytes_are_invalid_cbor() {
        for case in ["", "a1", "a101", "ff", "a10203 00", "1c", "7f61"] {
            let bytes = hex(&case.replace(' ', ""));
            assert!(matches!(decode(&bytes), Err(PinProtocolError::InvalidCbor(_))), "{case}: {:?}", decode(&bytes));
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut bytes = vec![0x81; 1000];
        bytes.push(0x00);
        assert!(matches!(decode(&bytes), Err(PinProtocolError::InvalidCbor(_))));
    }
}
