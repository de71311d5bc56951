//! `POST .../fido2Methods`: the key's answer to creationOptions, verified with webauthn-rs
//! and stored as a passkey; `201` with the new `fido2AuthenticationMethod`.
//!
//! Order matters for "bad input changes nothing": everything that can be checked without
//! the ceremony (the body's shape, base64, clientDataJSON, the attestationObject's CBOR
//! and format, a credential id registered already) is checked before the challenge is
//! taken. Taking it spends it: from then on a refusal leaves the challenge used, so an
//! answer is good for one try, as a challenge should be.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use webauthn_rs_core::proto::{
    AuthenticatorAttestationResponseRaw, Credential, RegisterPublicKeyCredential, RegistrationExtensionsClientOutputs, RegistrationState,
};

use super::{
    attestation_object::{self, AttestationSummary},
    audit,
    body::GraphJson,
    encoding::{self, b64url},
    methods::method_json,
    policy::attestation_policy,
    relying_party::{Refusal, aaguid_message, explain, relying_party},
    target::Target,
};
use crate::{
    app::AppState,
    store::{AuditAction, CeremonyKind, Passkey, StoreError},
};

/// Graph keeps `displayName` to 30 characters.
const MAX_DISPLAY_NAME: usize = 30;

/// The body Graph accepts. Unknown fields are ignored, as Graph ignores them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewFido2Method {
    display_name: String,
    public_key_credential: AttestationCredential,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttestationCredential {
    id: String,
    response: AttestationResponse,
    #[serde(default)]
    client_extension_results: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct AttestationResponse {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    #[serde(rename = "attestationObject")]
    attestation_object: String,
}

pub async fn register(State(state): State<AppState>, target: Target, GraphJson(body): GraphJson<NewFido2Method>) -> Response {
    match try_register(&state, &target, body).await {
        Ok(passkey) => {
            let detail = format!("method {}, {} ({}, {}), credential {}", passkey.method_id, passkey.display_name, passkey.model, passkey.aaguid, b64url(&passkey.credential_id));
            audit::record(&state, &target, AuditAction::Registration, "success", detail).await;
            let mut body = method_json(&passkey);
            body["@odata.context"] = json!(target.odata_context(&state, "/$entity"));
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Err(refusal) => {
            audit::record(&state, &target, AuditAction::Registration, refusal.reason, refusal.error.message.clone()).await;
            refusal.error.into_response()
        }
    }
}

/// What the request says, decoded and checked for shape.
struct Decoded {
    display_name: String,
    id: String,
    client_data_json: Vec<u8>,
    challenge: Vec<u8>,
    attestation_object: Vec<u8>,
    summary: AttestationSummary,
    extensions: RegistrationExtensionsClientOutputs,
}

fn decode(body: NewFido2Method) -> Result<Decoded, Refusal> {
    let display_name = body.display_name.trim().to_owned();
    if display_name.is_empty() {
        return Err(Refusal::bad_request("display_name", "displayName is required: name the key so its owner can tell it apart."));
    }
    if display_name.chars().count() > MAX_DISPLAY_NAME {
        return Err(Refusal::bad_request("display_name", format!("displayName can be at most {MAX_DISPLAY_NAME} characters long.")));
    }
    let credential = body.public_key_credential;
    if encoding::decodings(&credential.id).is_empty() {
        return Err(Refusal::bad_request("encoding", "publicKeyCredential.id is not base64url."));
    }
    let client_data_json = encoding::decode(&credential.response.client_data_json)
        .ok_or_else(|| Refusal::bad_request("encoding", "publicKeyCredential.response.clientDataJSON is not base64url."))?;
    let challenge = challenge_of(&client_data_json)?;
    let attestation_object = encoding::decode(&credential.response.attestation_object)
        .ok_or_else(|| Refusal::bad_request("encoding", "publicKeyCredential.response.attestationObject is not base64url."))?;
    let summary = attestation_object::summarize(&attestation_object).map_err(|e| Refusal::bad_request("cbor", e.0))?;
    if !matches!(summary.fmt.as_str(), "packed" | "none") {
        return Err(Refusal::bad_request("attestation_format", format!("The attestation format {:?} is not accepted; send packed or none.", summary.fmt)));
    }
    if !encoding::matches(&credential.id, &summary.credential_id) {
        return Err(Refusal::bad_request("credential_id", "publicKeyCredential.id is not the id of the credential in the attestationObject."));
    }
    // Client extension outputs are unsigned hints; ones that do not parse are ignored.
    let extensions = credential.client_extension_results.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
    Ok(Decoded { display_name, id: credential.id, client_data_json, challenge, attestation_object, summary, extensions })
}

/// The challenge the browser put in clientDataJSON: what finds the ceremony.
pub fn challenge_of(client_data_json: &[u8]) -> Result<Vec<u8>, Refusal> {
    let client_data: serde_json::Value =
        serde_json::from_slice(client_data_json).map_err(|_| Refusal::bad_request("client_data", "clientDataJSON is not JSON."))?;
    let challenge = client_data["challenge"]
        .as_str()
        .ok_or_else(|| Refusal::bad_request("client_data", "clientDataJSON has no challenge."))?;
    encoding::decode(challenge).ok_or_else(|| Refusal::bad_request("client_data", "The challenge in clientDataJSON is not base64url."))
}

pub fn spent_challenge() -> Refusal {
    Refusal::bad_request(
        "challenge",
        "The challenge in clientDataJSON has expired, was already used, or was not issued to this user for this ceremony. Start again with a new challenge.",
    )
}

async fn try_register(state: &AppState, target: &Target, body: NewFido2Method) -> Result<Passkey, Refusal> {
    let request = decode(body)?;
    let policy = attestation_policy(state);
    let already = || Refusal::bad_request("duplicate", "This security key is already registered: its credential is in the directory. Delete that method first to register the key again.");
    if state.store.passkey_by_credential_id(&request.summary.credential_id).await?.is_some() {
        return Err(already());
    }

    let now = state.clock.now();
    let hash: [u8; 32] = Sha256::digest(&request.challenge).into();
    let ceremony = state.store.take_ceremony(&hash, target.user.id, CeremonyKind::Registration, now).await?;
    let ceremony = ceremony.ok_or_else(spent_challenge)?;
    let registration: RegistrationState = serde_json::from_str(&ceremony.state_json).map_err(|error| {
        tracing::error!(%error, "a stored registration state does not parse");
        Refusal::from(StoreError::Corrupt("registration state".into()))
    })?;

    let cas = policy.ca_list().map_err(|error| {
        tracing::error!(%error, "the attestation policy is unusable");
        Refusal::from(crate::graph_error::GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", "The directory's attestation policy is misconfigured."))
    })?;
    let raw_id = request.summary.credential_id.clone();
    let response = RegisterPublicKeyCredential {
        id: request.id,
        raw_id,
        response: AuthenticatorAttestationResponseRaw {
            attestation_object: request.attestation_object,
            client_data_json: request.client_data_json,
            transports: None,
        },
        type_: "public-key".into(),
        extensions: request.extensions,
    };
    let rp = relying_party(&state.config)?;
    let credential: Credential = rp
        .register_credential(&response, &registration, cas.as_ref())
        .map_err(|error| explain(&error, &state.config, Some(request.summary.aaguid)))?;

    // Key restrictions apply whether or not attestation is enforced (with it, webauthn-rs
    // has refused other models already).
    let aaguid = request.summary.aaguid;
    if !policy.allows(aaguid) {
        return Err(Refusal::bad_request("aaguid", aaguid_message(Some(aaguid))));
    }
    let passkey = Passkey {
        method_id: uuid::Uuid::new_v4(),
        user: target.user.id,
        credential_id: credential.cred_id.clone(),
        credential_json: serde_json::to_string(&credential).map_err(|error| {
            tracing::error!(%error, "a verified credential does not serialize");
            Refusal::from(StoreError::Corrupt("credential".into()))
        })?,
        aaguid,
        model: policy.model_name(aaguid).to_owned(),
        display_name: request.display_name,
        attestation_level: if cas.is_some() { "attested" } else { "notAttested" }.to_owned(),
        created: now,
        sign_count: credential.counter,
    };
    match state.store.add_passkey(&passkey).await {
        Ok(()) => Ok(passkey),
        Err(StoreError::CredentialExists) => Err(already()),
        Err(error) => Err(error.into()),
    }
}
