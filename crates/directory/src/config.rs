//! Where the directory is: the sign-in authority, the tenant, this app's client id, the
//! scopes it asks for, the passkey API's base, and which kind of passkey API that is. Three
//! kinds of directory, one constructor each: tap2key's own service ([`DirectoryConfig::demo`]),
//! Entra ID through the onboarding broker ([`DirectoryConfig::entra_broker`]) and Entra ID
//! with Microsoft Graph called directly ([`DirectoryConfig::entra_direct`]).

use url::Url;

/// Entra ID's sign-in host in Microsoft's public cloud (national clouds have their own).
pub const PUBLIC_CLOUD_AUTHORITY: &str = "https://login.microsoftonline.com";
/// Microsoft Graph's v1.0 base in the public cloud.
pub const GRAPH_V1: &str = "https://graph.microsoft.com/v1.0";
/// The delegated Graph permission a person's own passkey calls need (least privilege).
pub const GRAPH_PASSKEY_SCOPE: &str = "https://graph.microsoft.com/UserAuthMethod-Passkey.ReadWrite";

/// Which passkey API sits at [`DirectoryConfig::graph`]. Both speak Graph's
/// `…/authentication/fido2Methods`; they differ in who checks the test sign-in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PasskeyApi {
    /// tap2key's onboarding service (the demo directory, or the broker in front of Entra):
    /// Graph's paths plus `…/{id}/testSignIn/begin|finish`, so the service verifies the
    /// test sign-in against the key it stored.
    #[default]
    OnboardingService,
    /// Microsoft Graph itself, called with the person's own token. Graph has no test
    /// sign-in, so the app verifies it against the public key the key attested at
    /// registration (see `local_test_sign_in`). Microsoft refuses `/me` registration today
    /// (405): this mode exists so that it works the day that changes.
    GraphDirect,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryConfig {
    /// Authority host, e.g. `https://login.microsoftonline.com` or the demo server's base URL `http://127.0.0.1:PORT`.
    pub authority: Url,
    pub tenant: String,
    pub client_id: String,
    /// Scopes requested at sign-in, e.g. ["openid", "profile", "api://tap2key-onboarding/Passkeys.Register"].
    pub scopes: Vec<String>,
    /// Passkey API base including the version, e.g. `https://graph.microsoft.com/v1.0`, `{broker}/v1.0` or `{demo}/v1.0`.
    pub graph: Url,
    /// What kind of API `graph` is: whether it has the test sign-in or the app checks it.
    pub api: PasskeyApi,
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
            api: PasskeyApi::OnboardingService,
        }
    }

    /// Entra ID through tap2key's onboarding broker: the person signs in at Entra
    /// (`{authority}/{tenant}`) for the broker's scope (tenant-specific, e.g.
    /// `api://tap2key-onboarding/Passkeys.Register`), and the passkey API is the broker's
    /// `{broker}/v1.0`, which has the test sign-in.
    pub fn entra_broker(authority: Url, tenant: impl Into<String>, client_id: impl Into<String>, broker: Url, broker_scope: impl Into<String>) -> Self {
        Self {
            authority,
            tenant: tenant.into(),
            client_id: client_id.into(),
            scopes: vec!["openid".into(), "profile".into(), broker_scope.into()],
            graph: with_version(&broker),
            api: PasskeyApi::OnboardingService,
        }
    }

    /// Entra ID with Microsoft Graph called directly (`graph`, usually [`GRAPH_V1`]) with a
    /// delegated token for [`GRAPH_PASSKEY_SCOPE`]; the test sign-in is checked in the app.
    pub fn entra_direct(authority: Url, tenant: impl Into<String>, client_id: impl Into<String>, graph: Url) -> Self {
        Self {
            authority,
            tenant: tenant.into(),
            client_id: client_id.into(),
            scopes: vec!["openid".into(), "profile".into(), GRAPH_PASSKEY_SCOPE.into()],
            graph,
            api: PasskeyApi::GraphDirect,
        }
    }

    /// [`PUBLIC_CLOUD_AUTHORITY`] as a URL.
    pub fn public_cloud_authority() -> Url {
        Url::parse(PUBLIC_CLOUD_AUTHORITY).expect("a constant URL")
    }

    /// [`GRAPH_V1`] as a URL.
    pub fn graph_v1() -> Url {
        Url::parse(GRAPH_V1).expect("a constant URL")
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

/// `{base}/v1.0`, with or without a trailing slash on `base` (the broker's API lives there,
/// on the demo directory's paths).
fn with_version(base: &Url) -> Url {
    let mut url = base.clone();
    let path = format!("{}/v1.0", base.path().trim_end_matches('/'));
    url.set_path(&path);
    url
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
    fn entra_through_the_broker() {
        let broker = Url::parse("https://onboarding.contoso.com/").unwrap();
        let config = DirectoryConfig::entra_broker(DirectoryConfig::public_cloud_authority(), "contoso.onmicrosoft.com", "1234", broker, "api://tap2key-broker/Passkeys.Register");
        assert_eq!(config.api, PasskeyApi::OnboardingService);
        assert_eq!(config.graph.as_str(), "https://onboarding.contoso.com/v1.0");
        assert_eq!(config.scopes, ["openid", "profile", "api://tap2key-broker/Passkeys.Register"]);
        assert_eq!(config.tenant_url("/oauth2/v2.0/authorize").unwrap().as_str(), "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize");
        let under_a_path = Url::parse("https://contoso.com/onboarding").unwrap();
        let config = DirectoryConfig::entra_broker(DirectoryConfig::public_cloud_authority(), "t", "c", under_a_path, "s");
        assert_eq!(config.graph_url("/me"), "https://contoso.com/onboarding/v1.0/me");
    }

    #[test]
    fn entra_with_graph_directly() {
        let config = DirectoryConfig::entra_direct(DirectoryConfig::public_cloud_authority(), "contoso.onmicrosoft.com", "1234", DirectoryConfig::graph_v1());
        assert_eq!(config.api, PasskeyApi::GraphDirect);
        assert_eq!(config.scopes, ["openid", "profile", "https://graph.microsoft.com/UserAuthMethod-Passkey.ReadWrite"]);
        assert_eq!(config.graph_url("/me/authentication/fido2Methods"), "https://graph.microsoft.com/v1.0/me/authentication/fido2Methods");
        assert_eq!(DirectoryConfig::demo("http://127.0.0.1:1").api, PasskeyApi::OnboardingService);
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("ada@contoso.com"), "ada%40contoso.com");
        assert_eq!(encode_segment("ada_contoso.com#EXT#@fabrikam.com"), "ada_contoso.com%23EXT%23%40fabrikam.com");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }
}
