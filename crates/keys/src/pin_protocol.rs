//! The platform (client) side of the CTAP 2.1 PIN/UV auth protocols 1 and 2.
//!
//! With it our client sets or changes a security key's PIN and obtains pinUvAuthTokens:
//!
//! 1. [`client_pin::get_key_agreement_request`] → the authenticator's keyAgreement COSE_Key
//!    ([`client_pin::parse_get_key_agreement_response`]);
//! 2. [`SharedSecret::agree`] → our own COSE_Key plus the shared secret of this one exchange;
//! 3. a request built from both ([`client_pin::set_pin_request`], [`client_pin::change_pin_request`],
//!    [`client_pin::get_pin_uv_auth_token_using_pin_with_permissions_request`], ...);
//! 4. for the token requests, [`client_pin::parse_pin_token_response`] → a [`PinUvAuthToken`], whose
//!    [`PinUvAuthToken::authenticate`] makes the pinUvAuthParam of later commands.
//!
//! Modelled on python-fido2's `fido2/ctap2/pin.py`. The authenticator side lives elsewhere and shares
//! no code with this module on purpose: a misreading of the spec on one side then shows up as a
//! failure between the two instead of hiding in a common helper.
//!
//! Everything secret (the PIN, the shared secret, the token, decrypted plaintexts) is held in
//! zeroize-on-drop storage and has a redacted `Debug`.

mod cbor;
pub mod client_pin;
mod cose;
mod pin;
mod secret;

pub use pin::{Pin, PinFormatError};
pub use secret::{PinUvAuthToken, SharedSecret};

/// A PIN/UV auth protocol, by its number on the wire (getInfo key 0x06, clientPIN key 0x01).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PinProtocol {
    /// SHA-256 key derivation, AES-CBC with a zero IV, 16-byte MACs.
    One = 1,
    /// HKDF key derivation with separate HMAC and AES keys, random IVs, 32-byte MACs.
    Two = 2,
}

impl PinProtocol {
    /// The protocol's number as sent in `pinUvAuthProtocol`.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The protocol with this number, if we implement it. Takes a `u64` because that is what a
    /// CBOR unsigned integer from getInfo decodes to.
    pub fn from_number(n: u64) -> Option<Self> {
        match n {
            1 => Some(Self::One),
            2 => Some(Self::Two),
            _ => None,
        }
    }
}

/// Why a PIN/UV auth protocol operation or a clientPIN response failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinProtocolError {
    /// The authenticator's keyAgreement COSE_Key is malformed or not a P-256 point.
    #[error("invalid keyAgreement key from the authenticator: {0}")]
    InvalidKeyAgreement(&'static str),
    /// A ciphertext whose length this protocol cannot produce.
    #[error("ciphertext length is not valid for this PIN/UV auth protocol")]
    InvalidCiphertext,
    /// A decrypted pinUvAuthToken of a length this protocol does not allow.
    #[error("pinUvAuthToken has a length this PIN/UV auth protocol does not allow")]
    InvalidToken,
    /// getPinUvAuthTokenUsingPinWithPermissions needs at least one permission bit.
    #[error("a pinUvAuthToken must be requested with at least one permission")]
    NoPermissions,
    /// The response is not well-formed CBOR, or has bytes after its single data item.
    #[error("response is not valid CBOR: {0}")]
    InvalidCbor(String),
    /// The response is valid CBOR but not in CTAP2 canonical form (python-fido2 rejects these too).
    #[error("response CBOR is not in CTAP2 canonical form")]
    NonCanonicalCbor,
    /// The response decoded but its content does not have the expected shape.
    #[error("unexpected clientPIN response: {0}")]
    UnexpectedResponse(&'static str),
}

/// Permission bits for getPinUvAuthTokenUsingPinWithPermissions (0x09), CTAP 2.1 §6.5.5.7.
/// Combine with `|`.
pub mod permissions {
    /// `mc`: makeCredential (bind an RP ID with the `rp_id` argument).
    pub const MAKE_CREDENTIAL: u8 = 0x01;
    /// `ga`: getAssertion (bind an RP ID with the `rp_id` argument).
    pub const GET_ASSERTION: u8 = 0x02;
    /// `cm`: credentialManagement.
    pub const CREDENTIAL_MANAGEMENT: u8 = 0x04;
    /// `be`: bioEnrollment.
    pub const BIO_ENROLLMENT: u8 = 0x08;
    /// `lbw`: largeBlobs writes.
    pub const LARGE_BLOB_WRITE: u8 = 0x10;
    /// `acfg`: authenticatorConfig.
    pub const AUTHENTICATOR_CONFIGURATION: u8 = 0x20;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_numbers_round_trip() {
        for protocol in [PinProtocol::One, PinProtocol::Two] {
            assert_eq!(PinProtocol::from_number(protocol.number().into()), Some(protocol));
        }
        assert_eq!(PinProtocol::One.number(), 1);
        assert_eq!(PinProtocol::Two.number(), 2);
    }

    #[test]
    fn unknown_protocol_numbers_are_refused() {
        for n in [0, 3, 255, 257, u64::MAX] {
            assert_eq!(PinProtocol::from_number(n), None, "{n}");
        }
    }
}
