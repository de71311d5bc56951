//! # tap2key-directory
//!
//! The app's side of the directory (Microsoft Entra ID, or the demo directory in
//! `crates/server`, which mirrors it). No UI, no Tauri: the onboarding flow calls it.
//!
//! Two halves:
//!
//! - **Sign-in** ([`SignIn`]): OAuth 2.0 authorization code + PKCE with a loopback
//!   redirect. The person types their Temporary Access Pass into the directory's own page;
//!   the app gets an access token (and checks the ID token's nonce, issuer, audience,
//!   expiry and signature).
//! - **Passkeys** ([`Graph`]): the Graph-shaped `fido2Methods` API. [`CreationOptions`]
//!   and [`TestSignInOptions`] turn the directory's WebAuthn options into the CTAP
//!   requests a security key takes (`tap2key_keys`), with the clientDataJSON Entra
//!   accepts; the key's answers go back as the JSON Graph takes. Which API that is
//!   ([`PasskeyApi`]): tap2key's onboarding service, which has a test sign-in, or
//!   Microsoft Graph itself, where the app checks the test sign-in ([`LocalTestSignIn`]).
//!
//! Every failure is a [`DirectoryError`] the flow can explain. No token, code, PKCE
//! verifier, challenge or pass ever appears in an error text or a log line.

mod callback_page;
pub mod config;
mod encoding;
pub mod error;
pub mod graph;
mod graph_error;
mod http;
mod id_token;
mod local_test_sign_in;
mod loopback;
pub mod sign_in;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;
pub mod webauthn;

pub use config::{DirectoryConfig, GRAPH_PASSKEY_SCOPE, GRAPH_V1, PUBLIC_CLOUD_AUTHORITY, PasskeyApi};
pub use error::{DirectoryError, SignInProblem};
pub use graph::{Fido2Method, Graph, TestSignInResult};
pub use local_test_sign_in::LocalTestSignIn;
pub use sign_in::SignIn;
pub use token::{AccessToken, Tokens};
pub use webauthn::{CreationOptions, TestSignInOptions, credential_id_decodings};
