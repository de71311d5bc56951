//! The onboarding service: tap2key's demo directory and the faithful stand-in for
//! Microsoft Entra ID in tests. Users sign in with a Temporary Access Pass (OAuth 2.0
//! code + PKCE), then register passkeys through a Graph-shaped API.

pub mod app;
pub mod caller;
pub mod clock;
pub mod config;
pub mod entra;
pub mod graph;
pub mod graph_error;
pub mod oauth;
pub mod store;
pub mod tokens;

pub use app::{AppState, Server, ServerError};
pub use clock::Clock;
pub use config::{DESKTOP_CLIENT_ID, ServerConfig};
pub use graph::AttestationPolicy;
