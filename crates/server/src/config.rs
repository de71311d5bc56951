//! What an onboarding service is configured with.

use std::{net::SocketAddr, path::PathBuf};

use time::Duration;

#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The SQLite file holding the directory.
    pub database: PathBuf,
    /// Where to listen; port 0 picks a free one (how the desktop app's demo mode runs it).
    pub bind: SocketAddr,
    /// The tenant in every path, as Entra's `/{tenant}/oauth2/v2.0/...`.
    pub tenant: String,
    /// The public clients allowed to sign users in (the desktop app's client id).
    pub client_ids: Vec<String>,
    /// The `aud` of access tokens: this service's own API.
    pub audience: String,
    /// The delegated scope the desktop app asks for.
    pub scope: String,
    /// The WebAuthn relying party id; the origin is `https://` + this.
    pub rp_id: String,
    pub rp_name: String,
    pub access_token_lifetime: Duration,
    pub code_lifetime: Duration,
    /// How long registration options and test sign-in challenges stay valid (Entra: 5 min).
    pub challenge_lifetime: Duration,
    /// Wrong passes allowed per user within `lockout_window` (at most a day: older
    /// failures are pruned) before sign-in is refused.
    pub max_failed_sign_ins: u32,
    pub lockout_window: Duration,
    /// Which security keys may be registered.
    pub attestation: crate::graph::AttestationPolicy,
    /// Broker mode: users sign in at Entra, and their passkeys are registered in Entra
    /// through Graph. `None`: this service is the directory (the demo).
    pub broker: Option<crate::entra::BrokerConfig>,
}

impl ServerConfig {
    /// A demo directory on a free loopback port, storing into `database`.
    pub fn demo(database: PathBuf) -> Self {
        Self {
            database,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tenant: "demo".into(),
            client_ids: vec![DESKTOP_CLIENT_ID.into()],
            audience: "api://tap2key-onboarding".into(),
            scope: "Passkeys.Register".into(),
            rp_id: "login.tap2key.test".into(),
            rp_name: "tap2key demo directory".into(),
            access_token_lifetime: Duration::minutes(60),
            code_lifetime: Duration::minutes(10),
            challenge_lifetime: Duration::minutes(5),
            max_failed_sign_ins: 5,
            lockout_window: Duration::minutes(15),
            attestation: Default::default(),
            broker: None,
        }
    }

    /// The full scope value as it appears in a request: `{audience}/{scope}`.
    pub fn full_scope(&self) -> String {
        format!("{}/{}", self.audience, self.scope)
    }
}

/// The desktop app's client id in the demo directory.
pub const DESKTOP_CLIENT_ID: &str = "tap2key-desktop";
