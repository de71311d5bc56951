//! A test-only stand-in for Microsoft Entra ID (the v2.0 authorize and token endpoints,
//! openid-configuration and JWKS) and Microsoft Graph's passkey endpoints
//! (`/users/{id}/authentication/fido2Methods…`), written from Microsoft's documentation
//! and the observations collected in shared/FACTS.md ("Microsoft Entra ID and Microsoft
//! Graph").
//!
//! It exists for contract tests of the broker: nothing here can reach Microsoft's cloud,
//! so the stand-in answers as the real services do (the same JSON, quirks and error
//! envelopes) and keeps a journal of every request, plus a list of contract
//! [`violations`](StandIn::violations): things the broker sent that Graph or Entra
//! refuses (each also answered the way the real service answers it).
//!
//! One server on `127.0.0.1:<random port>` plays both hosts: `{authority}` for
//! `https://login.microsoftonline.com/` and `{authority}graph/` for
//! `https://graph.microsoft.com/`. It runs on a manual [`Clock`] that starts at the real
//! time (so JWT libraries that check `exp` against the computer's clock agree with it).

mod authorize;
mod client_credentials;
mod clock;
mod config;
mod discovery;
mod encodings;
mod entra_error;
mod graph;
mod journal;
mod keys;
mod page;
mod scopes;
mod server;
mod state;
mod token_endpoint;
mod tokens;

pub use clock::Clock;
pub use config::{Enforcement, Fault, Fido2Policy, KeyRestrictions, Route, StandInConfig};
pub use journal::Recorded;
pub use server::StandIn;

/// The broker's test credential: a fixed RSA 2048 key (PKCS#8 PEM) and its self-signed
/// certificate (PEM), for tests that need a certificate to [`StandIn::register_certificate`]
/// and a key to sign client assertions with.
pub fn testing_certificate() -> (String, String) {
    (
        include_str!("../keys/broker_key.pem").to_owned(),
        include_str!("../keys/broker_cert.pem").to_owned(),
    )
}
