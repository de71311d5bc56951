//! `GET …/fido2Methods/creationOptions`: Entra's `webauthnCredentialCreationOptions`
//! with every quirk of real responses (FACTS.md; "fido2AuthenticationMethod:
//! creationOptions"):
//!
//! - `rp` is `login.microsoft.com` / "Microsoft"; `user.id` is base64url of 51 opaque bytes
//!   (stable per user, not the object id); `challenge` is base64url of ~1.5 KB of opaque
//!   bytes; `timeout` 0; algorithms -7 and -257; `cross-platform`, `requireResidentKey`,
//!   `userVerification: required`, `attestation: direct`; the hmac-secret and credProtect
//!   extensions.
//! - `excludeCredentials[].id` in the three encodings, rotating (see `encodings`).
//! - Fields clients must ignore: `@odata.type` (as the docs' example shows) and
//!   `@odata.context` (as Graph sends), `hints`, `publicKey.residentKey`.
//! - v1.0's challenge lives 5 minutes; beta takes `challengeTimeoutInMinutes` from 5 to
//!   43200.
//! - The known issue: without "Allow self-service set up" in the FIDO2 policy the API
//!   refuses. Graph's real status and message for that are not documented; here it is 403
//!   `accessDenied` with a message that says why.

use axum::http::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha512};
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, AuthenticatorAttachment, COSEAlgorithm, CredProtect,
    CredentialProtectionPolicy, RegistrationState, RequestRegistrationExtensions,
    UserVerificationPolicy,
};

use super::{Answer, Context, GraphError, metadata, methods::find_user};
use crate::{
    encodings::{b64url, rotating},
    state::{Challenge, Shared},
};

const MIN_MINUTES: i64 = 5;
const MAX_MINUTES: i64 = 43_200;
/// The opaque challenge's length in bytes (Entra's are about 1.5 KB of base64url).
const CHALLENGE_BYTES: usize = 1_100;

/// `creationOptions(challengeTimeoutInMinutes=N)` → `Some(Ok(N))`, an out-of-range N →
/// `Some(Err(400))`, any other segment → `None`.
pub(crate) fn timeout_parameter(segment: &str) -> Option<Result<i64, GraphError>> {
    let inner = segment
        .strip_prefix("creationOptions(")?
        .strip_suffix(')')?;
    let invalid = || {
        GraphError::bad_request(format!(
            "Invalid value for parameter challengeTimeoutInMinutes: it must be between {MIN_MINUTES} and {MAX_MINUTES}."
        ))
    };
    let Some((name, value)) = inner.split_once('=') else {
        return Some(Err(invalid()));
    };
    if name.trim() != "challengeTimeoutInMinutes" {
        return Some(Err(GraphError::bad_request(format!(
            "The parameter '{}' is not in scope.",
            name.trim()
        ))));
    }
    Some(
        value
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|m| (MIN_MINUTES..=MAX_MINUTES).contains(m))
            .ok_or_else(invalid),
    )
}

/// The self-service known issue, shared with the POST.
pub(crate) fn check_policy(shared: &Shared) -> Result<(), GraphError> {
    if shared.lock().policy.is_self_service_registration_allowed {
        return Ok(());
    }
    Err(GraphError::new(
        StatusCode::FORBIDDEN,
        "accessDenied",
        "The FIDO2 authentication method policy does not allow self-service setup (isSelfServiceRegistrationAllowed is false); this API requires it.",
    ))
}

/// Entra's opaque user handle: 51 bytes, stable per user.
pub(crate) fn user_handle(oid: Uuid) -> Vec<u8> {
    Sha512::digest([b"stand-in user handle\0".as_slice(), oid.as_bytes()].concat())[..51].to_vec()
}

pub(crate) fn get(
    shared: &Shared,
    context: &Context,
    user: &str,
    minutes: Option<i64>,
) -> Result<Answer, GraphError> {
    check_policy(shared)?;
    let user = find_user(shared, user)?;
    let now = shared.now();
    let expires = now + Duration::minutes(minutes.unwrap_or(MIN_MINUTES));
    let challenge: Vec<u8> = (0..CHALLENGE_BYTES).map(|_| rand::random::<u8>()).collect();
    let handle = user_handle(user.oid);
    let state = registration_state(shared, &handle, &user.upn, &user.display_name, &challenge)?;

    let mut inner = shared.lock();
    inner.challenges.retain(|_, c| c.expires > now);
    inner.challenges.insert(
        challenge.clone(),
        Challenge {
            user: user.oid,
            expires,
            state,
        },
    );
    let exclude: Vec<_> = inner
        .methods
        .iter()
        .filter(|m| m.user == user.oid)
        .enumerate()
        .map(|(index, m)| json!({"id": rotating(&m.credential_id, index), "type": "public-key", "transports": ["usb"]}))
        .collect();
    drop(inner);

    Ok(Answer::Json(
        StatusCode::OK,
        json!({
            "@odata.context": metadata(shared, context, "microsoft.graph.webauthnCredentialCreationOptions"),
            "@odata.type": "#microsoft.graph.webauthnCredentialCreationOptions",
            "challengeTimeoutDateTime": rfc3339(expires),
            "hints": [],
            "publicKey": {
                "challenge": b64url(&challenge),
                "timeout": 0,
                "attestation": "direct",
                "rp": {"id": "login.microsoft.com", "name": "Microsoft"},
                "user": {"id": b64url(&handle), "name": user.upn, "displayName": user.display_name},
                "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
                "excludeCredentials": exclude,
                "authenticatorSelection": {"authenticatorAttachment": "cross-platform", "requireResidentKey": true, "userVerification": "required"},
                "residentKey": "required",
                "extensions": {
                    "hmacCreateSecret": true,
                    "enforceCredentialProtectionPolicy": true,
                    "credentialProtectionPolicy": "userVerificationOptional",
                },
            },
        }),
    ))
}

/// webauthn-rs's registration state for these options, with OUR challenge: the state's
/// fields are crate-private, so the generated one is edited in its serde form.
fn registration_state(
    shared: &Shared,
    handle: &[u8],
    upn: &str,
    display_name: &str,
    challenge: &[u8],
) -> Result<RegistrationState, GraphError> {
    let internal = |what: &str| {
        GraphError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
            format!("General exception while processing ({what})."),
        )
    };
    let rp = &shared.relying_party;
    let extensions = RequestRegistrationExtensions {
        cred_protect: Some(CredProtect {
            credential_protection_policy: CredentialProtectionPolicy::UserVerificationOptional,
            enforce_credential_protection_policy: Some(true),
        }),
        hmac_create_secret: Some(true),
        ..RequestRegistrationExtensions::default()
    };
    let builder = rp
        .new_challenge_register_builder(handle, upn, display_name)
        .map_err(|_| internal("registration options"))?
        .user_verification_policy(UserVerificationPolicy::Required)
        .attestation(AttestationConveyancePreference::Direct)
        .require_resident_key(true)
        .authenticator_attachment(Some(AuthenticatorAttachment::CrossPlatform))
        .credential_algorithms(vec![COSEAlgorithm::ES256, COSEAlgorithm::RS256])
        .extensions(Some(extensions));
    let (_, state) = rp
        .generate_challenge_register(builder)
        .map_err(|_| internal("registration challenge"))?;
    let mut value = serde_json::to_value(&state).map_err(|_| internal("registration state"))?;
    value["challenge"] = json!(b64url(challenge));
    serde_json::from_value(value).map_err(|_| internal("registration state"))
}

pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}
