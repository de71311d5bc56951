//! authenticatorGetInfo (0x04): what this key is and can do.

use ciborium::Value;

use super::{
    Authenticator,
    cbor::{bytes, count, int, text},
};

/// CTAPHID's largest message; the key accepts any request that fits in it.
pub const MAX_MESSAGE_SIZE: u64 = 7609;
pub const MAX_CREDENTIALS_IN_LIST: u64 = 8;
pub const MAX_CREDENTIAL_ID_LENGTH: u64 = 128;

impl Authenticator {
    pub(super) fn info(&self) -> Value {
        let config = &self.shared.config;
        let option = |name: &str, on: bool| (text(name), Value::Bool(on));
        self.shared.read(|state| {
        let discoverable = state.credentials.iter().filter(|c| c.discoverable).count();
        Value::Map(vec![
            (int(0x01), Value::Array(vec![text("FIDO_2_0"), text("FIDO_2_1")])),
            (int(0x02), Value::Array(vec![text("credProtect"), text("hmac-secret")])),
            (int(0x03), bytes(&config.model.aaguid)),
            (
                int(0x04),
                Value::Map(vec![
                    option("rk", true),
                    option("up", true),
                    option("plat", false),
                    option("clientPin", state.pin.is_some()),
                    option("pinUvAuthToken", true),
                    option("credMgmt", true),
                    option("makeCredUvNotRqd", true),
                ]),
            ),
            (int(0x05), count(MAX_MESSAGE_SIZE)),
            (int(0x06), Value::Array(config.pin_protocols.iter().map(|&p| int(p.into())).collect())),
            (int(0x07), count(MAX_CREDENTIALS_IN_LIST)),
            (int(0x08), count(MAX_CREDENTIAL_ID_LENGTH)),
            (int(0x09), Value::Array(vec![text("usb")])),
            (int(0x0A), Value::Array(vec![Value::Map(vec![(text("alg"), int(-7)), (text("type"), text("public-key"))])])),
            (int(0x0C), Value::Bool(state.force_pin_change)),
            (int(0x0D), count(state.min_pin_length)),
            (int(0x0E), int(config.model.firmware_version.into())),
            (int(0x14), count(config.max_credentials.saturating_sub(discoverable))),
        ])
        })
    }
}
