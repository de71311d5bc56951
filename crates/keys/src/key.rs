//! The `Key` abstraction: what onboarding asks of a security key, whatever it is.

use crate::{ctaphid::CancelToken, error::KeyError, info::AuthenticatorInfo, pin_protocol::Pin};

/// Something that happens while a key works on a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyEvent {
    /// The key waits for a touch: show "touch your key now".
    TouchNeeded,
}

/// Receives [`KeyEvent`]s; `|_| {}` when nobody watches.
pub type Events<'a> = &'a mut dyn FnMut(KeyEvent);

/// The PIN state the "key found" screen shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinRetries {
    pub retries: u8,
    /// Three wrong PINs in a row: the key must be re-inserted before the next try.
    pub power_cycle_required: bool,
}

/// SHA-256 of a clientDataJSON: what the key actually signs.
pub fn client_data_hash(client_data_json: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(client_data_json).into()
}

/// A new passkey, as a relying party wants it. `Debug` leaves out the clientDataJSON: it
/// holds the relying party's challenge, which must not reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct MakeCredentialRequest {
    /// The clientDataJSON the caller built; the key signs its SHA-256 (what ctap-hid-fido2
    /// calls the "challenge": it hashes it itself).
    pub client_data_json: Vec<u8>,
    pub rp_id: String,
    pub rp_name: Option<String>,
    /// The opaque user handle from the relying party's options.
    pub user_id: Vec<u8>,
    pub user_name: String,
    pub user_display_name: String,
    /// Credential ids the relying party already has for this user: the key refuses to
    /// register twice. Any length: a list longer than the key's maxCredentialCountInList is
    /// checked in batches first, as browsers do.
    pub exclude_list: Vec<Vec<u8>>,
    pub resident_key: bool,
    pub hmac_secret: bool,
    /// credProtect level 1, 2 or 3.
    pub cred_protect: Option<u8>,
}

/// The key's answer to makeCredential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCredential {
    pub credential_id: Vec<u8>,
    /// The WebAuthn attestationObject: CBOR {"fmt", "attStmt", "authData"}.
    pub attestation_object: Vec<u8>,
    pub authenticator_data: Vec<u8>,
}

/// `Debug` leaves out the clientDataJSON (it holds the challenge).
#[derive(Clone, PartialEq, Eq)]
pub struct GetAssertionRequest {
    pub client_data_json: Vec<u8>,
    pub rp_id: String,
    /// Empty: any discoverable credential of the RP. Any length, as for `exclude_list`.
    pub allow_list: Vec<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assertion {
    pub credential_id: Vec<u8>,
    pub authenticator_data: Vec<u8>,
    /// DER-encoded ECDSA signature over authenticatorData ‖ clientDataHash.
    pub signature: Vec<u8>,
    pub user_handle: Option<Vec<u8>>,
}

/// What onboarding needs from a security key. Every call blocks until the key answers
/// (a touch can take a person many seconds): run it off the UI thread.
///
/// PIN handling: CTAP 2.1 tokens serve one makeCredential or getAssertion each (§6.1.2
/// step 14), so an implementation keeps the token from [`Key::verify_pin`] for the next
/// ceremony and asks for a fresh one with the PIN after that. The caller keeps the
/// (zeroized) [`Pin`] for the session.
pub trait Key: Send {
    fn info(&mut self) -> Result<AuthenticatorInfo, KeyError>;
    fn pin_retries(&mut self) -> Result<PinRetries, KeyError>;
    fn set_pin(&mut self, pin: &Pin) -> Result<(), KeyError>;
    fn change_pin(&mut self, current: &Pin, new: &Pin) -> Result<(), KeyError>;
    /// Checks the PIN now (so a typo is caught on the PIN screen) and obtains a token for
    /// makeCredential and getAssertion on `rp_id`, kept for the next ceremony.
    fn verify_pin(&mut self, pin: &Pin, rp_id: &str) -> Result<(), KeyError>;
    fn make_credential(
        &mut self,
        request: &MakeCredentialRequest,
        pin: Option<&Pin>,
        events: Events<'_>,
        cancel: &CancelToken,
    ) -> Result<NewCredential, KeyError>;
    fn get_assertion(
        &mut self,
        request: &GetAssertionRequest,
        pin: Option<&Pin>,
        events: Events<'_>,
        cancel: &CancelToken,
    ) -> Result<Assertion, KeyError>;
    /// Removes a discoverable credential (cleanup after a failed registration).
    fn delete_credential(&mut self, credential_id: &[u8], pin: &Pin) -> Result<(), KeyError>;
    /// "Touch the key you want": succeeds when this key is touched.
    fn select(&mut self, events: Events<'_>, cancel: &CancelToken) -> Result<(), KeyError>;
    /// Makes the key blink, where it can.
    fn wink(&mut self) -> Result<(), KeyError>;
}

impl std::fmt::Debug for MakeCredentialRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MakeCredentialRequest")
            .field("client_data_json", &format_args!("({} bytes)", self.client_data_json.len()))
            .field("rp_id", &self.rp_id)
            .field("exclude_list", &self.exclude_list.len())
            .field("resident_key", &self.resident_key)
            .field("hmac_secret", &self.hmac_secret)
            .field("cred_protect", &self.cred_protect)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for GetAssertionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetAssertionRequest")
            .field("client_data_json", &format_args!("({} bytes)", self.client_data_json.len()))
            .field("rp_id", &self.rp_id)
            .field("allow_list", &self.allow_list.len())
            .finish()
    }
}
