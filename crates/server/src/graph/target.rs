//! Whose authentication methods a request is about: the signed-in user's (`/me/...`), or
//! the user named in `/users/{id-or-upn}/...`, which only an Authentication
//! Administrator may name unless it is themselves (Graph's rule for delegated calls).

use axum::{
    extract::{FromRequestParts, OriginalUri, Path},
    http::{StatusCode, request::Parts},
};
use uuid::Uuid;

use crate::{app::AppState, caller::Caller, graph_error::GraphError, store::User};

pub struct Target {
    pub caller: Caller,
    /// The user whose methods these are.
    pub user: User,
    /// `v1.0` or `beta`, as the request was addressed (for `@odata.context`).
    pub version: &'static str,
    /// The `{id}` segment, when the path has one.
    pub method: Option<String>,
}

impl Target {
    /// The directory's own name for the user in `@odata.context`, as Graph writes it.
    pub fn odata_context(&self, state: &AppState, fragment: &str) -> String {
        format!("{}/{}/$metadata#users('{}')/authentication/fido2Methods{fragment}", state.base_url, self.version, self.user.id)
    }

    pub fn metadata(&self, state: &AppState, fragment: &str) -> String {
        format!("{}/{}/$metadata#{fragment}", state.base_url, self.version)
    }

    /// For the audit trail: who acted, when it was not the user themselves.
    pub fn actor_note(&self) -> String {
        if self.caller.user.id == self.user.id { String::new() } else { format!(" by {}", self.caller.user.upn) }
    }
}

impl FromRequestParts<AppState> for Target {
    type Rejection = GraphError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, GraphError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let path = parts.extensions.get::<OriginalUri>().map_or_else(|| parts.uri.path().to_owned(), |uri| uri.path().to_owned());
        let version = if path.starts_with("/beta/") { "beta" } else { "v1.0" };
        // `/me/authentication/fido2Methods` has no parameters at all, which axum reports as
        // an error: that is "no user named".
        // `Path` percent-decodes, so `/users/ada%40contoso.com` names ada@contoso.com.
        let params: Vec<(String, String)> = match Path::<Vec<(String, String)>>::from_request_parts(parts, state).await {
            Ok(Path(params)) => params,
            Err(_) => Vec::new(),
        };
        let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let method = param("id");
        let Some(named) = param("user") else {
            return Ok(Target { user: caller.user.clone(), caller, version, method });
        };
        let object_id = Uuid::parse_str(&named).ok();
        let is_self = object_id == Some(caller.user.id) || named.to_lowercase() == caller.user.upn.to_lowercase();
        if is_self {
            return Ok(Target { user: caller.user.clone(), caller, version, method });
        }
        if !caller.is_admin() {
            return Err(GraphError::forbidden(
                "Either the signed-in user does not have sufficient privileges, or you need to consent to one of the permissions on this API. Managing another user's authentication methods needs the Authentication Administrator role.",
            ));
        }
        let user = match object_id {
            Some(id) => state.store.user_by_id(id).await?,
            None => state.store.user_by_upn(&named).await?,
        };
        let user = user.ok_or_else(|| {
            GraphError::new(
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                format!("Resource '{named}' does not exist or one of its queried reference-property objects are not present."),
            )
        })?;
        Ok(Target { caller, user, version, method })
    }
}
