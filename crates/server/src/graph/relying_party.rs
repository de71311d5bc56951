//! The WebAuthn relying party as Entra presents it: the configured rp id, the origin
//! `https://` + rp id and nothing else (no subdomains, no other ports), and what each of
//! webauthn-rs's refusals means in words a person can act on.

use std::time::Duration;

use sha2::{Digest, Sha512};
use webauthn_rs_core::{WebauthnCore, error::WebauthnError};

use crate::{config::ServerConfig, graph_error::GraphError};

/// The `timeout` the options carry (milliseconds), as Entra's do.
pub const TIMEOUT_MS: u32 = 60_000;

/// Entra's `user.id` is base64url of about 51 opaque bytes.
const USER_HANDLE_LEN: usize = 51;

pub fn origin(config: &ServerConfig) -> String {
    format!("https://{}", config.rp_id)
}

pub fn relying_party(config: &ServerConfig) -> Result<WebauthnCore, GraphError> {
    // webauthn-rs takes the origin as a `url::Url`; this crate reaches the type through
    // its serde form rather than depending on `url` itself.
    let origin = serde_json::from_value(serde_json::Value::String(origin(config))).map_err(|_| {
        tracing::error!(rp_id = %config.rp_id, "the relying party id does not make an origin");
        GraphError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "generalException", "The directory's relying party is misconfigured.")
    })?;
    Ok(WebauthnCore::new_unsafe_experts_only(
        &config.rp_name,
        &config.rp_id,
        vec![origin],
        Duration::from_millis(TIMEOUT_MS.into()),
        Some(false),
        Some(false),
    ))
}

/// The opaque user handle a key stores with the user's passkeys: stable per user, not
/// their object id, 51 bytes like Entra's.
pub fn user_handle(user: uuid::Uuid) -> Vec<u8> {
    let digest = Sha512::digest([b"tap2key user handle\0".as_slice(), user.as_bytes()].concat());
    digest[..USER_HANDLE_LEN].to_vec()
}

/// A refusal with the short reason the audit trail records.
#[derive(Debug)]
pub struct Refusal {
    pub error: GraphError,
    pub reason: &'static str,
}

impl Refusal {
    pub fn bad_request(reason: &'static str, message: impl Into<String>) -> Self {
        Self { error: GraphError::bad_request(message), reason }
    }
}

impl From<GraphError> for Refusal {
    fn from(error: GraphError) -> Self {
        let reason = if error.status.is_server_error() { "unavailable" } else { "refused" };
        Self { error, reason }
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(error: crate::store::StoreError) -> Self {
        GraphError::from(error).into()
    }
}

/// What a refusal from webauthn-rs means. `rp_id` and `aaguid` (when known) go into the
/// messages that concern them.
pub fn explain(error: &WebauthnError, config: &ServerConfig, aaguid: Option<uuid::Uuid>) -> Refusal {
    use WebauthnError as E;
    let origin = origin(config);
    let (reason, message) = match error {
        E::InvalidClientDataType => ("client_data_type", "clientDataJSON has the wrong type: webauthn.create to register, webauthn.get to sign in.".to_owned()),
        E::MismatchedChallenge => ("challenge", "The challenge in clientDataJSON is not the one this ceremony was started with.".to_owned()),
        E::InvalidRPOrigin => ("origin", format!("The origin in clientDataJSON is not {origin}.")),
        E::CredentialCrossOrigin => ("origin", "clientDataJSON says crossOrigin: true; only same-origin ceremonies are accepted.".to_owned()),
        E::InvalidRPIDHash => ("rp_id", format!("The security key answered for another relying party (its rpIdHash is not the SHA-256 of {}).", config.rp_id)),
        E::UserNotPresent => ("user_presence", "The security key did not confirm that someone touched it (the UP flag is not set).".to_owned()),
        E::UserNotVerified => ("user_verification", "The security key did not verify the user with a PIN or biometrics (the UV flag is not set); this directory requires it.".to_owned()),
        E::AttestationStatementSigInvalid | E::AttestationStatementSigMissing => {
            ("attestation_signature", "The attestation signature does not verify: the attestationObject was changed or made by something else.".to_owned())
        }
        E::AttestationUntrustedAaguid => ("aaguid", aaguid_message(aaguid, "")),
        E::AttestationCertificateAAGUIDMismatch => ("aaguid", "The attestation certificate names another security key model than the authenticator data.".to_owned()),
        E::AttestationChainNotTrusted(_)
        | E::AttestationNotVerifiable
        | E::AttestationCertificateTrustStoreEmpty
        | E::AttestationLeafCertMissing
        | E::MissingAttestationCaList
        | E::AttestationFormatMissingAaguid
        | E::AttestationTrustFailure => (
            "attestation_untrusted",
            "The security key's attestation is not from a certificate authority your organization trusts, so the key cannot be registered.".to_owned(),
        ),
        E::AttestationNotSupported => ("attestation_format", "The attestation format is not supported; send packed or none.".to_owned()),
        E::CredentialAlteredAlgFromRequest | E::COSEKeyInvalidAlgorithm | E::CredentialInsecureCryptography => {
            ("algorithm", "The security key made a credential with an algorithm that was not offered (ES256 or RS256).".to_owned())
        }
        E::CredentialMayNotBeHardwareBound | E::CredentialBackupEligibilityInconsistent => {
            ("backup_flags", "The authenticator data's backup flags are inconsistent with this credential.".to_owned())
        }
        E::AuthenticationFailure | E::SignatureInvalid => ("signature", "The signature does not verify with the registered public key.".to_owned()),
        E::CredentialPossibleCompromise => (
            "counter",
            "The security key's signature counter did not increase; the key may have been cloned, or an old answer was replayed.".to_owned(),
        ),
        E::CredentialNotFound => ("credential", "The answer is for another credential than the one this sign-in was started for.".to_owned()),
        E::ParseCBORFailure(_) | E::ParseNOMFailure | E::ParseInsufficientBytesAvailable | E::MissingAttestationCredentialData => {
            ("cbor", "The attestationObject or authenticatorData could not be parsed.".to_owned())
        }
        E::ParseJSONFailure(_) | E::ParseBase64Failure(_) => ("client_data", "clientDataJSON could not be parsed as WebAuthn client data.".to_owned()),
        E::COSEKeyInvalidCBORValue
        | E::COSEKeyInvalidType
        | E::COSEKeyECDSAXYInvalid
        | E::COSEKeyRSANEInvalid
        | E::COSEKeyECDSAInvalidCurve
        | E::COSEKeyEDUnsupported
        | E::COSEKeyEDDSAXInvalid
        | E::COSEKeyEDDSAInvalidCurve
        | E::EcdsaPointInvalid
        | E::RsaParametersInvalid => ("public_key", "The credential's public key is not a valid ES256 or RS256 key.".to_owned()),
        other => ("verification", format!("The security key's answer could not be verified ({other}).")),
    };
    Refusal::bad_request(reason, message)
}

/// The refusal of a key model, naming it when its name is known (`model`, may be empty).
pub fn aaguid_message(aaguid: Option<uuid::Uuid>, model: &str) -> String {
    match (aaguid, model.trim()) {
        (Some(aaguid), "") => format!("The security key model (AAGUID {aaguid}) is not allowed by your organization."),
        (Some(aaguid), model) => format!("The security key model {model} (AAGUID {aaguid}) is not allowed by your organization."),
        (None, _) => "The security key model is not allowed by your organization.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_handles_are_opaque_stable_and_per_user() {
        let (ada, grace) = (uuid::Uuid::from_bytes([1; 16]), uuid::Uuid::from_bytes([2; 16]));
        assert_eq!(user_handle(ada).len(), 51);
        assert_eq!(user_handle(ada), user_handle(ada));
        assert_ne!(user_handle(ada), user_handle(grace));
        assert!(!user_handle(ada).windows(16).any(|w| w == ada.as_bytes()), "the object id does not show");
    }

    #[test]
    fn the_origin_is_https_and_the_rp_id() {
        let config = ServerConfig::demo("unused.sqlite3".into());
        assert_eq!(origin(&config), "https://login.tap2key.test");
        assert!(relying_party(&config).is_ok());
        let refusal = explain(&WebauthnError::InvalidRPOrigin, &config, None);
        assert_eq!((refusal.reason, refusal.error.message.as_str()), ("origin", "The origin in clientDataJSON is not https://login.tap2key.test."));
        let aaguid = uuid::Uuid::from_bytes([0xab; 16]);
        let refusal = explain(&WebauthnError::AttestationUntrustedAaguid, &config, Some(aaguid));
        assert!(refusal.error.message.contains("abababab-abab-abab-abab-abababababab"), "{}", refusal.error.message);
    }
}
