//! Registered passkeys as Graph's `fido2AuthenticationMethod`: list, get one, delete.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use super::{audit, creation_options, encoding::b64url, target::Target, thumbprint::thumbprint};
use crate::{
    app::AppState,
    graph_error::GraphError,
    store::{AuditAction, Passkey},
};

/// `fido2AuthenticationMethod` as Graph writes it (without `@odata.context`).
pub fn method_json(passkey: &Passkey) -> Value {
    let credential: Value = serde_json::from_str(&passkey.credential_json).unwrap_or(Value::Null);
    let synced = credential["backup_eligible"].as_bool().unwrap_or(false);
    json!({
        "id": passkey.method_id,
        "displayName": passkey.display_name,
        "createdDateTime": rfc3339(passkey.created),
        "aaGuid": passkey.aaguid,
        "model": passkey.model,
        "attestationCertificates": attestation_certificates(&credential),
        "attestationLevel": passkey.attestation_level,
        "passkeyType": if synced { "synced" } else { "deviceBound" },
    })
}

pub fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// Thumbprints of the attestation chain webauthn-rs kept with the credential (its
/// serialized form lists the certificates as base64url DER).
fn attestation_certificates(credential: &Value) -> Vec<String> {
    let data = &credential["attestation"]["data"];
    ["Basic", "AttCa", "AnonCa"]
        .iter()
        .filter_map(|kind| data[kind].as_array())
        .flatten()
        .filter_map(|der| der.as_str().and_then(super::encoding::decode))
        .map(|der| thumbprint(&der))
        .collect()
}

pub async fn list(State(state): State<AppState>, target: Target) -> Result<Json<Value>, GraphError> {
    let passkeys = state.store.passkeys(target.user.id).await?;
    Ok(Json(json!({
        "@odata.context": target.odata_context(&state, ""),
        "value": passkeys.iter().map(method_json).collect::<Vec<_>>(),
    })))
}

/// `GET .../fido2Methods/{id}`, which is also where Graph's beta form
/// `creationOptions(challengeTimeoutInMinutes=N)` arrives (beta only, as in Graph: under
/// `/v1.0` it names no method).
pub async fn get_one(State(state): State<AppState>, target: Target) -> Result<Response, GraphError> {
    let id = target.method.clone().unwrap_or_default();
    if let Some(minutes) = creation_options::timeout_parameter(&id).filter(|_| target.version == "beta") {
        return creation_options::respond(&state, &target, Some(minutes?)).await.map(IntoResponse::into_response);
    }
    let passkey = find(&state, &target, &id).await?;
    let mut body = method_json(&passkey);
    body["@odata.context"] = json!(target.odata_context(&state, "/$entity"));
    Ok(Json(body).into_response())
}

pub async fn delete(State(state): State<AppState>, target: Target) -> Result<StatusCode, GraphError> {
    let id = target.method.clone().unwrap_or_default();
    let passkey = find(&state, &target, &id).await?;
    if !state.store.delete_passkey(target.user.id, &passkey.method_id).await? {
        return Err(not_found(&id)); // deleted meanwhile
    }
    let detail = format!("method {}, {} ({}), credential {}", passkey.method_id, passkey.display_name, passkey.aaguid, b64url(&passkey.credential_id));
    audit::record(&state, &target, AuditAction::Deletion, "success", detail).await;
    Ok(StatusCode::NO_CONTENT)
}

/// One of the target user's passkeys; an unknown or malformed id, or someone else's
/// method, is `404 itemNotFound`.
pub async fn find(state: &AppState, target: &Target, id: &str) -> Result<Passkey, GraphError> {
    state.store.passkey(target.user.id, id).await?.ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> GraphError {
    GraphError::not_found(format!("The fido2 authentication method '{id}' was not found for this user."))
}
