//! Reading CTAP2 request maps and writing canonical CBOR responses.
//!
//! Requests are maps with integer keys; a wrong type is CBOR_UNEXPECTED_TYPE, a missing
//! required key MISSING_PARAMETER. Responses must be canonical CTAP2 CBOR (python-fido2
//! rejects anything else), so every map is sorted by its encoded keys before writing.

use ciborium::Value;

use super::status::{CtapResult, Status};

/// A decoded request map with integer keys.
pub struct Params(Vec<(Value, Value)>);

impl Params {
    /// `bytes` is the CBOR after the command byte; empty means "no parameters".
    pub fn decode(bytes: &[u8]) -> CtapResult<Self> {
        if bytes.is_empty() {
            return Ok(Self(Vec::new()));
        }
        let mut reader = bytes;
        match ciborium::from_reader::<Value, _>(&mut reader) {
            Ok(Value::Map(entries)) if reader.is_empty() => Ok(Self(entries)),
            Ok(Value::Map(_)) => Err(Status::InvalidCbor), // trailing bytes
            Ok(_) => Err(Status::CborUnexpectedType),
            Err(_) => Err(Status::InvalidCbor),
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

/// Encodes `value` as canonical CTAP2 CBOR: every map sorted by the encoding of its keys
/// (shorter encodings first, then bytewise), which puts 1 before -1 and "up" before "plat".
pub fn encode(value: Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(&canonical(value), &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

fn canonical(value: Value) -> Value {
    match value {
        Value::Map(entries) => {
            let mut entries: Vec<(Vec<u8>, Value, Value)> = entries
                .into_iter()
                .map(|(k, v)| {
                    let k = canonical(k);
                    let mut key_bytes = Vec::new();
                    ciborium::into_writer(&k, &mut key_bytes).expect("writing CBOR to a Vec cannot fail");
                    (key_bytes, k, canonical(v))
                })
                .collect();
            entries.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
            Value::Map(entries.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
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
