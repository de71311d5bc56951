//! authenticatorGetInfo, parsed (ctap-hid-fido2 has no public parser for it).

use std::collections::BTreeMap;

use ciborium::Value;

use crate::error::KeyError;

/// What a key says about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthenticatorInfo {
    pub versions: Vec<String>,
    pub extensions: Vec<String>,
    pub aaguid: [u8; 16],
    pub options: BTreeMap<String, bool>,
    pub max_msg_size: Option<u64>,
    /// Preferred first.
    pub pin_uv_auth_protocols: Vec<u8>,
    /// The longest excludeList or allowList the key takes (`None`: it does not say).
    pub max_credential_count_in_list: Option<u64>,
    /// Longer credential ids cannot be this key's (`None`: it does not say).
    pub max_credential_id_length: Option<u64>,
    pub transports: Vec<String>,
    /// COSE algorithm identifiers.
    pub algorithms: Vec<i64>,
    pub force_pin_change: bool,
    /// In Unicode code points; 4 when the key does not say.
    pub min_pin_length: usize,
    pub firmware_version: Option<u64>,
    pub remaining_discoverable_credentials: Option<u64>,
}

/// CTAP's floor, and what a key that reports no minPINLength enforces.
pub const DEFAULT_MIN_PIN_LENGTH: usize = 4;

impl AuthenticatorInfo {
    /// `Some(true)`: a PIN is set; `Some(false)`: PIN supported, none set; `None`: no PIN support.
    pub fn client_pin(&self) -> Option<bool> {
        self.options.get("clientPin").copied()
    }

    /// Built-in user verification (fingerprint); `uv=true` may only be sent to such keys.
    pub fn has_builtin_uv(&self) -> bool {
        self.options.get("uv").copied().unwrap_or(false)
    }

    /// CTAP 2.1 tokens with permissions (getPinUvAuthTokenUsingPinWithPermissions).
    pub fn supports_permissions(&self) -> bool {
        self.options.get("pinUvAuthToken").copied().unwrap_or(false)
    }

    pub fn supports_credential_management(&self) -> bool {
        self.options.get("credMgmt").copied().unwrap_or(false)
    }

    pub fn supports_resident_keys(&self) -> bool {
        self.options.get("rk").copied().unwrap_or(false)
    }

    /// The PIN protocol to use: 2 when the key offers it, else 1.
    pub fn pin_protocol(&self) -> u8 {
        if self.pin_uv_auth_protocols.contains(&2) { 2 } else { 1 }
    }

    /// Parses the CBOR after the status byte. Unknown keys are ignored, as CTAP requires.
    pub fn parse(cbor: &[u8]) -> Result<Self, KeyError> {
        let value: Value = ciborium::from_reader(cbor).map_err(|e| bad(format!("getInfo is not CBOR: {e}")))?;
        let map = value.as_map().ok_or_else(|| bad("getInfo is not a map"))?;
        let mut info = Self { min_pin_length: DEFAULT_MIN_PIN_LENGTH, ..Self::default() };
        for (key, value) in map {
            let Some(key) = key.as_integer().and_then(|k| u8::try_from(k).ok()) else { continue };
            match key {
                0x01 => info.versions = texts(value)?,
                0x02 => info.extensions = texts(value)?,
                0x03 => {
                    let bytes = value.as_bytes().ok_or_else(|| bad("aaguid is not bytes"))?;
                    info.aaguid = bytes.as_slice().try_into().map_err(|_| bad("aaguid is not 16 bytes"))?;
                }
                0x04 => info.options = options(value)?,
                0x05 => info.max_msg_size = Some(uint(value)?),
                0x06 => {
                    let protocols = value.as_array().ok_or_else(|| bad("pinUvAuthProtocols is not an array"))?;
                    info.pin_uv_auth_protocols =
                        protocols.iter().filter_map(|p| uint(p).ok()).filter_map(|p| u8::try_from(p).ok()).collect();
                }
                0x07 => info.max_credential_count_in_list = Some(uint(value)?).filter(|&n| n > 0),
                0x08 => info.max_credential_id_length = Some(uint(value)?).filter(|&n| n > 0),
                0x09 => info.transports = texts(value)?,
                0x0A => info.algorithms = algorithms(value)?,
                0x0C => info.force_pin_change = value.as_bool().ok_or_else(|| bad("forcePINChange is not a bool"))?,
                0x0D => info.min_pin_length = uint(value)?.try_into().map_err(|_| bad("minPINLength too large"))?,
                0x0E => info.firmware_version = Some(uint(value)?),
                0x14 => info.remaining_discoverable_credentials = Some(uint(value)?),
                _ => {}
            }
        }
        if info.versions.is_empty() {
            return Err(bad("getInfo lists no versions"));
        }
        Ok(info)
    }
}

fn bad(message: impl Into<String>) -> KeyError {
    KeyError::Protocol(message.into())
}

fn uint(value: &Value) -> Result<u64, KeyError> {
    value.as_integer().and_then(|i| u64::try_from(i).ok()).ok_or_else(|| bad("expected an unsigned integer"))
}

fn texts(value: &Value) -> Result<Vec<String>, KeyError> {
    let items = value.as_array().ok_or_else(|| bad("expected an array of text"))?;
    items.iter().map(|v| v.as_text().map(str::to_owned).ok_or_else(|| bad("expected text"))).collect()
}

fn options(value: &Value) -> Result<BTreeMap<String, bool>, KeyError> {
    let map = value.as_map().ok_or_else(|| bad("options is not a map"))?;
    Ok(map.iter().filter_map(|(k, v)| Some((k.as_text()?.to_owned(), v.as_bool()?))).collect())
}

fn algorithms(value: &Value) -> Result<Vec<i64>, KeyError> {
    let items = value.as_array().ok_or_else(|| bad("algorithms is not an array"))?;
    Ok(items
        .iter()
        .filter_map(|item| item.as_map())
        .filter_map(|map| map.iter().find(|(k, _)| k.as_text() == Some("alg")))
        .filter_map(|(_, alg)| alg.as_integer().and_then(|a| i64::try_from(a).ok()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_a_yubikey_like_answer_and_defaults_min_pin_length() {
        // A 2.1 key that does not report minPINLength.
        let info = Value::Map(vec![
            (Value::from(1), Value::Array(vec!["FIDO_2_0".into(), "FIDO_2_1".into()])),
            (Value::from(3), Value::Bytes(vec![7; 16])),
            (
                Value::from(4),
                Value::Map(vec![("rk".into(), true.into()), ("clientPin".into(), false.into()), ("pinUvAuthToken".into(), true.into())]),
            ),
            (Value::from(6), Value::Array(vec![2.into(), 1.into()])),
            (Value::from(0x0A), Value::Array(vec![Value::Map(vec![("alg".into(), (-7).into()), ("type".into(), "public-key".into())])])),
            (Value::from(0x77), Value::from("unknown keys are ignored")),
        ]);
        let mut bytes = Vec::new();
        ciborium::into_writer(&info, &mut bytes).unwrap();
        let info = AuthenticatorInfo::parse(&bytes).unwrap();
        assert_eq!(info.aaguid, [7; 16]);
        assert_eq!(info.client_pin(), Some(false));
        assert!(info.supports_permissions() && info.supports_resident_keys() && !info.has_builtin_uv());
        assert_eq!(info.pin_protocol(), 2);
        assert_eq!(info.algorithms, vec![-7]);
        assert_eq!(info.min_pin_length, 4);
    }

    proptest! {
        #[test]
        fn garbage_is_an_error_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = AuthenticatorInfo::parse(&bytes);
        }
    }
}
