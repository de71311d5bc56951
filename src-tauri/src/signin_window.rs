//! The directory's sign-in page, in a window of its own. Each opening gets a fresh,
//! non-persistent data store (no cookie or storage survives it: the next person on a kiosk
//! starts clean), and it may only go to the directory's own site and to the loopback
//! address the sign-in comes back to.

use tap2key_flow::Step;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use url::Url;

const LABEL: &str = "signin";

/// Opens the window when the flow shows the sign-in page and closes it when it moves on.
pub fn follow<R: Runtime>(app: &AppHandle<R>, step: &Step) {
    match step {
        Step::SigningIn { url: Some(url), .. } => open(app, url),
        _ => close(app),
    }
}

fn open<R: Runtime>(app: &AppHandle<R>, url: &str) {
    if app.get_webview_window(LABEL).is_some() {
        return;
    }
    let Ok(url) = Url::parse(url) else { return tracing::warn!("the sign-in address is not a URL") };
    let allowed = Allowed::for_sign_in(&url);
    let built = WebviewWindowBuilder::new(app, LABEL, WebviewUrl::External(url))
        .title("Sign in – tap2key")
        .inner_size(520.0, 720.0)
        .center()
        .focused(true)
        // Above the wizard, which on a kiosk is itself full screen and always on top.
        .always_on_top(true)
        .incognito(true)
        .on_navigation(move |to| {
            let ok = allowed.permits(to);
            if !ok {
                tracing::warn!(host = to.host_str().unwrap_or_default(), "the sign-in window was kept from leaving the directory");
            }
            ok
        })
        .build();
    if let Err(error) = built {
        tracing::error!(%error, "the sign-in window could not open");
    }
}

pub fn close<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(LABEL) {
        let _ = window.destroy();
    }
}

/// Where the sign-in window may go: the directory's origin and the redirect's.
struct Allowed {
    directory: (String, Option<String>, Option<u16>),
    redirect: Option<(String, Option<String>, Option<u16>)>,
}

impl Allowed {
    fn for_sign_in(authorize: &Url) -> Self {
        let redirect = authorize.query_pairs().find(|(k, _)| k == "redirect_uri").and_then(|(_, v)| Url::parse(&v).ok());
        Self { directory: origin(authorize), redirect: redirect.as_ref().map(origin) }
    }

    fn permits(&self, to: &Url) -> bool {
        let to = origin(to);
        to == self.directory || Some(&to) == self.redirect.as_ref()
    }
}

fn origin(url: &Url) -> (String, Option<String>, Option<u16>) {
    (url.scheme().to_owned(), url.host_str().map(str::to_owned), url.port_or_known_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_directory_and_the_redirect_are_allowed() {
        let authorize = Url::parse("http://127.0.0.1:4100/demo/oauth2/v2.0/authorize?redirect_uri=http%3A%2F%2Flocalhost%3A53117%2F&state=x").unwrap();
        let allowed = Allowed::for_sign_in(&authorize);
        for ok in ["http://127.0.0.1:4100/demo/oauth2/v2.0/authorize", "http://localhost:53117/?code=c&state=x"] {
            assert!(allowed.permits(&Url::parse(ok).unwrap()), "{ok}");
        }
        for bad in ["https://evil.example/", "http://localhost:53118/", "http://127.0.0.1:4101/", "https://127.0.0.1:4100/"] {
            assert!(!allowed.permits(&Url::parse(bad).unwrap()), "{bad}");
        }
    }
}
