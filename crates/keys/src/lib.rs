//! Security keys as onboarding needs them: the [`Key`] trait, a CTAP2 client over CTAPHID
//! ([`client::CtapClient`]) that reaches the virtual key through the same encoders and
//! parsers as real keys, and USB HID keys through ctap-hid-fido2.

mod attestation_object;
pub mod client;
pub mod ctaphid;
pub mod discovery;
mod error;
mod info;
mod key;
pub mod pin_protocol;
mod shared;
pub mod usb;
pub mod virtual_key;

pub use ctaphid::CancelToken;
pub use discovery::{KeyChange, KeyLocation, KeyPorts, Watch, select_by_touch};
pub use error::KeyError;
pub use info::AuthenticatorInfo;
pub use key::{
    Assertion, Events, GetAssertionRequest, Key, KeyEvent, MakeCredentialRequest, NewCredential, PinRetries, client_data_hash,
};
pub use pin_protocol::{Pin, PinFormatError};
