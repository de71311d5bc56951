//! How every request of this crate goes out: through the caller's reqwest client, with a
//! time limit, one debug line (method, path, status: never a query, a header or a body),
//! and the same meaning for "nothing answered" and "busy" everywhere. Also the adapter
//! that lets oauth2 send its token request through that same client.

use std::time::Duration;

use reqwest::{StatusCode, header::HeaderMap};
use url::Url;

use crate::DirectoryError;

/// Longest wait for one answer: a person is looking at a spinner.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

/// A request that failed before a whole answer arrived is `Unreachable`; an answer that
/// could not be decoded is a protocol problem. (reqwest's own Display names the URL,
/// which may carry a code: it is never shown.)
pub(crate) fn transport_error(error: &reqwest::Error) -> DirectoryError {
    if error.is_decode() { DirectoryError::Protocol("the answer could not be decoded".into()) } else { DirectoryError::Unreachable }
}

/// A whole answer: status, headers and body.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Sends `request` and reads the whole answer within [`TIMEOUT`] (or the client's own
/// limit, if shorter), with one log line.
pub(crate) async fn exchange(client: &reqwest::Client, request: reqwest::Request) -> Result<Answer, DirectoryError> {
    let (method, url) = (request.method().clone(), request.url().clone());
    let work = async {
        let response = client.execute(request).await?;
        let (status, headers) = (response.status(), response.headers().clone());
        log(&method, &url, status);
        Ok::<_, reqwest::Error>(Answer { status, headers, body: response.bytes().await?.to_vec() })
    };
    match tokio::time::timeout(TIMEOUT, work).await {
        Ok(answer) => answer.map_err(|error| transport_error(&error)),
        Err(_) => {
            tracing::debug!(%method, path = %loggable_path(url.path()), "the directory did not answer in time");
            Err(DirectoryError::Unreachable)
        }
    }
}

/// 429 and 5xx: the directory is there but cannot serve now.
pub(crate) fn unavailable(status: StatusCode, headers: &HeaderMap) -> Option<DirectoryError> {
    (status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()).then(|| DirectoryError::Unavailable { retry_after_seconds: retry_after(headers) })
}

/// `Retry-After` in seconds (Graph and Entra send seconds; an HTTP-date gives no hint).
fn retry_after(headers: &HeaderMap) -> Option<u64> {
    headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
}

/// A path fit for a log line: no query, and the user named in `/users/{id-or-upn}` left out
/// (an address is personal data).
pub(crate) fn loggable_path(path: &str) -> String {
    let mut hide_next = false;
    path.split('/')
        .map(|segment| {
            let shown = if hide_next { "…" } else { segment };
            hide_next = segment == "users";
            shown
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn log(method: &reqwest::Method, url: &Url, status: StatusCode) {
    tracing::debug!(%method, path = %loggable_path(url.path()), status = status.as_u16(), "directory answered");
}

/// oauth2's HTTP client: its request sent through our reqwest client. 429 and 5xx come
/// back as `Err(Unavailable)`, so oauth2 never has to guess what a busy server meant.
pub(crate) async fn send_oauth(client: reqwest::Client, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, DirectoryError> {
    let request = reqwest::Request::try_from(request).map_err(|_| DirectoryError::Protocol("the token request could not be built".into()))?;
    let answer = exchange(&client, request).await?;
    if let Some(error) = unavailable(answer.status, &answer.headers) {
        return Err(error);
    }
    let mut response = http::Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        response = response.header(name, value);
    }
    response.body(answer.body).map_err(|_| DirectoryError::Protocol("the token endpoint's answer could not be read".into()))
}

/// A GET of a public JSON document (discovery, keys). Anything but 2xx JSON is a refusal
/// or a protocol problem, as the status says.
pub(crate) async fn get_json(client: &reqwest::Client, url: Url, what: &str) -> Result<serde_json::Value, DirectoryError> {
    let request = client.get(url).build().map_err(|_| DirectoryError::Protocol(format!("the {what} address is not usable")))?;
    let Answer { status, headers, body } = exchange(client, request).await?;
    if let Some(error) = unavailable(status, &headers) {
        return Err(error);
    }
    if !status.is_success() {
        // Entra answers an unknown tenant with an OAuth error body.
        let error: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let text = |name: &str| error[name].as_str().unwrap_or_default().to_owned();
        let message = match text("error_description") {
            message if message.is_empty() => format!("the {what} is not available"),
            message => message,
        };
        return Err(DirectoryError::Refused { status: status.as_u16(), code: text("error"), message });
    }
    serde_json::from_slice(&body).map_err(|_| DirectoryError::Protocol(format!("the {what} is not JSON")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_paths_leave_out_the_user() {
        assert_eq!(loggable_path("/v1.0/me/authentication/fido2Methods"), "/v1.0/me/authentication/fido2Methods");
        assert_eq!(loggable_path("/v1.0/users/ada%40contoso.com/authentication/fido2Methods/creationOptions"), "/v1.0/users/…/authentication/fido2Methods/creationOptions");
    }

    #[test]
    fn busy_answers_carry_their_retry_hint() {
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "17".parse().unwrap());
        assert_eq!(unavailable(StatusCode::TOO_MANY_REQUESTS, &headers), Some(DirectoryError::Unavailable { retry_after_seconds: Some(17) }));
        assert_eq!(unavailable(StatusCode::BAD_GATEWAY, &HeaderMap::new()), Some(DirectoryError::Unavailable { retry_after_seconds: None }));
        headers.insert(reqwest::header::RETRY_AFTER, "Wed, 21 Oct 2026 07:28:00 GMT".parse().unwrap());
        assert_eq!(unavailable(StatusCode::SERVICE_UNAVAILABLE, &headers), Some(DirectoryError::Unavailable { retry_after_seconds: None }));
        assert_eq!(unavailable(StatusCode::BAD_REQUEST, &headers), None);
    }
}
