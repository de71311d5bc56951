//! What a person does in the browser, for tests of the flow and the CLI against the demo
//! directory (feature `testing`): load the sign-in page, type the address and the pass,
//! and follow the directory's redirect back to the app's loopback listener.

use reqwest::{StatusCode, header::LOCATION, redirect::Policy};
use url::Url;

/// Types a Temporary Access Pass on the demo directory's sign-in page at `authorize_url`
/// (from [`crate::SignIn::authorize_url`]), then delivers the redirect to the waiting
/// [`crate::SignIn::finish`]: run the two together.
///
/// `http` loads the page; the form and the redirect go through a client of its own that
/// follows no redirects and reaches `localhost` at 127.0.0.1. `Ok` means the browser got
/// back to the app (whatever the outcome, which `finish` tells); `Err` is the page's
/// notice code (`tap_wrong`, `user_not_found`) when the page came back instead, or what
/// else went wrong.
pub async fn type_tap(http: &reqwest::Client, authorize_url: &Url, username: &str, pass: &str) -> Result<(), String> {
    let page = http.get(authorize_url.clone()).send().await.map_err(|error| format!("the sign-in page did not load: {error}"))?;
    let status = page.status();
    let is_html = page.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if status != StatusCode::OK || !is_html {
        return Err(format!("the sign-in page answered {status}"));
    }

    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .resolve("localhost", ([127, 0, 0, 1], 0).into())
        .build()
        .map_err(|error| format!("no browser: {error}"))?;
    let mut form: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
    form.push(("username".into(), username.into()));
    form.push(("pass".into(), pass.into()));
    let mut action = authorize_url.clone();
    action.set_query(None);
    let answer = browser.post(action).form(&form).send().await.map_err(|error| format!("the form was not sent: {error}"))?;

    match answer.status() {
        StatusCode::FOUND | StatusCode::SEE_OTHER => {
            let location = answer.headers().get(LOCATION).and_then(|v| v.to_str().ok()).ok_or("a redirect without a Location")?;
            let location = Url::parse(location).map_err(|_| "a redirect to something that is not a URL".to_owned())?;
            if location.scheme() != "http" || location.host_str() != Some("localhost") {
                return Err(format!("a redirect to {}, not to the app", location.origin().ascii_serialization()));
            }
            let back = browser.get(location).send().await.map_err(|error| format!("the app did not take the redirect: {error}"))?;
            back.text().await.map(drop).map_err(|error| format!("the app's page did not load: {error}"))
        }
        StatusCode::OK => {
            let html = answer.text().await.unwrap_or_default();
            Err(notice_code(&html).unwrap_or("the page came back without a notice").to_owned())
        }
        other => Err(format!("the sign-in form answered {other}")),
    }
}

/// The `data-error` code the demo sign-in page puts on `<body>` with its notice.
fn notice_code(html: &str) -> Option<&str> {
    let start = html.find("data-error=\"")? + "data-error=\"".len();
    let length = html[start..].find('"')?;
    Some(&html[start..start + length])
}

#[cfg(test)]
mod tests {
    use super::notice_code;

    #[test]
    fn the_pages_notice() {
        assert_eq!(notice_code(r#"<body data-error="tap_wrong"><main>"#), Some("tap_wrong"));
        assert_eq!(notice_code("<body><main>"), None);
    }
}
