//! The `scope` parameter as Entra's v2.0 endpoint reads it ("Scopes and permissions in the
//! Microsoft identity platform"): the OpenID Connect scopes (`openid profile email
//! offline_access`) plus the scopes of ONE resource, each written `{resource}/{name}`
//! where the resource is an Application ID URI (`api://tap2key-broker`) or an app id GUID.
//! Graph's scopes may also be written bare (`User.Read`). No resource scope at all means
//! Graph (`User.Read`).

use crate::{entra_error::EntraError, state::Shared, tokens::GRAPH_APP_ID};

const OIDC: [&str; 4] = ["openid", "profile", "email", "offline_access"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resource {
    Broker,
    Graph,
}

#[derive(Clone, Debug)]
pub(crate) struct Scopes {
    pub resource: Resource,
    /// The resource's scope names, without the resource (`scp`).
    pub names: Vec<String>,
    /// The resource's scopes as asked (the `scope` of the token response).
    pub asked: Vec<String>,
    pub oidc: Vec<String>,
}

impl Scopes {
    pub fn offline(&self) -> bool {
        self.oidc.iter().any(|s| s == "offline_access")
    }

    /// The token response's `scope`: the resource's scopes, then the OIDC ones asked.
    pub fn response_scope(&self) -> String {
        self.asked
            .iter()
            .chain(self.oidc.iter().filter(|s| *s != "offline_access"))
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub(crate) fn parse(shared: &Shared, scope: &str) -> Result<Scopes, EntraError> {
    let config = &shared.config;
    let broker_prefixes = [
        config.broker_app_id_uri.clone(),
        config.broker_client_id.to_string(),
        format!("api://{}", config.broker_client_id),
    ];
    let graph_prefixes = ["https://graph.microsoft.com", GRAPH_APP_ID];
    let mut found: Vec<(Resource, String, String)> = Vec::new();
    let mut oidc = Vec::new();
    for item in scope.split_whitespace() {
        if OIDC.contains(&item) {
            oidc.push(item.to_owned());
            continue;
        }
        let (resource, name) = match item.rsplit_once('/') {
            Some((prefix, name))
                if broker_prefixes
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(prefix)) =>
            {
                (Resource::Broker, name)
            }
            Some((prefix, name))
                if graph_prefixes
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(prefix)) =>
            {
                (Resource::Graph, name)
            }
            Some((prefix, _)) => {
                // AADSTS500011 (documented): InvalidResourceServicePrincipalNotFound.
                return Err(EntraError::new(
                    "invalid_resource",
                    500_011,
                    format!(
                        "The resource principal named {prefix} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                        config.tenant_domain
                    ),
                ));
            }
            None => (Resource::Graph, item),
        };
        if resource == Resource::Broker && name != config.broker_scope && name != ".default" {
            // AADSTS70011 (documented): InvalidScope.
            return Err(EntraError::new(
                "invalid_scope",
                70_011,
                format!(
                    "The provided value for the input parameter 'scope' isn't valid. The scope {item} isn't valid."
                ),
            ));
        }
        found.push((resource, name.to_owned(), item.to_owned()));
    }
    let Some(resource) = found.first().map(|(r, _, _)| *r) else {
        return Ok(Scopes {
            resource: Resource::Graph,
            names: vec!["User.Read".into()],
            asked: vec!["User.Read".into()],
            oidc,
        });
    };
    if found.iter().any(|(r, _, _)| *r != resource) {
        // AADSTS28000 (documented): more than one resource in one request.
        return Err(EntraError::new(
            "invalid_scope",
            28_000,
            format!(
                "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."
            ),
        ));
    }
    let names = found
        .iter()
        .map(|(_, name, _)| {
            if name == ".default" && resource == Resource::Broker {
                config.broker_scope.clone()
            } else {
                name.clone()
            }
        })
        .collect();
    let asked = found.into_iter().map(|(_, _, asked)| asked).collect();
    Ok(Scopes {
        resource,
        names,
        asked,
        oidc,
    })
}
