//! Microsoft Graph's passkey endpoints under `{graph}v1.0` and `{graph}beta`:
//!
//! - `GET  /users/{id|upn}/authentication/fido2Methods/creationOptions` (beta also
//!   `creationOptions(challengeTimeoutInMinutes=N)`)
//! - `POST /users/{id|upn}/authentication/fido2Methods`
//! - `GET  /users/{id|upn}/authentication/fido2Methods[/{methodId}]`, `DELETE …/{methodId}`
//! - `/me/authentication/fido2Methods…`: 405 methodNotAllowed for a delegated caller,
//!   Graph's known refusal of self-service (FACTS.md); 400 for an app token, as Graph
//!   answers `/me` without a signed-in user.
//!
//! Order, as Graph works: an injected fault first, then the URL, the token (401), the
//! permission (403), the FIDO2 policy, the user (404), the request itself.
//!
//! Every answer carries `request-id`, `client-request-id` (the caller's, echoed, else the
//! request id) and Graph's OData content type
//! `application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8`.
//!
//! Contract violations recorded here (the broker must never send them): a Graph URL with
//! `//`, a query string on a POST, `/me` with an app token, a `$skiptoken` Graph did not
//! hand out; the POST body's own are in `register`.

mod attestation;
mod auth;
mod creation_options;
mod error;
mod faults;
mod methods;
mod register;

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;
use time::macros::format_description;
use uuid::Uuid;

pub(crate) use error::GraphError;
pub(crate) use methods::method_json;

use crate::{config::Route, state::Shared};

const ODATA_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// Per-request facts every answer carries.
pub(crate) struct Context {
    pub request_id: String,
    pub client_request_id: String,
    /// `innerError.date`: `2022-12-22T08:00:18` (no zone, no fraction).
    pub date: String,
    /// `v1.0` or `beta`.
    pub version: String,
}

/// A successful answer.
pub(crate) enum Answer {
    Json(StatusCode, Value),
    NoContent,
}

/// What the URL names.
enum Target {
    Me,
    CreationOptions {
        user: String,
        minutes: Option<Result<i64, GraphError>>,
    },
    Methods {
        user: String,
    },
    Method {
        user: String,
        id: String,
    },
}

pub(crate) async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = Uuid::new_v4().to_string();
    let client_request_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| request_id.clone(), str::to_owned);
    let date = shared
        .now()
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
        .unwrap_or_default();
    let path = uri.path().strip_prefix("/graph/").unwrap_or_default();
    let version = path.split('/').next().unwrap_or_default().to_owned();
    let context = Context {
        request_id,
        client_request_id,
        date,
        version,
    };
    let outcome = handle(&shared, &context, &method, &uri, &headers, &body);
    finish(&context, outcome)
}

fn handle(
    shared: &Shared,
    context: &Context,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Answer, GraphError> {
    let path = uri.path().strip_prefix("/graph/").unwrap_or_default();
    let target = target(path, &context.version);
    if let Ok(target) = &target
        && let Some(route) = route(method, target)
    {
        let fault = shared.lock().take_fault(route);
        if let Some(fault) = fault {
            return Err(faults::answer(fault));
        }
    }
    if path.contains("//") || path.is_empty() {
        shared.violation(format!("Graph URL with an empty segment: {}", uri.path()));
        return Err(GraphError::bad_request(
            "Resource not found for the segment ''.",
        ));
    }
    if *method == Method::POST && uri.query().is_some() {
        shared.violation(format!("query string on a Graph POST: {uri}"));
        return Err(GraphError::bad_request(
            "Query options are not allowed on this request.",
        ));
    }
    let target = target?;
    let caller = auth::authenticate(shared, headers)?;
    if let Target::Me = target {
        return match caller {
            auth::Caller::App { .. } => {
                shared.violation("/me with an app-only token (the broker must name the user)");
                Err(GraphError::bad_request(
                    "/me request is only valid with delegated authentication flow.",
                ))
            }
            auth::Caller::Delegated => Err(GraphError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "methodNotAllowed",
                "The method is not supported for this URL.",
            )),
        };
    }
    auth::authorize(&caller)?;
    match (method.clone(), target) {
        (Method::GET, Target::CreationOptions { user, minutes }) => {
            creation_options::get(shared, context, &user, minutes.transpose()?)
        }
        (Method::POST, Target::Methods { user }) => {
            register::post(shared, context, &user, headers, body)
        }
        (Method::GET, Target::Methods { user }) => {
            methods::list(shared, context, &user, uri.query())
        }
        (Method::GET, Target::Method { user, id }) => methods::get(shared, context, &user, &id),
        (Method::DELETE, Target::Method { user, id }) => methods::delete(shared, &user, &id),
        _ => Err(GraphError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "methodNotAllowed",
            "The method is not supported for this URL.",
        )),
    }
}

fn route(method: &Method, target: &Target) -> Option<Route> {
    match (method, target) {
        (&Method::GET, Target::CreationOptions { .. }) => Some(Route::CreationOptions),
        (&Method::POST, Target::Methods { .. }) => Some(Route::Register),
        (&Method::GET, Target::Methods { .. } | Target::Method { .. }) => Some(Route::List),
        (&Method::DELETE, Target::Method { .. }) => Some(Route::Delete),
        _ => None,
    }
}

/// Reads `{version}/…`. Unknown paths answer as OData does: 400 "Resource not found for
/// the segment '…'".
fn target(path: &str, version: &str) -> Result<Target, GraphError> {
    let segments: Vec<String> = path.split('/').skip(1).map(percent_decode).collect();
    if version != "v1.0" && version != "beta" {
        return Err(GraphError::bad_request(format!(
            "Invalid version: {version}"
        )));
    }
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let unknown = |segment: &str| {
        GraphError::bad_request(format!("Resource not found for the segment '{segment}'."))
    };
    match segments.as_slice() {
        ["me", "authentication", "fido2Methods", ..] => Ok(Target::Me),
        ["users", user, "authentication", "fido2Methods"] => Ok(Target::Methods {
            user: (*user).to_owned(),
        }),
        [
            "users",
            user,
            "authentication",
            "fido2Methods",
            "creationOptions",
        ] => Ok(Target::CreationOptions {
            user: (*user).to_owned(),
            minutes: None,
        }),
        ["users", user, "authentication", "fido2Methods", id] => {
            match creation_options::timeout_parameter(id) {
                Some(_) if version == "v1.0" => Err(unknown(id)),
                Some(minutes) => Ok(Target::CreationOptions {
                    user: (*user).to_owned(),
                    minutes: Some(minutes),
                }),
                None => Ok(Target::Method {
                    user: (*user).to_owned(),
                    id: (*id).to_owned(),
                }),
            }
        }
        [first, ..] if !["me", "users"].contains(first) => Err(unknown(first)),
        [_, _, second, ..] if *second != "authentication" => Err(unknown(second)),
        [_, _, _, third, ..] => Err(unknown(third)),
        _ => Err(unknown(segments.last().copied().unwrap_or_default())),
    }
}

fn finish(context: &Context, outcome: Result<Answer, GraphError>) -> Response {
    let mut response = match outcome {
        Ok(Answer::Json(status, body)) => (status, body.to_string()).into_response(),
        Ok(Answer::NoContent) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => {
            let mut response = (error.status, error.body(context).to_string()).into_response();
            for (name, value) in &error.headers {
                if let Ok(value) = HeaderValue::from_str(value) {
                    response.headers_mut().insert(name.clone(), value);
                }
            }
            response
        }
    };
    let no_content = response.status() == StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    if !no_content {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ODATA_JSON));
    }
    for (name, value) in [
        ("request-id", &context.request_id),
        ("client-request-id", &context.client_request_id),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    headers.insert(
        "x-ms-ags-diagnostic",
        HeaderValue::from_static(r#"{"ServerInfo":{"DataCenter":"West Europe","Slice":"E","Ring":"5","ScaleUnit":"000","RoleInstance":"AM1PEPF0000STAND"}}"#),
    );
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Percent-decodes one path segment (`ada%40contoso.test` → `ada@contoso.test`).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = segment
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `{graph}{version}/$metadata#…`: Graph's `@odata.context`, on the stand-in's host.
pub(crate) fn metadata(shared: &Shared, context: &Context, fragment: &str) -> String {
    format!(
        "{}{}/$metadata#{fragment}",
        shared.graph_base(),
        context.version
    )
}
