//! The sign-in page where the person types their Temporary Access Pass. It runs in the
//! desktop app's own sign-in window, so it is plain, large and keyboard-friendly, and it
//! carries no script at all.

use axum::{
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use super::authorize::AuthorizeRequest;

/// What to tell the person above the form.
pub struct Notice<'a> {
    /// A machine-readable code, also in `data-error` for the app's tests.
    pub code: &'a str,
    pub message: String,
}

pub fn render(request: &AuthorizeRequest, username: &str, notice: Option<Notice<'_>>, status: StatusCode) -> Response {
    let hidden: String = request
        .pairs()
        .into_iter()
        .map(|(name, value)| format!(r#"<input type="hidden" name="{name}" value="{}">"#, escape(&value)))
        .collect();
    let (error_attr, alert) = match &notice {
        Some(notice) => (
            format!(r#" data-error="{}""#, escape(notice.code)),
            format!(r#"<p class="alert" role="alert" id="problem">{}</p>"#, escape(&notice.message)),
        ),
        None => (String::new(), String::new()),
    };
    let described = if notice.is_some() { r#" aria-describedby="problem" aria-invalid="true""# } else { "" };
    let body = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in</title><link rel="stylesheet" href="signin.css"></head>
<body{error_attr}><main>
<h1>Sign in</h1>
<p class="lead">Type the Temporary Access Pass that IT gave you.</p>
{alert}
<form method="post" action="authorize" autocomplete="off">
{hidden}
<label for="username">Work email address</label>
<input id="username" name="username" type="email" value="{username}" required autocapitalize="none" spellcheck="false">
<label for="pass">Temporary Access Pass</label>
<input id="pass" name="pass" type="password" required autofocus autocomplete="one-time-code" spellcheck="false"{described}>
<button type="submit">Sign in</button>
</form>
<p class="fine">Keep this pass to yourself: nobody, not even IT, will ask you to read it out.</p>
</main></body></html>"#,
        username = escape(username),
    );
    let headers = [
        (header::CACHE_CONTROL, "no-store"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'self'; form-action 'self' http://localhost:*; frame-ancestors 'none'; base-uri 'none'"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    (status, headers, Html(body)).into_response()
}

pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css"), (header::CACHE_CONTROL, "max-age=3600")], STYLESHEET)
}

const STYLESHEET: &str = r#"
:root { font-family: "Segoe UI", "Cantarell", "DejaVu Sans", system-ui, sans-serif; color: #14213d; background: #f6f8fc; }
body { margin: 0; font-size: clamp(18px, 1.2vw + 0.8vh, 24px); line-height: 1.45; }
main { max-width: 30em; margin: 6vh auto; padding: 0 1em; }
h1 { font-size: 2em; margin: 0 0 0.3em; }
.lead { margin: 0 0 1em; }
form { display: grid; gap: 0.35em; }
label { font-weight: 700; margin-top: 0.6em; }
input { font: inherit; min-height: 2.6em; padding: 0 0.7em; border: 2px solid #46536b; border-radius: 12px; background: #fff; color: inherit; }
input[aria-invalid="true"] { border-color: #b3261e; border-width: 3px; }
button { font: inherit; font-weight: 700; min-height: 2.8em; margin-top: 1em; border-radius: 12px; border: 0; background: #1547b8; color: #fff; cursor: pointer; }
:focus-visible { outline: 4px solid #f5b000; outline-offset: 3px; }
.alert { color: #b3261e; font-weight: 600; border-left: 6px solid #b3261e; padding: 0.4em 0.8em; background: #fdecea; border-radius: 6px; }
.fine { color: #46536b; font-size: 0.85em; margin-top: 1.5em; }
"#;

/// HTML-escapes text for element content and double-quoted attributes.
pub fn escape(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_everything_that_could_break_out_of_markup() {
        assert_eq!(escape(r#"<script>"a"&'b'</script>"#), "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;");
    }
}
