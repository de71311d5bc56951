//! `GET …/fido2Methods` (paged), `GET …/fido2Methods/{id}`, `DELETE …/fido2Methods/{id}`
//! ("List fido2AuthenticationMethod", "Get …", "Delete …"), and the method's JSON.
//!
//! Paging: Graph answers a page of `value` and an absolute `@odata.nextLink` on its own
//! host carrying an opaque `$skiptoken`; clients follow it as given. A `$skiptoken` the
//! stand-in did not hand out is a violation (the broker must not make them up).

use axum::http::StatusCode;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{Answer, Context, GraphError, creation_options::rfc3339, metadata};
use crate::state::{Method, Shared, User};

/// The user an `{id}` segment names (object id or UPN), or Graph's 404.
pub(crate) fn find_user(shared: &Shared, id: &str) -> Result<User, GraphError> {
    shared.lock().user(id).cloned().ok_or_else(|| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        )
    })
}

/// Graph's `fido2AuthenticationMethod`, plus a field clients must ignore.
pub(crate) fn method_json(method: &Method) -> Value {
    json!({
        "id": method.id,
        "displayName": method.display_name,
        "createdDateTime": rfc3339(method.created),
        "aaGuid": method.aaguid.to_string(),
        "model": method.model,
        "attestationCertificates": method.attestation_certificates,
        "attestationLevel": if method.attested { "attested" } else { "notAttested" },
        "passkeyType": "deviceBound",
        "lastUsedDateTime": null,
    })
}

fn skiptoken(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("stand-in-offset:{offset}"))
}

fn read_skiptoken(token: &str) -> Option<usize> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    text.strip_prefix("stand-in-offset:")?.parse().ok()
}

pub(crate) fn list(
    shared: &Shared,
    context: &Context,
    user_segment: &str,
    query: Option<&str>,
) -> Result<Answer, GraphError> {
    let user = find_user(shared, user_segment)?;
    let mut offset = 0;
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if name == "$skiptoken" {
            offset = read_skiptoken(&value).ok_or_else(|| {
                shared.violation(format!(
                    "a $skiptoken the stand-in did not hand out: {value}"
                ));
                GraphError::bad_request("The $skiptoken is not valid.")
            })?;
        }
    }
    let page_size = shared.config.graph_page_size.max(1);
    let methods: Vec<Method> = shared
        .lock()
        .methods
        .iter()
        .filter(|m| m.user == user.oid)
        .cloned()
        .collect();
    let page: Vec<Value> = methods
        .iter()
        .skip(offset)
        .take(page_size)
        .map(method_json)
        .collect();
    let mut body = json!({
        "@odata.context": metadata(shared, context, &format!("users('{}')/authentication/fido2Methods", user_segment)),
        "value": page,
    });
    if offset + page_size < methods.len() {
        let next = format!(
            "{}{}/users/{}/authentication/fido2Methods?$skiptoken={}",
            shared.graph_base(),
            context.version,
            user.oid,
            skiptoken(offset + page_size)
        );
        body["@odata.nextLink"] = json!(next);
    }
    Ok(Answer::Json(StatusCode::OK, body))
}

fn not_found(id: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "itemNotFound",
        format!("The requested FIDO2 authentication method '{id}' was not found."),
    )
}

pub(crate) fn get(
    shared: &Shared,
    context: &Context,
    user_segment: &str,
    id: &str,
) -> Result<Answer, GraphError> {
    let user = find_user(shared, user_segment)?;
    let method = shared
        .lock()
        .methods
        .iter()
        .find(|m| m.user == user.oid && m.id == id)
        .cloned()
        .ok_or_else(|| not_found(id))?;
    let mut body = method_json(&method);
    body["@odata.context"] = json!(metadata(
        shared,
        context,
        &format!("users('{user_segment}')/authentication/fido2Methods/$entity")
    ));
    Ok(Answer::Json(StatusCode::OK, body))
}

pub(crate) fn delete(shared: &Shared, user_segment: &str, id: &str) -> Result<Answer, GraphError> {
    let user = find_user(shared, user_segment)?;
    let mut inner = shared.lock();
    let before = inner.methods.len();
    inner
        .methods
        .retain(|m| !(m.user == user.oid && m.id == id));
    if inner.methods.len() == before {
        return Err(not_found(id));
    }
    Ok(Answer::NoContent)
}
