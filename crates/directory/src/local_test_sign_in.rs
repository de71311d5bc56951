//! The test sign-in in direct mode, checked in the app. Microsoft Graph has no test sign-in
//! (our onboarding service adds one), so when the app talks to Graph itself it proves the
//! new key works on its own: it remembers, in memory, the public key the key attested when
//! it was registered, makes the sign-in options here (a fresh 32-byte challenge, the
//! registration's rp id, only that credential) and verifies the key's answer against them.
//!
//! The checking is webauthn-rs-core's (`WebauthnCore::authenticate_single_credential`), the
//! same code the onboarding service verifies with, rather than p256/rsa by hand: it parses
//! the COSE key (ES256 and RS256), checks the clientDataJSON's type, challenge and origin,
//! rpIdHash = SHA-256(rp id), the UP and UV flags, the backup flags, the signature over
//! authenticatorData ‖ SHA-256(clientDataJSON), and that the sign count went up. What is
//! written here is only the plumbing around it and the words for each refusal.
//!
//! A method registered in an earlier session (or by another app) is unknown here: its public
//! key was never seen, and Graph does not hand it out. That is a clear error, not a pass.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use ciborium::Value as Cbor;
use tap2key_keys::{Assertion, NewCredential};
use url::Url;
use webauthn_rs_core::{
    WebauthnCore,
    error::WebauthnError,
    internals::AuthenticatorData,
    proto::{
        AttestationFormat, AuthenticationState, AuthenticatorAssertionResponseRaw, COSEKey, Credential, ParsedAttestation, PublicKeyCredential,
        Registration, UserVerificationPolicy,
    },
};

use crate::{DirectoryError, TestSignInOptions, TestSignInResult, encoding::b64url};

/// How long the key is given for the test sign-in's touch (the options' `timeout`).
const TIMEOUT: Duration = Duration::from_secs(60);

/// What direct mode remembers of the keys it registered, by Graph's method id. Cloning
/// shares the memory: keep one for a person's whole session, so a second sign-in (after the
/// first expired) can still test the key registered before it.
#[derive(Clone, Default)]
pub struct LocalTestSignIn(Arc<Mutex<HashMap<String, Remembered>>>);

/// One registered key: where it signs in, its attested public key and counter, and the test
/// sign-in in progress (its challenge lives only here and in the options handed out).
struct Remembered {
    rp_id: String,
    credential: Credential,
    pending: Option<AuthenticationState>,
}

/// The public key a key attested, read from its attestationObject before registering.
pub(crate) struct Attested {
    rp_id: String,
    credential: Credential,
}

impl fmt::Debug for LocalTestSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Neither ids nor challenges: how many keys are remembered.
        f.debug_struct("LocalTestSignIn").field("keys", &self.lock().len()).finish()
    }
}

/// The public key, credential id, flags and counter the key attested: from the
/// attestationObject's authenticator data (attested credential data), which is what Graph
/// stores too. Read before registering, so a key whose answer could never be tested is not
/// registered.
pub(crate) fn attested(rp_id: &str, new: &NewCredential) -> Result<Attested, DirectoryError> {
    let unusable = |what: &str| DirectoryError::Protocol(format!("the security key's registration cannot be checked later: {what}"));
    let object: Cbor = ciborium::from_reader(new.attestation_object.as_slice()).map_err(|_| unusable("its attestationObject is not CBOR"))?;
    let auth_data = object
        .as_map()
        .and_then(|map| map.iter().find(|(key, _)| key.as_text() == Some("authData")))
        .and_then(|(_, value)| value.as_bytes())
        .ok_or_else(|| unusable("its attestationObject has no authData"))?;
    let data = AuthenticatorData::<Registration>::try_from(auth_data.as_slice()).map_err(|_| unusable("its authenticator data does not parse"))?;
    let acd = data.acd.as_ref().ok_or_else(|| unusable("its authenticator data carries no public key"))?;
    if acd.credential_id.as_slice() != new.credential_id.as_slice() {
        return Err(unusable("the attested credential id is not the key's credential id"));
    }
    let key = COSEKey::try_from(&acd.credential_pk).map_err(|_| unusable("its public key is not an ES256 or RS256 key"))?;
    let credential = Credential {
        cred_id: acd.credential_id.clone(),
        cred: key,
        counter: data.counter,
        transports: None,
        user_verified: data.user_verified,
        backup_eligible: data.backup_eligible,
        backup_state: data.backup_state,
        registration_policy: UserVerificationPolicy::Required,
        extensions: Default::default(),
        // Graph judges the attestation; the test only needs the key.
        attestation: ParsedAttestation::default(),
        attestation_format: AttestationFormat::None,
    };
    Ok(Attested { rp_id: rp_id.to_owned(), credential })
}

impl LocalTestSignIn {
    /// How many registered keys are remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn remember(&self, method_id: &str, attested: Attested) {
        let Attested { rp_id, credential } = attested;
        self.lock().insert(method_id.to_owned(), Remembered { rp_id, credential, pending: None });
    }

    pub(crate) fn forget(&self, method_id: &str) {
        self.lock().remove(method_id);
    }

    /// Options for a test sign-in with `method_id`, made here without a call to Graph: a
    /// fresh random challenge (32 bytes), the rp id the key registered for, and only that
    /// credential. A new begin replaces a test in progress.
    pub(crate) fn begin(&self, method_id: &str) -> Result<TestSignInOptions, DirectoryError> {
        let mut memory = self.lock();
        let remembered = memory.get_mut(method_id).ok_or(DirectoryError::TestSignInUnavailable)?;
        let relying_party = relying_party(&remembered.rp_id)?;
        let builder = relying_party
            .new_challenge_authenticate_builder(vec![remembered.credential.clone()], Some(UserVerificationPolicy::Required))
            .map_err(|error| explain(&error, &remembered.rp_id))?;
        let (options, state) = relying_party.generate_challenge_authenticate(builder).map_err(|error| explain(&error, &remembered.rp_id))?;
        remembered.pending = Some(state);
        let options = options.public_key;
        let allow = options.allow_credentials.into_iter().map(|credential| credential.id).collect();
        Ok(TestSignInOptions::local(options.rp_id, allow, options.challenge))
    }

    /// Verifies the key's answer to `options` (which [`Self::begin`] made): the
    /// clientDataJSON is the one the app built from them, and the rest is webauthn-rs's
    /// check against the attested key. The challenge is spent either way; the counter is
    /// kept on success.
    pub(crate) fn finish(&self, method_id: &str, options: &TestSignInOptions, assertion: &Assertion) -> Result<TestSignInResult, DirectoryError> {
        let mut memory = self.lock();
        let remembered = memory.get_mut(method_id).ok_or(DirectoryError::TestSignInUnavailable)?;
        let state = remembered.pending.take().ok_or(DirectoryError::ChallengeExpired)?;
        if options.rp_id != remembered.rp_id {
            return Err(failed(format!("The sign-in options are not for {}, where this key was registered.", remembered.rp_id)));
        }
        let response = PublicKeyCredential {
            id: b64url(&assertion.credential_id),
            raw_id: assertion.credential_id.clone(),
            response: AuthenticatorAssertionResponseRaw {
                authenticator_data: assertion.authenticator_data.clone(),
                client_data_json: options.client_data_json(),
                signature: assertion.signature.clone(),
                user_handle: assertion.user_handle.clone(),
            },
            extensions: Default::default(),
            type_: "public-key".into(),
        };
        let result = relying_party(&remembered.rp_id)?
            .authenticate_single_credential(&response, &state, &remembered.credential)
            .map_err(|error| explain(&error, &remembered.rp_id))?;
        remembered.credential.counter = remembered.credential.counter.max(result.counter());
        Ok(TestSignInResult { verified: true, sign_count: result.counter() })
    }

    #[cfg(test)]
    pub(crate) fn same_memory(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Remembered>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The relying party as a browser at `https://{rp_id}` presents it: that origin only, no
/// other ports or subdomains, no cross-origin answers.
fn relying_party(rp_id: &str) -> Result<WebauthnCore, DirectoryError> {
    let origin = Url::parse(&format!("https://{rp_id}")).map_err(|_| DirectoryError::Protocol("the key's rp id does not make an origin".into()))?;
    Ok(WebauthnCore::new_unsafe_experts_only("tap2key", rp_id, vec![origin], TIMEOUT, Some(false), Some(false)))
}

fn failed(message: String) -> DirectoryError {
    DirectoryError::TestSignInFailed { message }
}

/// Why webauthn-rs refused the answer, in words a person (or IT) can act on.
fn explain(error: &WebauthnError, rp_id: &str) -> DirectoryError {
    use WebauthnError as E;
    failed(match error {
        E::InvalidRPIDHash => format!("The security key answered for another site than {rp_id} (its rpIdHash does not match)."),
        E::UserNotPresent => "The security key did not confirm that it was touched (the UP flag is not set).".to_owned(),
        E::UserNotVerified => "The security key did not check the PIN (the UV flag is not set).".to_owned(),
        E::AuthenticationFailure | E::SignatureInvalid => "The signature does not verify with the public key the key registered.".to_owned(),
        E::CredentialPossibleCompromise => "The security key's sign count did not go up; the key may have been copied, or an old answer was replayed.".to_owned(),
        E::MismatchedChallenge => "The answer is not for this test sign-in's challenge.".to_owned(),
        E::InvalidClientDataType | E::InvalidRPOrigin | E::CredentialCrossOrigin => "The client data signed is not this test sign-in's.".to_owned(),
        E::CredentialNotFound => "The answer came from another passkey than the one just registered.".to_owned(),
        E::CredentialMayNotBeHardwareBound | E::CredentialBackupEligibilityInconsistent => {
            "The key's backup flags changed since it was registered.".to_owned()
        }
        E::ParseNOMFailure | E::ParseInsufficientBytesAvailable | E::ParseCBORFailure(_) | E::ParseJSONFailure(_) => {
            "The security key's answer could not be read.".to_owned()
        }
        other => format!("The security key's answer could not be verified ({other})."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_method_cannot_be_tested_here() {
        let memory = LocalTestSignIn::default();
        assert_eq!(memory.begin("m-1").unwrap_err(), DirectoryError::TestSignInUnavailable);
        assert!(memory.is_empty());
        assert_eq!(format!("{memory:?}"), "LocalTestSignIn { keys: 0 }");
    }

    #[test]
    fn a_registration_without_a_readable_key_is_refused_before_it_is_sent() {
        let new = NewCredential { credential_id: vec![1, 2, 3], attestation_object: vec![0xa0], authenticator_data: vec![0; 37] };
        assert!(matches!(attested("login.microsoft.com", &new), Err(DirectoryError::Protocol(message)) if message.contains("no authData")));
        let not_cbor = NewCredential { attestation_object: vec![0xff, 0x00], ..new };
        assert!(matches!(attested("login.microsoft.com", &not_cbor), Err(DirectoryError::Protocol(_))));
    }

    #[test]
    fn refusals_have_words() {
        let rp = "login.microsoft.com";
        let words = |error: WebauthnError| match explain(&error, rp) {
            DirectoryError::TestSignInFailed { message } => message,
            other => panic!("{other:?}"),
        };
        assert!(words(WebauthnError::InvalidRPIDHash).contains(rp));
        assert!(words(WebauthnError::UserNotVerified).contains("PIN"));
        assert!(words(WebauthnError::AuthenticationFailure).contains("signature"));
        assert!(words(WebauthnError::CredentialPossibleCompromise).contains("sign count"));
    }
}
