//! Everything the stand-in holds: the directory (users, passes, passkeys), the broker's
//! credentials and consent, the sign-ins and challenges in flight, the faults to inject,
//! and the journal. One lock; no handler holds it across an await.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, MutexGuard},
};

use serde_json::Value;
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;
use webauthn_rs_core::{WebauthnCore, proto::RegistrationState};

use crate::{
    clock::Clock,
    config::{Fault, Fido2Policy, Route, StandInConfig},
    journal::Recorded,
    keys::{BrokerCertificate, SigningKey},
};

pub(crate) struct Shared {
    pub config: StandInConfig,
    pub clock: Clock,
    /// `http://127.0.0.1:PORT/`
    pub authority: Url,
    pub signing_keys: [SigningKey; 2],
    /// The relying party Entra presents to security keys: `login.microsoft.com`.
    pub relying_party: WebauthnCore,
    inner: Mutex<Inner>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub users: Vec<User>,
    pub taps: HashMap<Uuid, Tap>,
    pub codes: HashMap<String, AuthorizationCode>,
    pub methods: Vec<Method>,
    /// Registration challenges by their bytes.
    pub challenges: HashMap<Vec<u8>, Challenge>,
    pub certificates: Vec<BrokerCertificate>,
    pub secrets: Vec<String>,
    pub graph_permission: bool,
    pub policy: Fido2Policy,
    pub faults: Vec<(Route, usize, Fault)>,
    /// Which of the two signing keys signs new tokens.
    pub active_key: usize,
    /// Which keys the JWKS lists.
    pub published_keys: [bool; 2],
    /// Client assertion `jti`s seen (Entra refuses a replayed assertion).
    pub seen_jtis: HashSet<String>,
    /// `uti`s of app tokens issued so far; `expire_app_tokens` moves them to `revoked`.
    pub app_token_utis: Vec<String>,
    pub revoked_utis: HashSet<String>,
    pub journal: Vec<Recorded>,
    pub violations: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub oid: Uuid,
    pub upn: String,
    pub display_name: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Tap {
    pub pass: String,
    pub expires: OffsetDateTime,
    pub one_time: bool,
    pub used: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct AuthorizationCode {
    pub user: Uuid,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub auth_time: OffsetDateTime,
    pub expires: OffsetDateTime,
    /// Tokens from a TAP sign-in never outlive the TAP (FACTS.md).
    pub tap_expires: OffsetDateTime,
}

#[derive(Clone, Debug)]
pub(crate) struct Challenge {
    pub user: Uuid,
    pub expires: OffsetDateTime,
    pub state: RegistrationState,
}

/// A registered passkey: Graph's view plus what Entra keeps to verify sign-ins.
#[derive(Clone, Debug)]
pub(crate) struct Method {
    pub id: String,
    pub user: Uuid,
    pub display_name: String,
    pub created: OffsetDateTime,
    pub aaguid: Uuid,
    pub model: Option<String>,
    pub attestation_certificates: Vec<String>,
    pub attested: bool,
    pub credential_id: Vec<u8>,
    /// webauthn-rs's `Credential` (public key, counter), as JSON: what Entra keeps to
    /// verify sign-ins with the key.
    #[expect(
        dead_code,
        reason = "kept as Entra keeps it; the stand-in has no passkey sign-in to use it yet"
    )]
    pub credential: Value,
}

impl Shared {
    pub fn new(
        config: StandInConfig,
        clock: Clock,
        authority: Url,
        signing_keys: [SigningKey; 2],
        relying_party: WebauthnCore,
    ) -> Self {
        let inner = Inner {
            graph_permission: true,
            published_keys: [true, false],
            ..Inner::default()
        };
        Self {
            config,
            clock,
            authority,
            signing_keys,
            relying_party,
            inner: Mutex::new(inner),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// `{authority}{tid}/v2.0`: the `iss` of v2 tokens and of the openid-configuration.
    pub fn issuer(&self) -> String {
        format!("{}{}/v2.0", self.authority, self.config.tenant_id)
    }

    /// `{authority}{tid}/oauth2/v2.0/token`: the only `aud` a client assertion may carry here.
    pub fn token_url(&self) -> String {
        format!(
            "{}{}/oauth2/v2.0/token",
            self.authority, self.config.tenant_id
        )
    }

    /// `{authority}graph/`
    pub fn graph_base(&self) -> String {
        format!("{}graph/", self.authority)
    }

    /// Whether `{tenant}` in a URL names this tenant (the GUID or the domain).
    pub fn is_tenant(&self, tenant: &str) -> bool {
        tenant.eq_ignore_ascii_case(&self.config.tenant_id.to_string())
            || tenant.eq_ignore_ascii_case(&self.config.tenant_domain)
    }

    pub fn violation(&self, what: impl Into<String>) {
        self.lock().violations.push(what.into());
    }
}

impl Inner {
    /// A user by object id or UPN (case-insensitive, as Entra matches UPNs).
    pub fn user(&self, id_or_upn: &str) -> Option<&User> {
        self.users.iter().find(|u| {
            u.oid.to_string().eq_ignore_ascii_case(id_or_upn)
                || u.upn.eq_ignore_ascii_case(id_or_upn)
        })
    }

    /// The next fault queued for `route`, used up by this call.
    pub fn take_fault(&mut self, route: Route) -> Option<Fault> {
        let slot = self
            .faults
            .iter_mut()
            .find(|(r, left, _)| *r == route && *left > 0)?;
        slot.1 -= 1;
        let fault = slot.2;
        self.faults.retain(|(_, left, _)| *left > 0);
        Some(fault)
    }
}
