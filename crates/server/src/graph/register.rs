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
pub(crate) struct Decoded {
    pub display_name: String,
    pub id: String,
    pub client_data_json: Vec<u8>,
    pub challenge: Vec<u8>,
    pub attestation_object: Vec<u8>,
    pub summary: AttestationSummary,
    pub extensions: RegistrationExtensionsClientOutputs,
    /// As sent, for forwarding (broker mode); `{}` when absent.
    pub client_extension_results: serde_json::Value,
}

pub(crate) fn decode(body: NewFido2Method) -> Result<Decoded, Refusal> {
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
    let client_extension_results = credential.client_extension_results.filter(serde_json::Value::is_object).unwrap_or_else(|| json!({}));
    let extensions = serde_json::from_value(client_extension_results.clone()).unwrap_or_default();
    Ok(Decoded { display_name, id: credential.id, client_data_json, challenge, attestation_object, summary, extensions, client_extension_results })
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

pub(crate) fn already_registered() -> Refusal {
    Refusal::bad_request("duplicate", "This security key is already registered: its credential is in the directory. Delete that method first to register the key again.")
}

/// Takes the registration ceremony the answer's challenge belongs to (spending it).
pub(crate) async fn take_registration(state: &AppState, target: &Target, request: &Decoded) -> Result<RegistrationState, Refusal> {
    let hash: [u8; 32] = Sha256::digest(&request.challenge).into();
    let ceremony = state.store.take_ceremony(&hash, target.user.id, CeremonyKind::Registration, state.clock.now()).await?;
    let ceremony = ceremony.ok_or_else(spent_challenge)?;
    serde_json::from_str(&ceremony.state_json).map_err(|error| {
        tracing::error!(%error, "a stored registration state does not parse");
        Refusal::from(StoreError::Corrupt("registration state".into()))
    })
}

/// A credential the organisation's key policy accepts, verified with webauthn-rs.
pub(crate) struct Verified {
    pub credential: Credential,
    pub aaguid: uuid::Uuid,
    pub attested: bool,
}

impl Verified {
    pub fn credential_json(&self) -> Result<String, Refusal> {
        serde_json::to_string(&self.credential).map_err(|error| {
            tracing::error!(%error, "a verified credential does not serialize");
            Refusal::from(StoreError::Corrupt("credential".into()))
        })
    }
}

/// The attestation checked against the ceremony and the key policy: the signature and
/// certificate chain (when attestation is enforced), the relying party, user presence and
/// verification, the algorithm, then the model allow- and block-lists. Refusals name the
/// key model when the policy knows its name.
pub(crate) fn verify(state: &AppState, request: &Decoded, registration: &RegistrationState) -> Result<Verified, Refusal> {
    let policy = attestation_policy(state);
    let cas = policy.ca_list().map_err(|error| {
        tracing::error!(%error, "the attestation policy is unusable");
        Refusal::from(crate::graph_error::GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", "The directory's attestation policy is misconfigured."))
    })?;
    let aaguid = request.summary.aaguid;
    let named = |aaguid| aaguid_message(Some(aaguid), policy.model_name(aaguid));
    let response = RegisterPublicKeyCredential {
        id: request.id.clone(),
        raw_id: request.summary.credential_id.clone(),
        response: AuthenticatorAttestationResponseRaw {
            attestation_object: request.attestation_object.clone(),
            client_data_json: request.client_data_json.clone(),
            transports: None,
        },
        type_: "public-key".into(),
        extensions: request.extensions.clone(),
    };
    let rp = relying_party(&state.config)?;
    let credential = rp.register_credential(&response, registration, cas.as_ref()).map_err(|error| {
        let refusal = explain(&error, &state.config, Some(aaguid));
        if refusal.reason == "aaguid" { Refusal::bad_request("aaguid", named(aaguid)) } else { refusal }
    })?;
    // Key restrictions apply whether or not attestation is enforced (with it, webauthn-rs
    // has refused other models already).
    if !policy.allows(aaguid) {
        return Err(Refusal::bad_request("aaguid", named(aaguid)));
    }
    Ok(Verified { credential, aaguid, attested: cas.is_some() })
}

async fn try_register(state: &AppState, target: &Target, body: NewFido2Method) -> Result<Passkey, Refusal> {
    let request = decode(body)?;
    if state.store.passkey_by_credential_id(&request.summary.credential_id).await?.is_some() {
        return Err(already_registered());
    }
    let registration = take_registration(state, target, &request).await?;
    let verified = verify(state, &request, &registration)?;
    let passkey = Passkey {
        method_id: uuid::Uuid::new_v4().to_string(),
        user: target.user.id,
        credential_id: verified.credential.cred_id.to_vec(),
        credential_json: verified.credential_json()?,
        aaguid: verified.aaguid,
        model: attestation_policy(state).model_name(verified.aaguid).to_owned(),
        display_name: request.display_name,
        attestation_level: if verified.attested { "attested" } else { "notAttested" }.to_owned(),
        created: state.clock.now(),
        sign_count: verified.credential.counter,
    };
    match state.store.add_passkey(&passkey).await {
        Ok(()) => Ok(passkey),
        Err(StoreError::CredentialExists) => Err(already_registered()),
        Err(error) => Err(error.into()),
    }
}
