//! What broker mode is configured with: which tenant, which app registrations, how the
//! broker proves itself to Graph, and the hosts of the cloud it runs in.

use reqwest::Url;
use time::Duration;

use super::{
    app_token::{GRAPH_DEFAULT_SCOPE, GraphCredential, PUBLIC_CLOUD_AUTHORITY},
    validate::{DEFAULT_LEEWAY, EntraTokenRules, Freshness},
};

/// Graph on the public cloud; national clouds have their own (`https://graph.microsoft.us`,
/// `https://microsoftgraph.chinacloudapi.cn`).
pub const PUBLIC_CLOUD_GRAPH: &str = "https://graph.microsoft.com";
/// The relying party of every passkey Entra registers (FACTS: `rp.id` in real options).
pub const ENTRA_RP_ID: &str = "login.microsoft.com";

#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// The tenant's GUID: `tid` in tokens, and the tenant in every Entra URL.
    pub tenant_id: String,
    /// The sign-in authority host, `https://login.microsoftonline.com` on the public cloud.
    pub authority: Url,
    /// The Graph host without a version, `https://graph.microsoft.com` on the public cloud.
    pub graph: Url,
    /// The resource the broker's Graph token is asked for, when it is not `graph`'s own
    /// origin: a Graph reached through a proxy (or a stand-in in tests) is still the
    /// resource `https://graph.microsoft.com`.
    pub graph_resource: Option<String>,
    /// The broker's own app registration (a GUID). It is both the API users' tokens are
    /// for (`aud`) and the client that asks Graph with the application permission.
    pub client_id: String,
    /// The API's application ID URI (`api://...`), also accepted as `aud` (v1 tokens carry
    /// the form that was asked for).
    pub app_id_uri: Option<String>,
    /// The delegated scope the desktop app asks for, as it appears in `scp`.
    pub scope: String,
    /// The desktop app registrations (GUIDs) whose tokens are accepted.
    pub accepted_client_ids: Vec<String>,
    /// How the broker signs in to Graph (client credentials).
    pub credential: GraphCredential,
    pub freshness: Freshness,
    pub leeway: Duration,
    /// The relying party id the options from Graph must carry; the test sign-in is run for
    /// it. Always `login.microsoft.com` today.
    pub rp_id: String,
}

impl BrokerConfig {
    /// The public cloud, default freshness and leeway.
    pub fn new(tenant_id: &str, client_id: &str, scope: &str, accepted_client_ids: Vec<String>, credential: GraphCredential) -> Self {
        Self {
            tenant_id: tenant_id.to_owned(),
            authority: Url::parse(PUBLIC_CLOUD_AUTHORITY).expect("a URL"),
            graph: Url::parse(PUBLIC_CLOUD_GRAPH).expect("a URL"),
            graph_resource: None,
            client_id: client_id.to_owned(),
            app_id_uri: None,
            scope: scope.to_owned(),
            accepted_client_ids,
            credential,
            freshness: Freshness::default(),
            leeway: DEFAULT_LEEWAY,
            rp_id: ENTRA_RP_ID.to_owned(),
        }
    }

    /// `{authority}/{tenant}{path}`.
    fn tenant_url(&self, path: &str) -> String {
        format!("{}/{}{path}", self.authority.as_str().trim_end_matches('/'), self.tenant_id)
    }

    /// The rules a user's access token must meet: issued by this tenant's v2 endpoint for
    /// this API, with its scope, to an accepted client.
    pub fn token_rules(&self) -> EntraTokenRules {
        let mut audiences = vec![self.client_id.clone()];
        audiences.extend(self.app_id_uri.clone());
        EntraTokenRules {
            issuer: self.tenant_url("/v2.0"),
            audiences,
            tenant_id: self.tenant_id.clone(),
            required_scope: self.scope.clone(),
            accepted_client_ids: self.accepted_client_ids.clone(),
            leeway: self.leeway,
            freshness: self.freshness.clone(),
        }
    }

    /// Where the tenant publishes its signing keys.
    pub fn jwks_url(&self) -> Result<Url, url::ParseError> {
        Url::parse(&self.tenant_url("/discovery/v2.0/keys"))
    }

    pub fn token_url(&self) -> Result<Url, url::ParseError> {
        Url::parse(&self.tenant_url("/oauth2/v2.0/token"))
    }

    /// `{resource}/.default`: every application permission granted to the broker, for
    /// Graph's resource (`graph`'s origin unless `graph_resource` says otherwise).
    pub fn graph_scope(&self) -> String {
        let resource = self.graph_resource.clone().unwrap_or_else(|| self.graph.origin().ascii_serialization());
        if resource.trim_end_matches('/') == PUBLIC_CLOUD_GRAPH {
            GRAPH_DEFAULT_SCOPE.to_owned()
        } else {
            format!("{}/.default", resource.trim_end_matches('/'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_rules_follow_the_tenant_and_hosts() {
        let mut config = BrokerConfig::new("t-id", "api-id", "Passkeys.Register", vec!["desk".into()], GraphCredential::Secret("s".to_owned().into()));
        assert_eq!(config.jwks_url().unwrap().as_str(), "https://login.microsoftonline.com/t-id/discovery/v2.0/keys");
        assert_eq!(config.token_url().unwrap().as_str(), "https://login.microsoftonline.com/t-id/oauth2/v2.0/token");
        assert_eq!(config.graph_scope(), "https://graph.microsoft.com/.default");
        config.app_id_uri = Some("api://tap2key-broker".into());
        let rules = config.token_rules();
        assert_eq!(rules.issuer, "https://login.microsoftonline.com/t-id/v2.0");
        assert_eq!(rules.audiences, ["api-id", "api://tap2key-broker"]);

        config.authority = Url::parse("https://login.microsoftonline.us/").unwrap();
        config.graph = Url::parse("https://graph.microsoft.us/").unwrap();
        assert_eq!(config.token_rules().issuer, "https://login.microsoftonline.us/t-id/v2.0");
        assert_eq!(config.graph_scope(), "https://graph.microsoft.us/.default");
        config.graph = Url::parse("http://127.0.0.1:9/graph/").unwrap();
        config.graph_resource = Some(PUBLIC_CLOUD_GRAPH.into());
        assert_eq!(config.graph_scope(), "https://graph.microsoft.com/.default");
    }
}
