//! The broker's client for Graph's passkey API (`/users/{oid}/authentication/fido2Methods`),
//! called with the broker's own app-only token for the user a validated Entra token named.
//!
//! Graph throttles (`429`) and has bad minutes (`502`/`503`/`504`): those are retried, after
//! the `Retry-After` Graph asks for or an exponential backoff, within a [`RetryPolicy`] so a
//! person at a kiosk waits seconds, not minutes. A `401` means the broker's cached token was
//! revoked or its permissions changed: the token is fetched again once. Everything else is an
//! [`UpstreamError`], which the routes turn into the answer the desktop app gets
//! ([`UpstreamError::to_graph_error`]).
//!
//! Logs carry the status, Graph's `request-id`, our `client-request-id` (what Microsoft
//! support asks for) and any wait; never a token, a body or a challenge.

mod error;
mod retry;

use std::{fmt, sync::Arc, time::Duration};

use reqwest::{
    Method, StatusCode, Url,
    header::{ACCEPT, CONTENT_TYPE, HeaderMap},
};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

pub use error::UpstreamError;
pub use retry::RetryPolicy;

use super::app_token::{AppTokenError, AppTokenSource};

/// One request, all of it (connecting, sending, the answer), before it counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Graph's passkey answers are a few kilobytes (creationOptions with a long challenge and
/// many excluded credentials: tens); anything beyond this is not one.
pub const MAX_RESPONSE: usize = 1024 * 1024;
/// `list` follows `@odata.nextLink` at most this many pages: a user has a handful of
/// passkeys, and a server that links forever must not keep the broker busy.
pub const MAX_PAGES: usize = 20;

/// The header Graph echoes and Microsoft support asks for, one fresh UUID per request.
const CLIENT_REQUEST_ID: &str = "client-request-id";
/// Graph's own id of the request, for the log.
const REQUEST_ID: &str = "request-id";

/// Graph's passkey API for any user of the tenant, with the broker's application
/// permission. Cheap to clone (the token cache and HTTP client are shared).
#[derive(Clone)]
pub struct GraphClient {
    shared: Arc<Shared>,
    retry: RetryPolicy,
}

struct Shared {
    graph: Url,
    tokens: AppTokenSource,
    http: reqwest::Client,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient").field("graph", &self.shared.graph.as_str()).field("tokens", &self.shared.tokens).field("retry", &self.retry).finish()
    }
}

/// Which call, for the log (the path would name the user).
#[derive(Clone, Copy)]
enum Call {
    CreationOptions,
    Register,
    List,
    Delete,
}

impl Call {
    fn name(self) -> &'static str {
        match self {
            Self::CreationOptions => "creationOptions",
            Self::Register => "register",
            Self::List => "list",
            Self::Delete => "delete",
        }
    }
}

impl GraphClient {
    /// `graph` is the Graph host without a version (`https://graph.microsoft.com`); a path
    /// prefix is kept (`http://127.0.0.1:PORT/graph/` in tests). Requests go through `http`
    /// (its proxy and TLS settings), each bounded by [`REQUEST_TIMEOUT`].
    pub fn new(graph: Url, tokens: AppTokenSource, http: reqwest::Client) -> Self {
        Self { shared: Arc::new(Shared { graph, tokens, http }), retry: RetryPolicy::default() }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The broker's Graph tokens (for a start-up check, or to share with other calls).
    pub fn tokens(&self) -> &AppTokenSource {
        &self.shared.tokens
    }

    pub fn graph(&self) -> &Url {
        &self.shared.graph
    }

    /// `GET .../fido2Methods/creationOptions`: the options as Graph sent them, every field
    /// kept (the caller passes them on; Graph adds fields over time).
    pub async fn creation_options(&self, user: Uuid) -> Result<Value, UpstreamError> {
        let url = self.methods_url(user, &["creationOptions"])?;
        let body = self.call(Call::CreationOptions, Method::GET, url, None).await?;
        json(&body)
    }

    /// `POST .../fido2Methods` with `body` as it is (already in Graph's exact shape): the
    /// new method (Graph answers `201`).
    pub async fn register(&self, user: Uuid, body: &Value) -> Result<Value, UpstreamError> {
        let url = self.methods_url(user, &[])?;
        let body = serde_json::to_vec(body).map_err(|_| UpstreamError::Protocol("the registration could not be encoded as JSON".into()))?;
        let answer = self.call(Call::Register, Method::POST, url, Some(body)).await?;
        json(&answer)
    }

    /// `GET .../fido2Methods`, every page: follows `@odata.nextLink` on the Graph host only
    /// (the link carries the broker's token with it), at most [`MAX_PAGES`].
    pub async fn list(&self, user: Uuid) -> Result<Vec<Value>, UpstreamError> {
        let mut url = self.methods_url(user, &[])?;
        let mut methods = Vec::new();
        for _ in 0..MAX_PAGES {
            let mut page = json(&self.call(Call::List, Method::GET, url, None).await?)?;
            let Some(Value::Array(value)) = page.get_mut("value").map(Value::take) else {
                return Err(UpstreamError::Protocol("Graph's list has no `value` array".into()));
            };
            methods.extend(value);
            match page.get("@odata.nextLink") {
                None | Some(Value::Null) => return Ok(methods),
                Some(Value::String(next)) => url = self.next_link(next)?,
                Some(_) => return Err(UpstreamError::Protocol("Graph's @odata.nextLink is not a string".into())),
            }
        }
        Err(UpstreamError::Protocol(format!("Graph's list goes on for more than {MAX_PAGES} pages")))
    }

    /// `DELETE .../fido2Methods/{id}`, the id percent-encoded as one path segment. A
    /// method that is not there (`404`, or an id that cannot be one) is
    /// [`UpstreamError::NotFound`].
    pub async fn delete(&self, user: Uuid, method_id: &str) -> Result<(), UpstreamError> {
        // `.` and `..` would be dropped or climb out of the collection rather than be
        // encoded: no method has such an id.
        if matches!(method_id, "" | "." | "..") {
            return Err(UpstreamError::NotFound);
        }
        let url = self.methods_url(user, &[method_id])?;
        self.call(Call::Delete, Method::DELETE, url, None).await.map(drop)
    }

    /// `{graph}/v1.0/users/{oid}/authentication/fido2Methods/{rest...}`.
    fn methods_url(&self, user: Uuid, rest: &[&str]) -> Result<Url, UpstreamError> {
        let mut url = self.shared.graph.clone();
        url.set_query(None);
        url.set_fragment(None);
        let user = user.hyphenated().to_string();
        url.path_segments_mut()
            .map_err(|_| UpstreamError::Protocol("the Graph URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(["v1.0", "users", &user, "authentication", "fido2Methods"])
            .extend(rest);
        Ok(url)
    }

    /// A next page's link, if it stays on the Graph host (same scheme, host and port, under
    /// the configured path).
    fn next_link(&self, link: &str) -> Result<Url, UpstreamError> {
        let graph = &self.shared.graph;
        let url = Url::parse(link).map_err(|_| UpstreamError::Protocol("Graph's @odata.nextLink is not a URL".into()))?;
        let prefix = graph.path().trim_end_matches('/');
        let under_prefix = url.path().strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'));
        if url.origin() != graph.origin() || !under_prefix {
            tracing::warn!(host = url.host_str().unwrap_or_default(), "Graph's @odata.nextLink leaves the Graph host; not followed");
            return Err(UpstreamError::Protocol("Graph's @odata.nextLink points away from the Graph host".into()));
        }
        Ok(url)
    }

    /// One call with its retries: the answer's body on a 2xx.
    async fn call(&self, call: Call, method: Method, url: Url, body: Option<Vec<u8>>) -> Result<Zeroizing<Vec<u8>>, UpstreamError> {
        let what = call.name();
        let mut refreshed = false;
        let mut retries = 0;
        let mut waited = Duration::ZERO;
        loop {
            let token = self.shared.tokens.token().await.map_err(token_error)?;
            let client_request_id = Uuid::new_v4();
            let mut request = self
                .shared
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.bearer())
                .header(ACCEPT, "application/json")
                .header(CLIENT_REQUEST_ID, client_request_id.to_string())
                .timeout(REQUEST_TIMEOUT);
            if let Some(body) = &body {
                request = request.header(CONTENT_TYPE, "application/json").body(body.clone());
            }
            drop(token);

            let answer = match request.send().await {
                Ok(response) => read(response).await,
                Err(error) => Err(Failure::Transport(error)),
            };
            let (status, headers, bytes) = match answer {
                Ok(answer) => answer,
                Err(Failure::Transport(error)) => {
                    // Only a connection that never opened is safe to try again: a request
                    // that timed out may have been carried out.
                    let wait = if error.is_connect() { self.retry.next_wait(retries, waited, None) } else { None };
                    tracing::warn!(what, %client_request_id, error = %error.without_url(), wait_ms = wait.map(|w| w.as_millis() as u64), "Microsoft Graph could not be reached");
                    match wait {
                        Some(wait) => {
                            tokio::time::sleep(wait).await;
                            (retries, waited) = (retries + 1, waited + wait);
                            continue;
                        }
                        None => return Err(UpstreamError::Unavailable { retry_after: None }),
                    }
                }
                Err(Failure::TooLarge) => {
                    tracing::warn!(what, %client_request_id, "Microsoft Graph's answer is too large");
                    return Err(UpstreamError::Protocol(format!("Graph's answer is larger than {} KiB", MAX_RESPONSE / 1024)));
                }
            };
            let request_id = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            let status_code = status.as_u16();

            if status.is_success() {
                tracing::debug!(what, status = status_code, %request_id, %client_request_id, "Microsoft Graph answered");
                return Ok(bytes);
            }
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                tracing::warn!(what, status = status_code, %request_id, %client_request_id, "Microsoft Graph refused the broker's token; fetching a new one");
                self.shared.tokens.invalidate();
                refreshed = true;
                continue;
            }
            if retry::is_transient(status) {
                let retry_after = retry::retry_after(&headers, OffsetDateTime::now_utc());
                let wait = self.retry.next_wait(retries, waited, retry_after);
                tracing::warn!(
                    what,
                    status = status_code,
                    %request_id,
                    %client_request_id,
                    retry_after_s = retry_after.map(|d| d.as_secs()),
                    wait_ms = wait.map(|w| w.as_millis() as u64),
                    "Microsoft Graph is busy or unavailable"
                );
                match wait {
                    Some(wait) => {
                        tokio::time::sleep(wait).await;
                        (retries, waited) = (retries + 1, waited + wait);
                        continue;
                    }
                    None => return Err(UpstreamError::Unavailable { retry_after }),
                }
            }
            let error = UpstreamError::from_answer(status, &bytes);
            tracing::warn!(what, status = status_code, code = error.code(), %request_id, %client_request_id, "Microsoft Graph refused");
            return Err(error);
        }
    }
}

/// The broker's own sign-in failed. An unreachable token endpoint is a passing outage like
/// Graph's; everything else (Entra refused the credential, a wrong authority) needs IT.
fn token_error(error: AppTokenError) -> UpstreamError {
    match error {
        AppTokenError::Unreachable { .. } => UpstreamError::Unavailable { retry_after: None },
        other => UpstreamError::AppCredentialsRefused(other),
    }
}

enum Failure {
    Transport(reqwest::Error),
    TooLarge,
}

impl From<reqwest::Error> for Failure {
    fn from(error: reqwest::Error) -> Self {
        Self::Transport(error)
    }
}

/// The status, headers and body (at most [`MAX_RESPONSE`]). The body may hold a challenge
/// or credential ids: it is wiped when dropped.
async fn read(mut response: reqwest::Response) -> Result<(StatusCode, HeaderMap, Zeroizing<Vec<u8>>), Failure> {
    if response.content_length().is_some_and(|length| length > MAX_RESPONSE as u64) {
        return Err(Failure::TooLarge);
    }
    let (status, headers) = (response.status(), response.headers().clone());
    let mut body = Zeroizing::new(Vec::new());
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Err(Failure::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, headers, body))
}

fn json(body: &[u8]) -> Result<Value, UpstreamError> {
    serde_json::from_slice(body).map_err(|_| UpstreamError::Protocol("Graph's answer is not JSON".into()))
}

#[cfg(test)]
mod tests;
