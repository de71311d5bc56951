//! A software CTAP 2.1 security key that speaks real bytes: CTAPHID framing on 64-byte
//! reports and CTAP2 CBOR, with a real PIN protocol (1 and 2), retries and blocking, user
//! presence as an asynchronous "touch", and packed attestation from a test CA.
//!
//! Tests, benchmarks and the demo run on it because nothing here has a physical key, so it
//! is as strict as real keys are. It shares no code with the client side (`tap2key-keys`).

pub mod attestation;
mod authenticator;
mod config;
pub mod hid;
mod key;
mod state;
mod touch;

pub use authenticator::Status;
pub use config::{KeyModel, VirtualKeyConfig};
pub use key::{CredentialSummary, VirtualKey, VirtualKeyError};
pub use touch::{Touch, TouchPolicy};
