//! What a key is, in the words the "key found" screen uses.

use tap2key_keys::{AuthenticatorInfo, Key, KeyError};

use crate::{
    failure::Failure,
    step::{KeyDescription, PinState},
};

/// Models people are likely to hold, by AAGUID (from their makers' FIDO metadata). A
/// model not listed here is a "Security key" until the directory names it.
const MODELS: &[(&str, &str)] = &[
    ("74617032-6b65-792d-766b-65792d303031", "tap2key Virtual Key"),
    ("cb69481e-8ff7-4039-93ec-0a2729a154a8", "YubiKey 5 Series"),
    ("ee882879-721c-4913-9775-3dfcce97072a", "YubiKey 5 Series with NFC"),
    ("fa2b99dc-9e39-4257-8f92-4a30d23c4118", "YubiKey 5 Series with NFC"),
    ("2fc0579f-8113-47ea-b116-bb5a8db9202a", "YubiKey 5 Series with NFC"),
    ("a25342c0-3cdc-4414-8e46-f4807fca511c", "YubiKey 5 Series with NFC"),
    ("149a2021-8ef6-4133-96b8-81f8d5b7f1f5", "Security Key by Yubico with NFC"),
];

pub fn model_name(aaguid: &str) -> &'static str {
    MODELS.iter().find(|(id, _)| id.eq_ignore_ascii_case(aaguid)).map_or("Security key", |(_, name)| name)
}

pub fn aaguid_text(aaguid: &[u8; 16]) -> String {
    let hex: String = aaguid.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Asks the key what it is. A key that cannot hold the passkey the directory wants (no PIN,
/// no discoverable credentials, no ES256) is refused here, before the person types anything.
pub fn describe(key: &mut dyn Key) -> Result<KeyDescription, Failure> {
    let info = key.info().map_err(|e| Failure::from_key(&e))?;
    if !suitable(&info) {
        return Err(Failure::KeyNotSuitable);
    }
    let pin = match info.client_pin() {
        Some(false) => PinState::NotSet,
        Some(true) => {
            let retries = key.pin_retries().map_err(|e| Failure::from_key(&e))?;
            if retries.retries == 0 {
                PinState::Blocked
            } else if retries.power_cycle_required {
                PinState::ReinsertNeeded { retries: retries.retries }
            } else if info.force_pin_change {
                PinState::ChangeRequired { retries: retries.retries }
            } else {
                PinState::Set { retries: retries.retries }
            }
        }
        None => return Err(Failure::KeyNotSuitable),
    };
    let aaguid = aaguid_text(&info.aaguid);
    Ok(KeyDescription {
        model: model_name(&aaguid).to_owned(),
        aaguid,
        pin,
        min_pin_length: info.min_pin_length,
        free_passkey_slots: info.remaining_discoverable_credentials,
    })
}

fn suitable(info: &AuthenticatorInfo) -> bool {
    let es256 = info.algorithms.is_empty() || info.algorithms.contains(&-7);
    info.supports_resident_keys() && es256 && info.versions.iter().any(|v| v.starts_with("FIDO_2"))
}

/// The key errors a PIN step answers on the PIN screen rather than as a failure.
pub fn is_pin_answer(error: &KeyError) -> bool {
    matches!(
        error,
        KeyError::PinInvalid { .. } | KeyError::PinAuthBlocked | KeyError::PinBlocked | KeyError::PinPolicyViolation | KeyError::PinChangeRequired
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aaguids_print_as_the_directory_lists_them() {
        let virtual_key = *b"tap2key-vkey-001";
        assert_eq!(aaguid_text(&virtual_key), "74617032-6b65-792d-766b-65792d303031");
        assert_eq!(model_name("74617032-6B65-792D-766B-65792D303031"), "tap2key Virtual Key");
        assert_eq!(model_name("00000000-0000-0000-0000-000000000000"), "Security key");
    }
}
