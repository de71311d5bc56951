//! Where the directory is: the sign-in authority, the tenant, this app's client id, the
//! scopes it asks for, and the Graph base. One value for Entra, one for the demo directory.

use url::Url;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryConfig {
    /// Authority host, e.g. `https://login.microsoftonline.com` or the demo server's base URL `http://127.0.0.1:PORT`.
    pub authority: Url,
    pub tenant: String,
    pub client_id: String,
    /// Scopes requested at sign-in, e.g. ["openid", "profile", "api://tap2key-onboarding/Passkeys.Register"].
    pub scopes: Vec<String>,
    /// Graph base including the version, e.g. `https://graph.microsoft.com/v1.0` or `{demo}/v1.0`.
    pub graph: Url,
}

impl DirectoryConfig {
    /// The demo directory (crates/server `ServerConfig::demo`) at `base_url`: tenant "demo",
    /// client "tap2key-desktop", scopes openid profile api://tap2key-onboarding/Passkeys.Register,
    /// graph {base}/v1.0.
    ///
    /// # Panics
    /// If `base_url` is not an absolute URL (the demo server's `base_url()` always is).
    pub fn demo(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/');
        let parse = |text: &str| Url::parse(text).unwrap_or_else(|error| panic!("the demo directory's base URL {base_url:?} is not a URL: {error}"));
        Self {
            authority: parse(base),
            tenant: "demo".into(),
            client_id: "tap2key-desktop".into(),
            scopes: ["openid", "profile", "api://tap2key-onboarding/Passkeys.Register"].map(str::to_owned).to_vec(),
            graph: parse(&format!("{base}/v1.0")),
        }
    }

    /// `{authority}/{tenant}{path}`: Entra's endpoints all hang off the tenant.
    pub(crate) fn tenant_url(&self, path: &str) -> Result<Url, crate::DirectoryError> {
        let text = format!("{}/{}{path}", self.authority.as_str().trim_end_matches('/'), encode_segment(&self.tenant));
        Url::parse(&text).map_err(|_| crate::DirectoryError::Protocol("the directory's authority does not make a URL".into()))
    }

    /// `{graph}{path}`, the Graph base with or without a trailing slash.
    pub(crate) fn graph_url(&self, path: &str) -> String {
        format!("{}{path}", self.graph.as_str().trim_end_matches('/'))
    }
}

/// Percent-encodes one path segment: everything but RFC 3986's unreserved characters, so
/// a UPN's `@` and a guest's `#` arrive as written.
pub(crate) fn encode_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_directory() {
        let config = DirectoryConfig::demo("http://127.0.0.1:8400/");
        assert_eq!(config.authority.as_str(), "http://127.0.0.1:8400/");
        assert_eq!(config.graph.as_str(), "http://127.0.0.1:8400/v1.0");
        assert_eq!((config.tenant.as_str(), config.client_id.as_str()), ("demo", "tap2key-desktop"));
        assert_eq!(config.scopes, ["openid", "profile", "api://tap2key-onboarding/Passkeys.Register"]);
        assert_eq!(config.tenant_url("/oauth2/v2.0/token").unwrap().as_str(), "http://127.0.0.1:8400/demo/oauth2/v2.0/token");
        assert_eq!(config.graph_url("/me"), "http://127.0.0.1:8400/v1.0/me");
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("ada@contoso.com"), "ada%40contoso.com");
        assert_eq!(encode_segment("ada_contoso.com#EXT#@fabrikam.com"), "ada_contoso.com%23EXT%23%40fabrikam.com");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }
}
