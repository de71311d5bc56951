//! `POST .../fido2Methods` in broker mode. Order matters for "no half-registered state":
//!
//! 1. the body is checked for shape and the credential is not one this broker registered;
//! 2. the ceremony is taken (the challenge is spent) and the attestation verified here,
//!    against Graph's challenge and the organisation's key policy, so a refused key never
//!    reaches Graph and its refusal names the model;
//! 3. Graph registers it (`POST /users/{oid}/...`, the body rebuilt in exactly the shape
//!    Graph takes);
//! 4. the new method is looked for in Graph's list, and its public key kept for the test
//!    sign-in. A method Graph registered is never undone here: if keeping the key fails,
//!    the registration stands and the test sign-in says it cannot be run.

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{Broker, options::upstream_protocol};
use crate::{
    app::AppState,
    graph::{
        audit,
        body::GraphJson,
        encoding::b64url,
        register::{Decoded, NewFido2Method, Verified, already_registered, decode, take_registration, verify},
        relying_party::Refusal,
        target::Target,
    },
    graph_error::GraphError,
    store::{AuditAction, Passkey},
};

/// Graph lists a method it has just registered at once in practice; a little patience
/// covers replication lag without holding the person up.
const LIST_ATTEMPTS: u32 = 3;
const LIST_PAUSE: Duration = Duration::from_millis(500);

pub async fn register(State(state): State<AppState>, target: Target, GraphJson(body): GraphJson<NewFido2Method>) -> Response {
    let Some(broker) = state.broker.clone() else { return GraphError::unavailable().into_response() };
    match try_register(&state, &broker, &target, body).await {
        Ok((method, passkey, listed)) => {
            let outcome = if listed { "success" } else { "success_unlisted" };
            let detail = format!(
                "method {}, {} ({}, {}), credential {}, in Entra",
                passkey.method_id,
                passkey.display_name,
                passkey.model,
                passkey.aaguid,
                b64url(&passkey.credential_id)
            );
            audit::record(&state, &target, AuditAction::Registration, outcome, detail).await;
            (StatusCode::CREATED, Json(method)).into_response()
        }
        Err(refusal) => {
            audit::record(&state, &target, AuditAction::Registration, refusal.reason, refusal.error.message.clone()).await;
            refusal.error.into_response()
        }
    }
}

async fn try_register(state: &AppState, broker: &Broker, target: &Target, body: NewFido2Method) -> Result<(Value, Passkey, bool), Refusal> {
    let request = decode(body)?;
    if state.store.passkey_by_credential_id(&request.summary.credential_id).await?.is_some() {
        return Err(already_registered());
    }
    let registration = take_registration(state, target, &request).await?;
    let verified = verify(state, &request, &registration)?;

    let method = broker.graph.register(target.user.id, &graph_body(&request)).await.map_err(|error| {
        let error = error.to_graph_error();
        let reason = if error.status.is_server_error() { "unavailable" } else { "graph_refused" };
        Refusal { error, reason }
    })?;
    let Some(method_id) = method["id"].as_str().filter(|id| !id.is_empty()).map(str::to_owned) else {
        tracing::error!("Graph registered a method without an id");
        return Err(upstream_protocol("Microsoft Graph registered the key but did not say under which id.".into()).into());
    };
    let listed = confirm_listed(broker, target, &method_id).await;
    let passkey = keep(state, target, &request, &verified, &method, method_id).await?;
    Ok((method, passkey, listed))
}

/// Exactly what Graph takes (FACTS.md): no `type`, `rawId` or `@odata.type`; everything
/// base64url without padding, whatever encoding the app used.
fn graph_body(request: &Decoded) -> Value {
    json!({
        "displayName": request.display_name,
        "publicKeyCredential": {
            "id": b64url(&request.summary.credential_id),
            "response": {
                "clientDataJSON": b64url(&request.client_data_json),
                "attestationObject": b64url(&request.attestation_object),
            },
            "clientExtensionResults": request.client_extension_results,
        },
    })
}

/// Whether Graph lists the new method. A list that cannot be read is logged and counts as
/// not confirmed; it does not turn a registration into a failure.
async fn confirm_listed(broker: &Broker, target: &Target, method_id: &str) -> bool {
    for attempt in 1..=LIST_ATTEMPTS {
        match broker.graph.list(target.user.id).await {
            Ok(methods) if methods.iter().any(|m| m["id"].as_str() == Some(method_id)) => return true,
            Ok(_) => tracing::warn!(attempt, "Graph does not list a method it has just registered"),
            Err(error) => tracing::warn!(attempt, %error, "Graph's list of methods could not be read"),
        }
        if attempt < LIST_ATTEMPTS {
            tokio::time::sleep(LIST_PAUSE).await;
        }
    }
    false
}

/// Keeps the verified public key under Graph's method id, for the test sign-in.
async fn keep(state: &AppState, target: &Target, request: &Decoded, verified: &Verified, method: &Value, method_id: String) -> Result<Passkey, Refusal> {
    let text = |field: &str| method[field].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let policy = &state.config.attestation;
    let passkey = Passkey {
        method_id,
        user: target.user.id,
        credential_id: verified.credential.cred_id.to_vec(),
        credential_json: verified.credential_json()?,
        aaguid: verified.aaguid,
        model: text("model").unwrap_or_else(|| policy.model_name(verified.aaguid).to_owned()),
        display_name: text("displayName").unwrap_or_else(|| request.display_name.clone()),
        attestation_level: text("attestationLevel").unwrap_or_else(|| if verified.attested { "attested" } else { "notAttested" }.to_owned()),
        created: state.clock.now(),
        sign_count: verified.credential.counter,
    };
    // Graph has registered it: whatever happens here, the answer is that it is registered.
    if let Err(error) = state.store.add_passkey(&passkey).await {
        tracing::error!(%error, method = %passkey.method_id, "a method registered in Entra could not be kept for its test sign-in");
    }
    Ok(passkey)
}
