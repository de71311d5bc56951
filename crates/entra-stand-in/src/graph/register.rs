//! `POST …/fido2Methods` ("Create fido2AuthenticationMethod"): the body checked as Graph
//! checks it, then the key's answer verified as Entra verifies it.
//!
//! The body must be exactly
//! `{"displayName", "publicKeyCredential": {"id", "response": {"clientDataJSON",
//! "attestationObject"}, "clientExtensionResults"}}` with base64url values (no padding).
//! `type`, `rawId` and `@odata.type` are reported to cause 400 (FACTS.md) and any other
//! unknown property is refused the way OData refuses it ("The property 'x' does not
//! exist on type …"); `displayName` is required and at most 30 characters. Each of these
//! is also a contract violation: the broker must never send them.
//!
//! Verification (webauthn-rs with our own challenge): clientDataJSON type
//! `webauthn.create`, a challenge issued to this user and not expired (challenges are
//! single-use), origin `https://login.microsoft.com`, rpIdHash, UP and UV, format `packed`
//! or `none` (beta's documented limit), attestation against the policy's roots when
//! enforced, key restrictions by AAGUID, a credential id not registered to anyone yet.
//! The 400 messages for these are ours: Graph's are not documented.

use axum::http::{HeaderMap, StatusCode, header};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use webauthn_rs_core::{
    error::WebauthnError,
    proto::{
        AttestationCaList, AuthenticatorAttestationResponseRaw, Credential,
        RegisterPublicKeyCredential, RegistrationState,
    },
};

use super::{
    Answer, Context, GraphError, attestation,
    creation_options::check_policy,
    metadata,
    methods::{find_user, method_json},
};
use crate::{
    encodings::{rotating, strict_b64url},
    state::{Method, Shared},
};

const MAX_DISPLAY_NAME: usize = 30;
const ORIGIN: &str = "https://login.microsoft.com";

/// A refusal that is also a contract violation.
fn violation(shared: &Shared, what: &str, error: GraphError) -> GraphError {
    shared.violation(format!("POST fido2Methods: {what}"));
    error
}

fn no_such_property(property: &str, on: &str) -> GraphError {
    GraphError::bad_request(format!(
        "The property '{property}' does not exist on type 'microsoft.graph.{on}'. Make sure to only use property names that are defined by the type or mark the type as open type."
    ))
}

/// The body's shape: only the allowed keys at each level.
fn check_keys(
    shared: &Shared,
    object: &Map<String, Value>,
    allowed: &[&str],
    on: &str,
) -> Result<(), GraphError> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(violation(
            shared,
            &format!("body has {key:?} on {on} (Graph refuses it)"),
            no_such_property(key, on),
        )),
        None => Ok(()),
    }
}

/// The first `type`, `rawId` or `@odata.type` anywhere in the body, as a dotted path.
fn forbidden_key(object: &Map<String, Value>, at: &str) -> Option<String> {
    for (key, value) in object {
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        if ["type", "rawId", "@odata.type"].contains(&key.as_str()) {
            return Some(path);
        }
        if let Value::Object(inner) = value
            && let Some(found) = forbidden_key(inner, &path)
        {
            return Some(found);
        }
    }
    None
}

struct Body {
    display_name: String,
    id: String,
    client_data_json: Vec<u8>,
    attestation_object: Vec<u8>,
    extensions: Value,
}

fn read_body(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Body, GraphError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        let error = GraphError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "The content type of the request is not supported; send application/json.",
        );
        return Err(violation(
            shared,
            &format!("Content-Type {content_type:?}, not application/json"),
            error,
        ));
    }
    let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(body) else {
        let error = GraphError::bad_request(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        );
        return Err(violation(shared, "body is not a JSON object", error));
    };
    if let Some(path) = forbidden_key(&root, "") {
        let error = GraphError::invalid_request(format!(
            "The request body contains '{path}', which is not accepted. Send displayName and publicKeyCredential (id, response, clientExtensionResults) only."
        ));
        return Err(violation(
            shared,
            &format!("body has {path} (type, rawId and @odata.type cause 400)"),
            error,
        ));
    }
    check_keys(
        shared,
        &root,
        &["displayName", "publicKeyCredential"],
        "fido2AuthenticationMethod",
    )?;
    let Some(Value::Object(credential)) = root.get("publicKeyCredential") else {
        return Err(violation(
            shared,
            "no publicKeyCredential object",
            GraphError::invalid_request("publicKeyCredential is required."),
        ));
    };
    check_keys(
        shared,
        credential,
        &["id", "response", "clientExtensionResults"],
        "webauthnPublicKeyCredential",
    )?;
    let Some(Value::Object(response)) = credential.get("response") else {
        return Err(violation(
            shared,
            "no publicKeyCredential.response object",
            GraphError::invalid_request("publicKeyCredential.response is required."),
        ));
    };
    check_keys(
        shared,
        response,
        &["clientDataJSON", "attestationObject"],
        "webauthnAuthenticatorAttestationResponse",
    )?;

    let display_name = root
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if display_name.trim().is_empty() {
        return Err(violation(
            shared,
            "displayName missing or empty",
            GraphError::invalid_request("displayName is required."),
        ));
    }
    if display_name.chars().count() > MAX_DISPLAY_NAME {
        let error = GraphError::invalid_request(format!(
            "displayName cannot be longer than {MAX_DISPLAY_NAME} characters."
        ));
        return Err(violation(
            shared,
            &format!("displayName of {} characters", display_name.chars().count()),
            error,
        ));
    }
    let binary = |value: Option<&Value>, name: &str| -> Result<Vec<u8>, GraphError> {
        let text = value.and_then(Value::as_str).unwrap_or_default();
        strict_b64url(text)
            .filter(|bytes| !bytes.is_empty())
            .ok_or_else(|| {
                violation(
                    shared,
                    &format!("{name} is not base64url without padding"),
                    GraphError::invalid_request(format!(
                        "{name} is not a valid Base64URL-encoded value."
                    )),
                )
            })
    };
    let id_text = credential
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    binary(credential.get("id"), "publicKeyCredential.id")?;
    let client_data_json = binary(
        response.get("clientDataJSON"),
        "publicKeyCredential.response.clientDataJSON",
    )?;
    let attestation_object = binary(
        response.get("attestationObject"),
        "publicKeyCredential.response.attestationObject",
    )?;
    let extensions = credential
        .get("clientExtensionResults")
        .cloned()
        .unwrap_or_else(|| json!({}));
    Ok(Body {
        display_name: display_name.to_owned(),
        id: id_text,
        client_data_json,
        attestation_object,
        extensions,
    })
}

pub(crate) fn post(
    shared: &Shared,
    context: &Context,
    user: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Answer, GraphError> {
    check_policy(shared)?;
    let user = find_user(shared, user)?;
    let body = read_body(shared, headers, body)?;
    let summary =
        attestation::summarize(&body.attestation_object).map_err(GraphError::invalid_request)?;
    if !matches!(summary.fmt.as_str(), "packed" | "none") {
        return Err(GraphError::invalid_request(format!(
            "The attestation format '{}' is not supported. Supported formats are packed and none.",
            summary.fmt
        )));
    }
    if strict_b64url(&body.id) != Some(summary.credential_id.clone()) {
        return Err(GraphError::invalid_request(
            "publicKeyCredential.id does not match the credential in the attestationObject.",
        ));
    }
    let client_data: Value = serde_json::from_slice(&body.client_data_json)
        .map_err(|_| GraphError::invalid_request("clientDataJSON is not valid JSON."))?;
    let challenge = client_data["challenge"]
        .as_str()
        .and_then(strict_b64url)
        .ok_or_else(|| GraphError::invalid_request("clientDataJSON has no valid challenge."))?;

    let already = || {
        GraphError::invalid_request(
            "This security key is already registered: a passkey with this credential ID exists in the directory.",
        )
    };
    if shared
        .lock()
        .methods
        .iter()
        .any(|m| m.credential_id == summary.credential_id)
    {
        return Err(already());
    }
    // The challenge is spent from here on, whatever the outcome.
    let now = shared.now();
    let state = {
        let mut inner = shared.lock();
        match inner.challenges.remove(&challenge) {
            Some(c) if c.user == user.oid && c.expires > now => c.state,
            _ => {
                return Err(GraphError::invalid_request(
                    "The challenge has expired or is not valid for this user. Request new creationOptions and try again.",
                ));
            }
        }
    };

    let policy = shared.lock().policy.clone();
    let (credential, attested) = verify(
        shared,
        &body,
        &state,
        &policy.attestation_roots,
        policy.is_attestation_enforced,
    )?;
    if !policy.allows(summary.aaguid) {
        return Err(GraphError::invalid_request(format!(
            "The security key model with AAGUID {} is not allowed by the FIDO2 key restriction policy of this organization.",
            summary.aaguid
        )));
    }
    let method = Method {
        // Entra's method ids read like the credential id in base64url with the padding-count
        // digit (e.g. "-2_GRUg2-HYz6_1YG4YRAQ2"); clients must treat them as opaque.
        id: rotating(&summary.credential_id, 2),
        user: user.oid,
        display_name: body.display_name,
        created: now,
        aaguid: summary.aaguid,
        model: attestation::model(summary.aaguid).map(str::to_owned),
        attestation_certificates: summary.certificates,
        attested,
        credential_id: summary.credential_id,
        credential: serde_json::to_value(&credential).unwrap_or_default(),
    };
    {
        let mut inner = shared.lock();
        if inner
            .methods
            .iter()
            .any(|m| m.credential_id == method.credential_id)
        {
            return Err(already());
        }
        inner.methods.push(method.clone());
    }
    let mut json = method_json(&method);
    json["@odata.context"] = json!(metadata(
        shared,
        context,
        &format!("users('{}')/authentication/fido2Methods/$entity", user.oid)
    ));
    Ok(Answer::Json(StatusCode::CREATED, json))
}

/// webauthn-rs's verdict. With roots configured the chain is tried against them first
/// (`attested` when it holds); when attestation is not enforced a key that does not chain
/// is still accepted, as `notAttested`.
fn verify(
    shared: &Shared,
    body: &Body,
    state: &RegistrationState,
    roots: &[Vec<u8>],
    enforced: bool,
) -> Result<(Credential, bool), GraphError> {
    let response = RegisterPublicKeyCredential {
        id: body.id.clone(),
        raw_id: strict_b64url(&body.id).unwrap_or_default(),
        response: AuthenticatorAttestationResponseRaw {
            attestation_object: body.attestation_object.clone(),
            client_data_json: body.client_data_json.clone(),
            transports: None,
        },
        type_: "public-key".into(),
        extensions: serde_json::from_value(body.extensions.clone()).unwrap_or_default(),
    };
    let rp = &shared.relying_party;
    if !roots.is_empty() {
        let cas = ca_list(roots).ok_or_else(|| {
            GraphError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "generalException",
                "The attestation roots are not certificates.",
            )
        })?;
        match rp.register_credential(&response, state, Some(&cas)) {
            Ok(credential) => return Ok((credential, true)),
            Err(error) if enforced || !is_attestation_error(&error) => return Err(explain(&error)),
            Err(_) => {}
        }
    } else if enforced {
        return Err(GraphError::invalid_request(
            "Attestation is enforced but no trusted attestation roots are configured; the key cannot be verified.",
        ));
    }
    rp.register_credential(&response, state, None)
        .map(|credential| (credential, false))
        .map_err(|error| explain(&error))
}

fn is_attestation_error(error: &WebauthnError) -> bool {
    use WebauthnError as E;
    matches!(
        error,
        E::AttestationChainNotTrusted(_)
            | E::AttestationNotVerifiable
            | E::AttestationCertificateTrustStoreEmpty
            | E::AttestationLeafCertMissing
            | E::MissingAttestationCaList
            | E::AttestationFormatMissingAaguid
            | E::AttestationTrustFailure
            | E::AttestationUntrustedAaguid
    )
}

/// Every root vouches for any model it signed (key restrictions are checked separately).
fn ca_list(roots: &[Vec<u8>]) -> Option<AttestationCaList> {
    use sha2::{Digest, Sha256};
    let cas: Map<String, Value> = roots
        .iter()
        .map(|der| {
            (
                URL_SAFE_NO_PAD.encode(Sha256::digest(der)),
                json!({"ca": URL_SAFE_NO_PAD.encode(der), "aaguids": {}, "blanket_allow": true}),
            )
        })
        .collect();
    serde_json::from_value(json!({ "cas": cas })).ok()
}

fn explain(error: &WebauthnError) -> GraphError {
    use WebauthnError as E;
    let message = match error {
        E::InvalidClientDataType => "clientDataJSON type must be webauthn.create.".to_owned(),
        E::MismatchedChallenge => "The challenge in clientDataJSON does not match the one issued.".to_owned(),
        E::InvalidRPOrigin => format!("The origin in clientDataJSON must be {ORIGIN}."),
        E::CredentialCrossOrigin => "Cross-origin credential creation is not supported.".to_owned(),
        E::InvalidRPIDHash => "The rpIdHash in the authenticator data is not the SHA-256 of login.microsoft.com.".to_owned(),
        E::UserNotPresent => "User presence is required (the UP flag is not set).".to_owned(),
        E::UserNotVerified => "User verification is required (the UV flag is not set).".to_owned(),
        error if is_attestation_error(error) => "The security key's attestation could not be verified against the trusted attestation roots.".to_owned(),
        E::AttestationNotSupported => "The attestation format is not supported. Supported formats are packed and none.".to_owned(),
        E::AttestationStatementSigInvalid | E::AttestationStatementSigMissing => "The attestation signature is not valid.".to_owned(),
        other => format!("The passkey registration could not be verified ({other})."),
    };
    GraphError::invalid_request(message)
}
