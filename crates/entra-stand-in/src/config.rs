//! What the tenant looks like, and the knobs tests turn: the FIDO2 policy and faults.

use time::Duration;
use uuid::{Uuid, uuid};

/// The tenant and the two app registrations the broker set-up has.
#[derive(Clone, Debug)]
pub struct StandInConfig {
    /// The tenant id (`tid`).
    pub tenant_id: Uuid,
    /// A verified domain; URLs accept either it or the GUID as `{tenant}`.
    pub tenant_domain: String,
    /// The desktop app: a public client (no secret), redirect `http://localhost`.
    pub desktop_client_id: Uuid,
    /// The broker's app registration: the API the desktop app asks a token for, and the
    /// confidential client that holds the Graph application permission.
    pub broker_client_id: Uuid,
    /// The broker's Application ID URI, e.g. `api://tap2key-broker`.
    pub broker_app_id_uri: String,
    /// The broker's delegated scope, e.g. `Passkeys.Register`.
    pub broker_scope: String,
    /// Whether user access tokens carry the optional claim `auth_time` (Entra only adds
    /// it when the app registration asks for it).
    pub include_auth_time: bool,
    /// User access tokens (Entra: 60–90 minutes, randomly; never past the TAP's expiry).
    pub access_token_lifetime: Duration,
    /// The broker's app-only Graph tokens.
    pub app_token_lifetime: Duration,
    /// Graph list page size; small values make `@odata.nextLink` paging happen.
    pub graph_page_size: usize,
}

impl Default for StandInConfig {
    fn default() -> Self {
        Self {
            tenant_id: uuid!("7a1c3b5e-2f4d-4c6a-9b8e-0d1f2a3b4c5d"),
            tenant_domain: "contoso.test".into(),
            desktop_client_id: uuid!("3e2d1c0b-4a59-4687-8f9e-aabbccddeeff"),
            broker_client_id: uuid!("b40c2e7a-91d3-4f6e-8a25-1c3d5e7f9a0b"),
            broker_app_id_uri: "api://tap2key-broker".into(),
            broker_scope: "Passkeys.Register".into(),
            include_auth_time: true,
            access_token_lifetime: Duration::minutes(75),
            app_token_lifetime: Duration::minutes(60),
            graph_page_size: 100,
        }
    }
}

/// The tenant's FIDO2 authentication method configuration
/// (`/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2`).
#[derive(Clone, Debug)]
pub struct Fido2Policy {
    /// "Allow self-service set up": the passkey API refuses without it (a documented
    /// known issue on the creationOptions page; FACTS.md).
    pub is_self_service_registration_allowed: bool,
    /// Keys must present attestation chaining to one of `attestation_roots`.
    pub is_attestation_enforced: bool,
    /// DER root certificates (Entra takes them from the FIDO Metadata Service).
    pub attestation_roots: Vec<Vec<u8>>,
    pub key_restrictions: Option<KeyRestrictions>,
}

impl Default for Fido2Policy {
    fn default() -> Self {
        Self {
            is_self_service_registration_allowed: true,
            is_attestation_enforced: false,
            attestation_roots: Vec::new(),
            key_restrictions: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct KeyRestrictions {
    pub enforcement_type: Enforcement,
    pub aa_guids: Vec<Uuid>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enforcement {
    Allow,
    Block,
}

impl Fido2Policy {
    pub(crate) fn allows(&self, aaguid: Uuid) -> bool {
        match &self.key_restrictions {
            None => true,
            Some(KeyRestrictions {
                enforcement_type: Enforcement::Allow,
                aa_guids,
            }) => aa_guids.contains(&aaguid),
            Some(KeyRestrictions {
                enforcement_type: Enforcement::Block,
                aa_guids,
            }) => !aa_guids.contains(&aaguid),
        }
    }
}

/// Which endpoint a [`Fault`] hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// `GET …/fido2Methods/creationOptions`
    CreationOptions,
    /// `POST …/fido2Methods`
    Register,
    /// `GET …/fido2Methods` and `GET …/fido2Methods/{id}`
    List,
    /// `DELETE …/fido2Methods/{id}`
    Delete,
    /// `POST {tenant}/oauth2/v2.0/token`
    Token,
}

/// A transient failure, answered before anything else for its route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `Retry-After` (Graph throttling guidance).
    TooManyRequests { retry_after_seconds: u64 },
    /// 503, with or without `Retry-After`.
    ServiceUnavailable { retry_after_seconds: Option<u64> },
    /// 401 InvalidAuthenticationToken "Lifetime validation failed, the token is expired."
    ExpiredToken,
    /// 500 generalException.
    InternalServerError,
}
