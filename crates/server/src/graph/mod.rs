//! The Graph-shaped passkey API, on Microsoft Graph's paths, JSON and errors, under
//! `/v1.0` (and the same under `/beta`):
//!
//! | | |
//! |---|---|
//! | `GET  {who}/authentication/fido2Methods/creationOptions` | registration options; also `creationOptions(challengeTimeoutInMinutes=N)` |
//! | `POST {who}/authentication/fido2Methods` | register (`201`) |
//! | `GET  {who}/authentication/fido2Methods` | list |
//! | `GET  {who}/authentication/fido2Methods/{id}` | one method |
//! | `DELETE {who}/authentication/fido2Methods/{id}` | delete (`204`) |
//! | `POST {who}/authentication/fido2Methods/{id}/testSignIn/begin` | test sign-in options (not in Graph) |
//! | `POST {who}/authentication/fido2Methods/{id}/testSignIn/finish` | verify the assertion (not in Graph) |
//!
//! `{who}` is `/me` (the signed-in user) or `/users/{id-or-upn}` (an Authentication
//! Administrator, or the user themselves). Every call needs a bearer access token from
//! this directory with its API scope ([`crate::caller::Caller`]).

pub(crate) mod attestation_object;
pub(crate) mod audit;
pub(crate) mod body;
pub(crate) mod creation_options;
pub mod encoding;
pub(crate) mod methods;
pub(crate) mod policy;
pub(crate) mod register;
pub(crate) mod relying_party;
pub(crate) mod target;
mod test_sign_in;
mod thumbprint;

use axum::{
    Router,
    http::StatusCode,
    routing::{get, post},
};

use crate::{app::AppState, graph_error::GraphError};

pub use policy::{AttestationPolicy, PolicyError};
pub(crate) use test_sign_in::{begin as test_sign_in_begin, finish as test_sign_in_finish};
pub use relying_party::user_handle;

pub fn routes() -> Router<AppState> {
    let methods = Router::new()
        .route("/authentication/fido2Methods", get(methods::list).post(register::register))
        .route("/authentication/fido2Methods/creationOptions", get(creation_options::get))
        .route("/authentication/fido2Methods/{id}", get(methods::get_one).delete(methods::delete))
        .route("/authentication/fido2Methods/{id}/testSignIn/begin", post(test_sign_in::begin))
        .route("/authentication/fido2Methods/{id}/testSignIn/finish", post(test_sign_in::finish));
    let version = Router::new().nest("/me", methods.clone()).nest("/users/{user}", methods);
    Router::new().nest("/v1.0", version.clone()).nest("/beta", version).method_not_allowed_fallback(method_not_allowed)
}

/// Graph's answer to a method a URL does not support.
pub(crate) async fn method_not_allowed() -> GraphError {
    GraphError::new(StatusCode::METHOD_NOT_ALLOWED, "methodNotAllowed", "The method is not supported for this URL.")
}
