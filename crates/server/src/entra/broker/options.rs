//! `GET .../creationOptions` in broker mode: Graph's options for the signed-in user, passed
//! to the app as Graph wrote them, with the challenge remembered so the broker can verify
//! the key's answer itself before Graph sees it.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use webauthn_rs_core::proto::RegistrationState;

use super::Broker;
use crate::{
    app::AppState,
    graph::{audit, creation_options::registration, encoding, relying_party::Refusal, target::Target},
    graph_error::GraphError,
    store::{AuditAction, Ceremony, CeremonyKind},
};

pub async fn get(State(state): State<AppState>, target: Target) -> Response {
    let Some(broker) = state.broker.clone() else { return GraphError::unavailable().into_response() };
    match fetch(&state, &broker, &target).await {
        Ok(options) => Json(options).into_response(),
        Err(refusal) => {
            audit::record(&state, &target, AuditAction::Registration, refusal.reason, format!("options: {}", refusal.error.message)).await;
            refusal.error.into_response()
        }
    }
}

async fn fetch(state: &AppState, broker: &Broker, target: &Target) -> Result<Value, Refusal> {
    let options = broker.graph.creation_options(target.user.id).await.map_err(|error| Refusal::from(error.to_graph_error()))?;
    let read = Read::from(&options).map_err(|what| {
        tracing::error!(what, "Graph's creation options cannot be used");
        Refusal::from(upstream_protocol(format!("Microsoft Graph's registration options have no usable {what}.")))
    })?;
    if read.rp_id != state.config.rp_id {
        // The test sign-in runs for the configured relying party, so a key registered for
        // another would register and then fail its test.
        tracing::error!(graph = %read.rp_id, configured = %state.config.rp_id, "Graph's options name another relying party");
        return Err(upstream_protocol(format!(
            "Microsoft Graph's registration options are for the relying party {}, not {} as this service is configured: IT, set rp_id in the broker's settings.",
            read.rp_id, state.config.rp_id
        ))
        .into());
    }

    if target.user.entra_handle.as_deref() != Some(read.user_handle.as_slice()) {
        state.store.set_entra_handle(target.user.id, &read.user_handle).await?;
    }
    let now = state.clock.now();
    // Graph's own deadline, never past what this service allows a challenge.
    let expires = read.expires.unwrap_or(now + state.config.challenge_lifetime).min(now + time::Duration::days(30));
    let ceremony = Ceremony {
        user: target.user.id,
        kind: CeremonyKind::Registration,
        state_json: registration_state(state, target, &read)?,
        method_id: None,
        expires,
    };
    state.store.save_ceremony(&Sha256::digest(&read.challenge).into(), &ceremony).await?;
    Ok(options)
}

/// What the broker needs from Graph's options. Everything else passes through untouched.
struct Read {
    challenge: Vec<u8>,
    user_handle: Vec<u8>,
    rp_id: String,
    expires: Option<OffsetDateTime>,
}

impl Read {
    fn from(options: &Value) -> Result<Self, &'static str> {
        let public_key = &options["publicKey"];
        let bytes = |value: &Value| value.as_str().and_then(encoding::decode).filter(|b| !b.is_empty());
        Ok(Self {
            challenge: bytes(&public_key["challenge"]).ok_or("challenge")?,
            user_handle: bytes(&public_key["user"]["id"]).ok_or("user id")?,
            rp_id: public_key["rp"]["id"].as_str().filter(|id| !id.is_empty()).ok_or("relying party id")?.to_owned(),
            expires: options["challengeTimeoutDateTime"].as_str().and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok()),
        })
    }
}

/// webauthn-rs's registration state for Graph's challenge and user. webauthn-rs only makes
/// states for challenges of its own, so one is made and its challenge replaced through the
/// state's serialized form (the challenge is a base64url field there); the rest (user
/// verification required, ES256/RS256, resident key, cross-platform) is what Entra asks.
fn registration_state(state: &AppState, target: &Target, read: &Read) -> Result<String, Refusal> {
    let user = &target.user;
    let (_, registration) = registration(state, &read.user_handle, &user.upn, &user.display_name)?;
    let mut value = serde_json::to_value(&registration).map_err(|_| internal())?;
    if value.get("challenge").is_none() {
        return Err(internal());
    }
    value["challenge"] = json!(encoding::b64url(&read.challenge));
    let patched: RegistrationState = serde_json::from_value(value).map_err(|_| internal())?;
    serde_json::to_string(&patched).map_err(|_| internal())
}

fn internal() -> Refusal {
    tracing::error!("webauthn-rs's registration state has changed form: the broker cannot take Graph's challenge");
    GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", "The registration options could not be prepared.").into()
}

pub(super) fn upstream_protocol(message: String) -> GraphError {
    GraphError::new(StatusCode::BAD_GATEWAY, "badGateway", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_options_are_read_in_any_of_their_encodings() {
        let options = json!({
            "challengeTimeoutDateTime": "2026-11-22T10:05:00Z",
            "publicKey": {"challenge": "AQID", "user": {"id": "BAUG"}, "rp": {"id": "login.microsoft.com", "name": "Microsoft"}, "unknown": 1},
        });
        let read = Read::from(&options).unwrap();
        assert_eq!((read.challenge, read.user_handle, read.rp_id.as_str()), (vec![1, 2, 3], vec![4, 5, 6], "login.microsoft.com"));
        assert_eq!(read.expires.unwrap().unix_timestamp(), 1_795_341_900);

        let mut no_challenge = options.clone();
        no_challenge["publicKey"]["challenge"] = json!("");
        assert_eq!(Read::from(&no_challenge).err(), Some("challenge"));
        let mut no_rp = options;
        no_rp["publicKey"]["rp"] = json!({});
        assert_eq!(Read::from(&no_rp).err(), Some("relying party id"));
    }
}
