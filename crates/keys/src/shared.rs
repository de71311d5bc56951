//! What the CTAPHID client (`client.rs`) and the USB key (`usb.rs`) both need, kept in one
//! place so that the two ways of reaching a key cannot drift apart.

use ctap_hid_fido2::fidokey::{
    CredentialExtension, credential_management::credential_management_params::CredentialProtectionPolicy,
};

use crate::{
    error::KeyError,
    info::AuthenticatorInfo,
    key::{MakeCredentialRequest, PinRetries},
};

/// The makeCredential extensions a request asks for, in the order ctap-hid-fido2 will write
/// them. It writes the map in the order given, and CTAP2 canonical CBOR orders text keys by
/// length, then bytes: "credProtect" before "hmac-secret" (both 11 bytes). A key that
/// checks canonical form refuses the other order with INVALID_CBOR.
pub(crate) fn make_credential_extensions(request: &MakeCredentialRequest) -> Result<Vec<CredentialExtension>, KeyError> {
    let mut extensions = Vec::new();
    if let Some(level) = request.cred_protect {
        extensions.push(CredentialExtension::CredProtect(Some(cred_protect_policy(level)?)));
    }
    if request.hmac_secret {
        extensions.push(CredentialExtension::HmacSecret(Some(true)));
    }
    Ok(extensions)
}

/// credProtect's levels 1 to 3; anything else is a caller's mistake, not a level to guess.
pub(crate) fn cred_protect_policy(level: u8) -> Result<CredentialProtectionPolicy, KeyError> {
    match level {
        1 => Ok(CredentialProtectionPolicy::UserVerificationOptional),
        2 => Ok(CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIdList),
        3 => Ok(CredentialProtectionPolicy::UserVerificationRequired),
        other => Err(KeyError::Protocol(format!("credProtect level {other} does not exist"))),
    }
}

/// A wrong PIN comes back from the key without the number of attempts left, which the PIN
/// screen shows, so the key is asked for it (`retries`). If the key now wants re-plugging
/// (three wrong PINs in a row), that is what the user must hear. Other errors pass through.
pub(crate) fn with_pin_retries(error: KeyError, retries: impl FnOnce() -> Result<PinRetries, KeyError>) -> KeyError {
    match error {
        KeyError::PinInvalid { .. } => match retries() {
            Ok(retries) if retries.power_cycle_required => KeyError::PinAuthBlocked,
            Ok(retries) => KeyError::PinInvalid { retries_left: retries.retries },
            Err(other) => other,
        },
        other => other,
    }
}

/// `ids` cut down to what the key takes in one excludeList or allowList: only ids it could
/// have made (no longer than its maxCredentialIdLength, as browsers filter them), and if that
/// is still more than its maxCredentialCountInList, only the one it holds, or none.
///
/// Keys answer a longer list with LIMIT_EXCEEDED, so browsers cut it into batches of that size
/// and `probe` each with a silent getAssertion (up=false: no touch, nothing shown), stopping
/// at the first batch in which the key finds a credential: `probe` returns the id the key
/// named, or None for NO_CREDENTIALS. The ceremony then sends that id alone, and the key does
/// the rest (a touch, then CREDENTIAL_EXCLUDED or an assertion). A key that does not say how
/// many ids it takes gets the whole list, as before CTAP 2.1.
pub(crate) fn fit_list(
    ids: &[Vec<u8>],
    info: &AuthenticatorInfo,
    mut probe: impl FnMut(&[Vec<u8>]) -> Result<Option<Vec<u8>>, KeyError>,
) -> Result<Vec<Vec<u8>>, KeyError> {
    let max_id_length = info.max_credential_id_length.unwrap_or(u64::MAX);
    let ids: Vec<Vec<u8>> = ids.iter().filter(|id| id.len() as u64 <= max_id_length).cloned().collect();
    let Some(batch_size) = info.max_credential_count_in_list.and_then(|max| usize::try_from(max).ok()) else { return Ok(ids) };
    if ids.len() <= batch_size {
        return Ok(ids);
    }
    for batch in ids.chunks(batch_size.max(1)) {
        if let Some(found) = probe(batch)? {
            // A key may leave the credential out when the list held only that one.
            let found = if found.is_empty() && batch.len() == 1 { batch[0].clone() } else { found };
            return Ok(vec![found]);
        }
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use ciborium::Value;
    use ctap_hid_fido2::fidokey::make_credential::make_credential_command;

    use super::*;

    fn request(hmac_secret: bool, cred_protect: Option<u8>) -> MakeCredentialRequest {
        MakeCredentialRequest {
            client_data_json: b"{}".to_vec(),
            rp_id: "example.com".into(),
            rp_name: None,
            user_id: vec![1],
            user_name: "u".into(),
            user_display_name: "U".into(),
            exclude_list: Vec::new(),
            resident_key: false,
            hmac_secret,
            cred_protect,
        }
    }

    #[test]
    fn the_extensions_map_ctap_hid_fido2_writes_is_canonical() {
        let extensions = make_credential_extensions(&request(true, Some(2))).unwrap();
        let params = make_credential_command::Params::new("example.com", b"{}".to_vec(), vec![1]);
        let payload = make_credential_command::create_payload(params, Some(&extensions), 1).unwrap();
        let value: Value = ciborium::from_reader(&payload[1..]).unwrap();
        let map = value.as_map().unwrap();
        let extensions = map.iter().find(|(k, _)| *k == Value::from(6)).unwrap().1.as_map().unwrap();
        let names: Vec<&str> = extensions.iter().map(|(k, _)| k.as_text().unwrap()).collect();
        assert_eq!(names, ["credProtect", "hmac-secret"]);
    }

    #[test]
    fn a_wrong_pin_gets_the_retries_left_and_other_errors_pass_through() {
        let retries = |retries, power_cycle_required| move || Ok(PinRetries { retries, power_cycle_required });
        let wrong = || KeyError::PinInvalid { retries_left: 0 };
        assert_eq!(with_pin_retries(wrong(), retries(5, false)), KeyError::PinInvalid { retries_left: 5 });
        assert_eq!(with_pin_retries(wrong(), retries(5, true)), KeyError::PinAuthBlocked);
        assert_eq!(with_pin_retries(wrong(), || Err(KeyError::Removed)), KeyError::Removed);
        let untouched = || -> Result<PinRetries, KeyError> { panic!("only a wrong PIN asks for the retries") };
        assert_eq!(with_pin_retries(KeyError::PinBlocked, untouched), KeyError::PinBlocked);
    }

    fn key_taking(count: Option<u64>, id_length: Option<u64>) -> AuthenticatorInfo {
        AuthenticatorInfo { max_credential_count_in_list: count, max_credential_id_length: id_length, ..AuthenticatorInfo::default() }
    }

    #[test]
    fn a_long_list_is_probed_in_batches_until_the_key_finds_one() {
        let ids: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; 4]).collect();
        let mut batches = Vec::new();
        let fitted = fit_list(&ids, &key_taking(Some(8), None), |batch| {
            batches.push(batch.len());
            Ok(batch.iter().find(|id| id[0] == 13).cloned())
        });
        assert_eq!(fitted, Ok(vec![vec![13; 4]]));
        assert_eq!(batches, [8, 8], "stops at the batch that holds it");

        let mut batches = Vec::new();
        let none = fit_list(&ids, &key_taking(Some(8), None), |batch| {
            batches.push(batch.len());
            Ok(None)
        });
        assert_eq!((none, batches), (Ok(vec![]), vec![8, 8, 4]));
    }

    #[test]
    fn a_list_the_key_takes_is_sent_as_it_is_less_the_ids_it_cannot_have_made() {
        let mut ids: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 4]).collect();
        ids.push(vec![9; 300]);
        let never = |_: &[Vec<u8>]| -> Result<Option<Vec<u8>>, KeyError> { panic!("no probe needed") };
        assert_eq!(fit_list(&ids, &key_taking(Some(8), Some(128)), never), Ok(ids[..8].to_vec()));
        assert_eq!(fit_list(&ids, &key_taking(None, None), never), Ok(ids.clone()), "a key that does not say takes all");
        let named = fit_list(&ids, &key_taking(Some(1), Some(128)), |batch| Ok((batch[0][0] == 5).then(Vec::new)));
        assert_eq!(named, Ok(vec![vec![5; 4]]), "an answer without the credential names the only one sent");
        let failing = fit_list(&ids, &key_taking(Some(2), None), |_| Err(KeyError::Removed));
        assert_eq!(failing, Err(KeyError::Removed));
    }

    #[test]
    fn only_the_three_cred_protect_levels_exist() {
        assert!(make_credential_extensions(&request(false, Some(3))).is_ok());
        assert!(matches!(make_credential_extensions(&request(false, Some(4))), Err(KeyError::Protocol(_))));
        assert!(make_credential_extensions(&request(false, None)).unwrap().is_empty());
    }
}
