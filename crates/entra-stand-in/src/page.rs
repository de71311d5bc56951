//! The sign-in page: a plain HTML form that `tap2key_directory::testing::type_tap` drives
//! (it posts the authorize parameters back with `username` and `pass`). A problem with the
//! pass is shown on the page, with its code in `<body data-error="…">`: Entra shows TAP
//! errors on its own page and does not redirect them to the app.

use axum::{
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

pub(crate) struct Notice {
    pub code: &'static str,
    pub message: &'static str,
}

pub(crate) fn sign_in(
    params: &[(String, String)],
    username: &str,
    notice: Option<Notice>,
) -> Response {
    let hidden: String = params
        .iter()
        .filter(|(name, _)| name != "username" && name != "pass")
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(name),
                escape(value)
            )
        })
        .collect();
    let (attr, alert) = match &notice {
        Some(notice) => (
            format!(r#" data-error="{}""#, notice.code),
            format!(
                r#"<div id="usernameError" role="alert">{}</div>"#,
                escape(notice.message)
            ),
        ),
        None => (String::new(), String::new()),
    };
    let body = format!(
        r#"<!DOCTYPE html>
<html dir="ltr" lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body{attr}>
<form method="post" action="authorize" autocomplete="off">
<div role="heading">Sign in</div>
{alert}
{hidden}
<input type="email" name="username" value="{username}" placeholder="Email, phone, or Skype">
<label for="pass">Enter Temporary Access Pass</label>
<input type="password" id="pass" name="pass" autocomplete="off">
<input type="submit" value="Sign in">
</form>
</body></html>"#,
        username = escape(username),
    );
    (
        StatusCode::OK,
        [
            (header::CACHE_CONTROL, "no-store, no-cache"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        Html(body),
    )
        .into_response()
}

/// What Entra shows instead of redirecting when the client or the redirect URI is wrong:
/// nothing may go to an unverified redirect URI (RFC 6749 §4.1.2.1).
pub(crate) fn error(code: u32, message: &str) -> Response {
    let body = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head><body data-error="AADSTS{code}"><div id="errorPage"><p>Sorry, but we're having trouble signing you in.</p><p>AADSTS{code}: {}</p></div></body></html>"#,
        escape(message)
    );
    (
        StatusCode::BAD_REQUEST,
        [(header::CACHE_CONTROL, "no-store, no-cache")],
        Html(body),
    )
        .into_response()
}

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
