//! Reading CTAP2 request maps and writing canonical CBOR responses.
//!
//! Both directions are CTAP2 canonical CBOR (CTAP 2.1 §8): shortest integer and length
//! encodings, definite lengths, no tags or floats, no repeated map keys, map keys ordered
//! by major type, then encoded length, then bytes, and at most four levels of nesting.
//! A request that breaks any of these is INVALID_CBOR, as on a real key: a key that took
//! sloppy CBOR would hide a client bug that real keys expose. Responses are sorted before
//! writing because python-fido2 rejects anything else.
//!
//! Within a well-formed request map a wrong type is CBOR_UNEXPECTED_TYPE and a missing
//! required key MISSING_PARAMETER.

use std::cmp::Ordering;

use ciborium::Value;

use super::status::{CtapResult, Status};

/// CTAP 2.1 §8: "the depth of nested CBOR structures ... is limited to at most four (4)
/// levels of any combination of CBOR maps and/or CBOR arrays". The request map is level 1.
const MAX_NESTING: usize = 4;

/// A decoded request map with integer keys.
pub struct Params(Vec<(Value, Value)>);

impl Params {
    /// `bytes` is the CBOR after the command byte; empty means "no parameters".
    pub fn decode(bytes: &[u8]) -> CtapResult<Self> {
        if bytes.is_empty() {
            return Ok(Self(Vec::new()));
        }
        let mut reader = bytes;
        let value = ciborium::from_reader::<Value, _>(&mut reader).map_err(|_| Status::InvalidCbor)?;
        if !reader.is_empty() {
            return Err(Status::InvalidCbor); // trailing bytes
        }
        check_structure(&value, 1)?;
        // Decoding forgets how things were encoded; encoding canonically and comparing
        // catches every other deviation: long integers and lengths, indefinite lengths,
        // keys out of order.
        if encode(value.clone()) != bytes {
            return Err(Status::InvalidCbor);
        }
        match value {
            Value::Map(entries) => Ok(Self(entries)),
            _ => Err(Status::CborUnexpectedType),
        }
    }

    pub fn get(&self, key: i64) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k.as_integer().and_then(|k| i64::try_from(k).ok()) == Some(key)).map(|(_, v)| v)
    }

    pub fn has(&self, key: i64) -> bool {
        self.get(key).is_some()
    }

    pub fn bytes(&self, key: i64) -> CtapResult<Option<&[u8]>> {
        self.get(key).map(|v| v.as_bytes().map(Vec::as_slice).ok_or(Status::CborUnexpectedType)).transpose()
    }

    pub fn text(&self, key: i64) -> CtapResult<Option<&str>> {
        self.get(key).map(|v| v.as_text().ok_or(Status::CborUnexpectedType)).transpose()
    }

    pub fn uint(&self, key: i64) -> CtapResult<Option<u64>> {
        self.get(key).map(as_uint).transpose()
    }

    pub fn array(&self, key: i64) -> CtapResult<Option<&[Value]>> {
        self.get(key).map(|v| v.as_array().map(Vec::as_slice).ok_or(Status::CborUnexpectedType)).transpose()
    }

    pub fn map(&self, key: i64) -> CtapResult<Option<&[(Value, Value)]>> {
        self.get(key).map(|v| v.as_map().map(Vec::as_slice).ok_or(Status::CborUnexpectedType)).transpose()
    }

    pub fn required<T>(value: CtapResult<Option<T>>) -> CtapResult<T> {
        value?.ok_or(Status::MissingParameter)
    }
}

pub fn as_uint(value: &Value) -> CtapResult<u64> {
    value.as_integer().and_then(|i| u64::try_from(i).ok()).ok_or(Status::CborUnexpectedType)
}

/// The value under a text key of a map such as an entity or the options.
pub fn field<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter().find(|(k, _)| k.as_text() == Some(key)).map(|(_, v)| v)
}

pub fn text_field<'a>(map: &'a [(Value, Value)], key: &str) -> CtapResult<Option<&'a str>> {
    field(map, key).map(|v| v.as_text().ok_or(Status::CborUnexpectedType)).transpose()
}

pub fn bytes_field<'a>(map: &'a [(Value, Value)], key: &str) -> CtapResult<Option<&'a [u8]>> {
    field(map, key).map(|v| v.as_bytes().map(Vec::as_slice).ok_or(Status::CborUnexpectedType)).transpose()
}

pub fn bool_field(map: &[(Value, Value)], key: &str) -> CtapResult<Option<bool>> {
    field(map, key).map(|v| v.as_bool().ok_or(Status::CborUnexpectedType)).transpose()
}

pub fn int(key: i64) -> Value {
    Value::Integer(key.into())
}

/// A count or size: unsigned, whatever its width.
pub fn count(value: impl TryInto<u64>) -> Value {
    Value::Integer(value.try_into().unwrap_or(u64::MAX).into())
}

pub fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

pub fn bytes(value: &[u8]) -> Value {
    Value::Bytes(value.to_vec())
}

/// Tags, floats and repeated keys survive a decode and re-encode unchanged, so they are
/// looked for here, together with the nesting depth (`depth` is that of `value`).
fn check_structure(value: &Value, depth: usize) -> CtapResult<()> {
    let children: Vec<&Value> = match value {
        Value::Map(entries) => {
            let mut keys: Vec<Vec<u8>> = entries.iter().map(|(k, _)| raw(k)).collect();
            keys.sort();
            if keys.windows(2).any(|pair| pair[0] == pair[1]) {
                return Err(Status::InvalidCbor);
            }
            entries.iter().flat_map(|(k, v)| [k, v]).collect()
        }
        Value::Array(items) => items.iter().collect(),
        Value::Tag(..) | Value::Float(_) => return Err(Status::InvalidCbor),
        _ => return Ok(()),
    };
    if depth > MAX_NESTING {
        return Err(Status::InvalidCbor);
    }
    children.into_iter().try_for_each(|child| check_structure(child, depth + 1))
}

/// Encodes `value` as canonical CTAP2 CBOR: every map sorted by major type, then encoded
/// length, then bytes, which puts 1 before -1, 24 before -1 and "up" before "plat".
pub fn encode(value: Value) -> Vec<u8> {
    raw(&canonical(value))
}

/// The encoding of `value` as it stands, map entries in their given order.
fn raw(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

fn canonical(value: Value) -> Value {
    match value {
        Value::Map(entries) => {
            let mut entries: Vec<(Vec<u8>, Value, Value)> = entries
                .into_iter()
                .map(|(k, v)| {
                    let k = canonical(k);
                    (raw(&k), k, canonical(v))
                })
                .collect();
            entries.sort_by(|a, b| ctap_key_order(&a.0, &b.0));
            Value::Map(entries.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// CTAP 2.1 §8 key order on encoded keys: major type (the top three bits of the first
/// byte), then length, then bytes. RFC 7049's length-first order differs when keys of
/// different major types have different lengths (24 and -1, say).
fn ctap_key_order(a: &[u8], b: &[u8]) -> Ordering {
    let major = |encoded: &[u8]| encoded.first().map(|byte| byte >> 5);
    major(a).cmp(&major(b)).then(a.len().cmp(&b.len())).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_puts_short_keys_first_and_positive_before_negative() {
        let map = Value::Map(vec![
            (int(-2), int(0)),
            (text("plat"), Value::Bool(false)),
            (int(1), int(0)),
            (text("up"), Value::Bool(true)),
            (int(-1), int(0)),
            (int(3), int(0)),
        ]);
        let sorted = canonical(map);
        let keys: Vec<Value> = sorted.as_map().unwrap().iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, vec![int(1), int(3), int(-1), int(-2), text("up"), text("plat")]);
    }

    #[test]
    fn canonical_order_is_major_type_first_then_length() {
        // 24 encodes in two bytes (18 18) and -1 in one (20), yet every unsigned key comes
        // before every negative one; likewise 1000 (3 bytes) before "a" (2 bytes).
        let map = Value::Map(vec![(text("a"), int(0)), (int(-1), int(0)), (int(1000), int(0)), (int(24), int(0))]);
        assert_eq!(encode(map), [0xa4, 0x18, 0x18, 0x00, 0x19, 0x03, 0xe8, 0x00, 0x20, 0x00, 0x61, b'a', 0x00]);
    }

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn canonical_requests_are_accepted() {
        // {1: h'00', 2: {"id": "a"}, 3: [{"alg": -7}], -1: true, 24: 0} in CTAP order:
        // 1, 2, 3, 24, -1.
        let request = hex("a5 01 41 00 02 a1 62 6964 61 61 03 81 a1 63 616c67 26 18 18 00 20 f5");
        assert!(Params::decode(&request).is_ok());
    }

    #[test]
    fn non_canonical_requests_are_invalid_cbor() {
        let refused = |bytes: &str| Params::decode(&hex(bytes)).err();
        // Keys out of order: {2: 0, 1: 0}, and -1 before 24.
        assert_eq!(refused("a2 02 00 01 00"), Some(Status::InvalidCbor));
        assert_eq!(refused("a2 20 00 18 18 00"), Some(Status::InvalidCbor));
        // Text keys out of order inside a nested map: {"name", "id"}.
        assert_eq!(refused("a1 01 a2 64 6e616d65 00 62 6964 00"), Some(Status::InvalidCbor));
        // A duplicate key, at the top and nested.
        assert_eq!(refused("a2 01 00 01 01"), Some(Status::InvalidCbor));
        assert_eq!(refused("a1 01 a2 62 6964 00 62 6964 01"), Some(Status::InvalidCbor));
        // Integers and lengths not in their shortest form.
        assert_eq!(refused("a1 18 01 00"), Some(Status::InvalidCbor));
        assert_eq!(refused("a1 01 19 0001"), Some(Status::InvalidCbor));
        assert_eq!(refused("a1 01 58 01 00"), Some(Status::InvalidCbor));
        assert_eq!(refused("b8 01 01 00"), Some(Status::InvalidCbor));
        // Indefinite lengths: a map, an array, a byte string.
        assert_eq!(refused("bf 01 00 ff"), Some(Status::InvalidCbor));
        assert_eq!(refused("a1 01 9f 00 ff"), Some(Status::InvalidCbor));
        assert_eq!(refused("a1 01 5f 41 00 ff"), Some(Status::InvalidCbor));
        // Tags and floating-point numbers have no place in CTAP2.
        assert_eq!(refused("a1 01 c1 00"), Some(Status::InvalidCbor));
        assert_eq!(refused("a1 01 f9 3c00"), Some(Status::InvalidCbor));
    }

    #[test]
    fn nesting_is_limited_to_four_levels() {
        // map > array > map > array > leaf: four levels, as an excludeList with transports.
        assert!(Params::decode(&hex("a1 05 81 a1 64 74797065 81 00")).is_ok());
        // One level more.
        assert_eq!(Params::decode(&hex("a1 05 81 a1 64 74797065 81 81 00")).err(), Some(Status::InvalidCbor));
        assert_eq!(Params::decode(&hex("a1 01 a1 01 a1 01 a1 01 a0")).err(), Some(Status::InvalidCbor));
    }

    #[test]
    fn malformed_requests_are_refused_with_the_right_status() {
        assert_eq!(Params::decode(&[0xa1]).err(), Some(Status::InvalidCbor));
        assert_eq!(Params::decode(&[0x01]).err(), Some(Status::CborUnexpectedType));
        assert_eq!(Params::decode(&[0xa0, 0x00]).err(), Some(Status::InvalidCbor));
        let params = Params::decode(&[0xa1, 0x01, 0x61, b'x']).unwrap();
        assert_eq!(params.bytes(1), Err(Status::CborUnexpectedType));
        assert_eq!(params.text(1), Ok(Some("x")));
        assert_eq!(Params::required(params.uint(2)), Err(Status::MissingParameter));
    }
}
