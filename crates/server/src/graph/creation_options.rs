//! `GET .../fido2Methods/creationOptions`: Entra's `webauthnCredentialCreationOptions`,
//! field for field, and the webauthn-rs registration state saved under the challenge.

use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::Duration;
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, CreationChallengeResponse, RegistrationState, AuthenticatorAttachment, COSEAlgorithm, CredProtect, CredentialProtectionPolicy, RequestRegistrationExtensions,
    UserVerificationPolicy,
};

use super::{
    encoding::b64url,
    methods::rfc3339,
    relying_party::{TIMEOUT_MS, relying_party, user_handle},
    target::Target,
};
use crate::{
    app::AppState,
    graph_error::GraphError,
    store::{Ceremony, CeremonyKind},
};

/// Graph beta's `challengeTimeoutInMinutes` bounds.
const MIN_MINUTES: i64 = 5;
const MAX_MINUTES: i64 = 43_200;

pub async fn get(State(state): State<AppState>, target: Target) -> Result<Json<Value>, GraphError> {
    respond(&state, &target, None).await
}

/// `creationOptions(challengeTimeoutInMinutes=N)` → `Some(Ok(N))`; an out-of-range or
/// malformed N → `Some(Err(400))`; any other segment → `None`.
pub fn timeout_parameter(segment: &str) -> Option<Result<i64, GraphError>> {
    let inner = segment.strip_prefix("creationOptions(")?.strip_suffix(')')?;
    let invalid = || GraphError::bad_request(format!("challengeTimeoutInMinutes must be a whole number of minutes from {MIN_MINUTES} to {MAX_MINUTES}."));
    let Some((name, value)) = inner.split_once('=') else { return Some(Err(invalid())) };
    if !name.trim().eq_ignore_ascii_case("challengeTimeoutInMinutes") {
        return Some(Err(GraphError::bad_request(format!("creationOptions takes challengeTimeoutInMinutes, not {}.", name.trim()))));
    }
    Some(value.trim().parse::<i64>().ok().filter(|m| (MIN_MINUTES..=MAX_MINUTES).contains(m)).ok_or_else(invalid))
}

pub async fn respond(state: &AppState, target: &Target, minutes: Option<i64>) -> Result<Json<Value>, GraphError> {
    let user = &target.user;
    let existing = state.store.passkeys(user.id).await?;
    let handle = user_handle(user.id);
    let display_name = if user.display_name.trim().is_empty() { &user.upn } else { &user.display_name };

    let (options, registration) = registration(state, &handle, &user.upn, display_name)?;
    let challenge: &[u8] = options.public_key.challenge.as_ref();

    let lifetime = minutes.map_or(state.config.challenge_lifetime, Duration::minutes);
    let expires = state.clock.now() + lifetime;
    let ceremony = Ceremony {
        user: user.id,
        kind: CeremonyKind::Registration,
        state_json: serde_json::to_string(&registration).map_err(|error| internal(format!("registration state: {error}")))?,
        method_id: None,
        expires,
    };
    state.store.save_ceremony(&Sha256::digest(challenge).into(), &ceremony).await?;

    Ok(Json(json!({
        "@odata.context": target.metadata(state, "microsoft.graph.webauthnCredentialCreationOptions"),
        "challengeTimeoutDateTime": rfc3339(expires),
        "publicKey": {
            "challenge": b64url(challenge),
            "timeout": TIMEOUT_MS,
            "rp": {"id": state.config.rp_id, "name": state.config.rp_name},
            "user": {"id": b64url(&handle), "name": user.upn, "displayName": display_name},
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
            "excludeCredentials": existing
                .iter()
                .map(|p| json!({"id": b64url(&p.credential_id), "type": "public-key", "transports": ["usb"]}))
                .collect::<Vec<_>>(),
            "authenticatorSelection": {"authenticatorAttachment": "cross-platform", "requireResidentKey": true, "userVerification": "required"},
            "attestation": "direct",
            "extensions": {
                "hmacCreateSecret": true,
                "enforceCredentialProtectionPolicy": true,
                "credentialProtectionPolicy": "userVerificationOptional",
            },
        },
    })))
}

/// A registration ceremony as Entra asks for it: user verification required, direct
/// attestation, a discoverable cross-platform credential, ES256 or RS256, credProtect
/// (userVerificationOptional, enforced) and hmac-secret. webauthn-rs makes the challenge;
/// broker mode swaps in Graph's (see `entra::broker::options`).
pub(crate) fn registration(state: &AppState, handle: &[u8], upn: &str, display_name: &str) -> Result<(CreationChallengeResponse, RegistrationState), GraphError> {
    let rp = relying_party(&state.config)?;
    let extensions = RequestRegistrationExtensions {
        cred_protect: Some(CredProtect {
            credential_protection_policy: CredentialProtectionPolicy::UserVerificationOptional,
            enforce_credential_protection_policy: Some(true),
        }),
        hmac_create_secret: Some(true),
        ..RequestRegistrationExtensions::default()
    };
    // Already-registered credentials are refused against the whole directory at POST time
    // (with a clearer message than webauthn-rs's own exclude check gives), so the state
    // carries no exclude list; the options still list them for the key.
    let builder = rp
        .new_challenge_register_builder(handle, upn, display_name)
        .map_err(|error| internal(format!("registration options for {upn}: {error}")))?
        .user_verification_policy(UserVerificationPolicy::Required)
        .attestation(AttestationConveyancePreference::Direct)
        .require_resident_key(true)
        .authenticator_attachment(Some(AuthenticatorAttachment::CrossPlatform))
        .credential_algorithms(vec![COSEAlgorithm::ES256, COSEAlgorithm::RS256])
        .extensions(Some(extensions));
    rp.generate_challenge_register(builder).map_err(|error| internal(format!("registration challenge: {error}")))
}

fn internal(detail: String) -> GraphError {
    tracing::error!(%detail, "could not make registration options");
    GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", "The registration options could not be made.")
}

#[cfg(test)]
mod tests {
    use super::timeout_parameter;

    #[test]
    fn the_beta_timeout_parameter() {
        assert!(timeout_parameter("3f2c7a9e-0000-4000-8000-000000000000").is_none());
        assert!(timeout_parameter("creationOptions").is_none());
        assert_eq!(timeout_parameter("creationOptions(challengeTimeoutInMinutes=10)").unwrap().unwrap(), 10);
        assert_eq!(timeout_parameter("creationOptions(challengeTimeoutInMinutes=5)").unwrap().unwrap(), 5);
        assert_eq!(timeout_parameter("creationOptions(challengeTimeoutInMinutes=43200)").unwrap().unwrap(), 43_200);
        for bad in ["4", "43201", "-5", "ten", "", "1e3"] {
            let segment = format!("creationOptions(challengeTimeoutInMinutes={bad})");
            assert_eq!(timeout_parameter(&segment).unwrap().unwrap_err().status, 400, "{segment}");
        }
        assert_eq!(timeout_parameter("creationOptions(lifetime=10)").unwrap().unwrap_err().status, 400);
        assert_eq!(timeout_parameter("creationOptions(10)").unwrap().unwrap_err().status, 400);
    }
}
