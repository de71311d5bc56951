//! Test sign-in with one registered method (not in Graph): what tells the user "your key
//! works". `begin` hands out WebAuthn request options with a fresh challenge for that
//! method only; `finish` verifies the assertion with webauthn-rs (challenge, origin, rp id
//! hash, UP, UV, signature, counter), remembers the new counter and records the outcome.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use webauthn_rs_core::proto::{AuthenticationState, AuthenticatorAssertionResponseRaw, Credential, PublicKeyCredential, UserVerificationPolicy};

use super::{
    audit,
    body::GraphJson,
    encoding::{self, b64url},
    methods,
    register::{challenge_of, spent_challenge},
    relying_party::{Refusal, TIMEOUT_MS, explain, relying_party},
    target::Target,
};
use crate::{
    app::AppState,
    graph_error::GraphError,
    store::{AuditAction, Ceremony, CeremonyKind, Passkey, StoreError},
};

pub async fn begin(State(state): State<AppState>, target: Target) -> Result<Json<Value>, GraphError> {
    let id = target.method.clone().unwrap_or_default();
    let passkey = methods::find(&state, &target, &id).await?;
    let credential = stored_credential(&passkey).map_err(|r| r.error)?;
    let rp = relying_party(&state.config)?;
    let builder = rp
        .new_challenge_authenticate_builder(vec![credential], Some(UserVerificationPolicy::Required))
        .map_err(|error| internal(format!("sign-in options: {error}")))?;
    let (options, authentication) = rp.generate_challenge_authenticate(builder).map_err(|error| internal(format!("sign-in challenge: {error}")))?;
    let challenge = options.public_key.challenge.as_slice();
    let ceremony = Ceremony {
        user: target.user.id,
        kind: CeremonyKind::Authentication,
        state_json: serde_json::to_string(&authentication).map_err(|error| internal(format!("sign-in state: {error}")))?,
        method_id: Some(passkey.method_id.clone()),
        expires: state.clock.now() + state.config.challenge_lifetime,
    };
    state.store.save_ceremony(&Sha256::digest(challenge).into(), &ceremony).await?;
    Ok(Json(json!({
        "challenge": b64url(challenge),
        "rpId": state.config.rp_id,
        "allowCredentials": [{"type": "public-key", "id": b64url(&passkey.credential_id)}],
        "userVerification": "required",
        "timeout": TIMEOUT_MS,
    })))
}

/// What `navigator.credentials.get()` gives, as a browser serializes it (all base64url).
/// `rawId`, `type` and `clientExtensionResults` may come along and are ignored.
#[derive(Deserialize)]
pub struct Assertion {
    id: String,
    response: AssertionResponse,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssertionResponse {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    authenticator_data: String,
    signature: String,
    #[serde(default)]
    user_handle: Option<String>,
}

pub async fn finish(State(state): State<AppState>, target: Target, GraphJson(body): GraphJson<Assertion>) -> Response {
    match try_finish(&state, &target, body).await {
        Ok((passkey, counter)) => {
            let detail = format!("method {}, {} ({})", passkey.method_id, passkey.display_name, passkey.aaguid);
            audit::record(&state, &target, AuditAction::TestSignIn, "success", detail).await;
            Json(json!({"verified": true, "signCount": counter})).into_response()
        }
        Err(refusal) => {
            let detail = format!("method {}: {}", target.method.as_deref().unwrap_or_default(), refusal.error.message);
            audit::record(&state, &target, AuditAction::TestSignIn, refusal.reason, detail).await;
            refusal.error.into_response()
        }
    }
}

async fn try_finish(state: &AppState, target: &Target, body: Assertion) -> Result<(Passkey, u32), Refusal> {
    let id = target.method.clone().unwrap_or_default();
    // Checked before anything is spent: the method exists, and the answer is well-formed.
    let passkey = methods::find(state, target, &id).await?;
    if encoding::decodings(&body.id).is_empty() {
        return Err(Refusal::bad_request("encoding", "id is not base64url."));
    }
    let field = |name: &'static str, text: &str| {
        encoding::decode(text).ok_or_else(|| Refusal::bad_request("encoding", format!("response.{name} is not base64url.")))
    };
    let client_data_json = field("clientDataJSON", &body.response.client_data_json)?;
    let authenticator_data = field("authenticatorData", &body.response.authenticator_data)?;
    let signature = field("signature", &body.response.signature)?;
    let user_handle_sent = match body.response.user_handle.as_deref() {
        None | Some("") => None,
        Some(text) => Some(field("userHandle", text)?),
    };
    let challenge = challenge_of(&client_data_json)?;
    if !encoding::matches(&body.id, &passkey.credential_id) {
        return Err(Refusal::bad_request("credential", "The answer is from another credential than this method's."));
    }
    if user_handle_sent.as_ref().is_some_and(|handle| *handle != target.user.handle()) {
        return Err(Refusal::bad_request("user_handle", "The security key answered for another user (the userHandle is not this user's)."));
    }

    let hash: [u8; 32] = Sha256::digest(&challenge).into();
    let ceremony = state.store.take_ceremony(&hash, target.user.id, CeremonyKind::Authentication, state.clock.now()).await?;
    let ceremony = ceremony.ok_or_else(spent_challenge)?;
    if ceremony.method_id.as_deref() != Some(passkey.method_id.as_str()) {
        return Err(Refusal::bad_request("challenge", "This challenge was issued for a test sign-in with another method."));
    }
    let authentication: AuthenticationState = serde_json::from_str(&ceremony.state_json).map_err(|error| {
        tracing::error!(%error, "a stored authentication state does not parse");
        Refusal::from(StoreError::Corrupt("authentication state".into()))
    })?;

    let mut credential = stored_credential(&passkey)?;
    let response = PublicKeyCredential {
        id: b64url(&passkey.credential_id),
        raw_id: passkey.credential_id.clone(),
        response: AuthenticatorAssertionResponseRaw { authenticator_data, client_data_json, signature, user_handle: user_handle_sent },
        extensions: Default::default(),
        type_: "public-key".into(),
    };
    let rp = relying_party(&state.config)?;
    let result = rp
        .authenticate_single_credential(&response, &authentication, &credential)
        .map_err(|error| explain(&error, &state.config, None))?;

    if result.needs_update() {
        credential.counter = credential.counter.max(result.counter());
        credential.backup_state = result.backup_state();
        credential.backup_eligible = result.backup_eligible();
        let json = serde_json::to_string(&credential).map_err(|_| Refusal::from(StoreError::Corrupt("credential".into())))?;
        state.store.update_passkey_credential(&passkey.method_id, &json, credential.counter).await?;
    }
    Ok((passkey, credential.counter))
}

fn stored_credential(passkey: &Passkey) -> Result<Credential, Refusal> {
    serde_json::from_str(&passkey.credential_json).map_err(|error| {
        tracing::error!(%error, method = %passkey.method_id, "a stored credential does not parse");
        Refusal::from(StoreError::Corrupt("credential".into()))
    })
}

fn internal(detail: String) -> GraphError {
    tracing::error!(%detail, "could not start a test sign-in");
    GraphError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "generalException", "The test sign-in could not be started.")
}
