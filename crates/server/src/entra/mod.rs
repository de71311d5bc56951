//! Broker mode: this service as the onboarding broker in front of Microsoft Entra ID.
//!
//! Graph will not let a signed-in user register their own passkey (`/me/.../fido2Methods`
//! answers `405`), so in broker mode this service holds the application permission and
//! registers keys *for* users. Before it does, it must be sure who is asking: the desktop
//! app signs the user in to Entra (a Temporary Access Pass, code + PKCE) for this broker's
//! own API, and sends that access token. This module checks such a token: signed by the
//! tenant ([`JwksCache`]), meant for this broker, from this tenant, current, carrying the
//! registration scope, obtained by an accepted client, and from a fresh sign-in
//! ([`EntraTokenRules::validate`]). Every refusal is a [`TokenRejection`] whose message is
//! written for the API caller and names no claim value.
//!
//! The broker's own Graph token comes from [`AppTokenSource`] (OAuth 2.0 client
//! credentials with a certificate or a secret), its Graph calls go through `GraphClient`
//! (retries on throttling, one token refresh on a 401), and [`Broker`] serves the
//! Graph-shaped API the desktop app speaks (see `broker/mod.rs` for the mapping).

mod app_token;
mod broker;
mod broker_config;
pub mod broker_file;
mod graph_client;
mod jwks;
mod rejection;
mod validate;

#[cfg(test)]
mod test_support;

pub use app_token::{
    ASSERTION_LIFETIME, AppToken, AppTokenError, AppTokenSource, CredentialError, GRAPH_DEFAULT_SCOPE, GraphCredential, PUBLIC_CLOUD_AUTHORITY, REFRESH_MARGIN,
    entra_token_url,
};
pub use broker::{Broker, BrokerError, routes as broker_routes};
pub use broker_config::{BrokerConfig, ENTRA_RP_ID, PUBLIC_CLOUD_GRAPH};
pub use graph_client::{GraphClient, MAX_PAGES, MAX_RESPONSE, REQUEST_TIMEOUT, RetryPolicy, UpstreamError};
pub use jwks::{JwksCache, JwksError, KeyError, MAX_KEY_AGE, REFETCH_INTERVAL, RETRY_AFTER_FAILURE, SigningKey};
pub use rejection::TokenRejection;
pub use validate::{DEFAULT_LEEWAY, DEFAULT_MAX_AUTH_AGE, EntraTokenRules, EntraUser, Freshness};
