//! The virtual key against a real relying party: webauthn-rs-core 0.6, the library our
//! directory server verifies registrations and sign-ins with.
//!
//! Every ceremony goes the whole way a browser would take it: the relying party's options
//! become a CTAP2 request through the client (real CTAPHID reports and CBOR), the key's
//! answer becomes the JSON a browser would post back, and webauthn-rs decides. The
//! negative tests change exactly one thing each, so that a refusal can only come from the
//! check under test.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tap2key_keys::{
    CancelToken, GetAssertionRequest, Key, MakeCredentialRequest, Pin,
    client::CtapClient,
    virtual_key::{self, VirtualTransport},
};
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig, attestation::AttestationCa};
use url::Url;
use uuid::Uuid;
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AttestationCaList, AttestationCaListBuilder, AttestationConveyancePreference,
    AttestationFormat, AttestationMetadata, AuthenticationResult, AuthenticationState,
    AuthenticatorAssertionResponseRaw, AuthenticatorAttachment,
    AuthenticatorAttestationResponseRaw, COSEAlgorithm, COSEKeyType, CreationChallengeResponse,
    CredProtect, Credential, CredentialProtectionPolicy, ECDSACurve, ExtnState,
    PublicKeyCredential, RegisterPublicKeyCredential, RegistrationState,
    RequestRegistrationExtensions, ResidentKeyRequirement, UserVerificationPolicy,
};

// The relying party as Entra ID presents itself to a browser.
const RP_ID: &str = "login.microsoft.com";
const RP_NAME: &str = "Microsoft";
const ORIGIN: &str = "https://login.microsoft.com";

const USER_ID: &[u8] = b"entra-object-id-of-ada";
const PIN: &str = "1234";

// ---------------------------------------------------------------------------------------
// The relying party
// ---------------------------------------------------------------------------------------

fn relying_party() -> WebauthnCore {
    let origin = Url::parse(ORIGIN).unwrap();
    // No subdomains, no other ports: only the exact origin is acceptable.
    WebauthnCore::new_unsafe_experts_only(
        RP_NAME,
        RP_ID,
        vec![origin],
        Duration::from_secs(60),
        Some(false),
        Some(false),
    )
}

/// The extensions we ask for are the ones onboarding asks the key for: credProtect
/// "optional with credential id list" (level 2) and hmac-secret. Requesting them makes
/// webauthn-rs classify what the key puts in authData as `Set`, not `Unsolicited`.
fn registration_extensions() -> RequestRegistrationExtensions {
    RequestRegistrationExtensions {
        cred_protect: Some(CredProtect {
            credential_protection_policy:
                CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIDList,
            enforce_credential_protection_policy: Some(false),
        }),
        hmac_create_secret: Some(true),
        ..RequestRegistrationExtensions::default()
    }
}

/// Registration options as a directory enrolling hardware keys wants them: UV required,
/// direct attestation, a discoverable credential, ES256, and no synced passkeys (so the
/// key must not claim backup eligibility).
fn start_registration(rp: &WebauthnCore) -> (CreationChallengeResponse, RegistrationState) {
    let builder = rp
        .new_challenge_register_builder(USER_ID, "ada@contoso.com", "Ada Lovelace")
        .unwrap()
        .user_verification_policy(UserVerificationPolicy::Required)
        .attestation(AttestationConveyancePreference::Direct)
        .require_resident_key(true)
        .authenticator_attachment(Some(AuthenticatorAttachment::CrossPlatform))
        .credential_algorithms(vec![COSEAlgorithm::ES256])
        .extensions(Some(registration_extensions()))
        .reject_synchronised_authenticators(true);
    rp.generate_challenge_register(builder).unwrap()
}

/// Trust list: `root` may vouch for keys of model `aaguid` and nothing else (the AAGUID
/// list is an allow-list, not a label).
fn attestation_cas(root_der: &[u8], aaguid: [u8; 16]) -> AttestationCaList {
    let mut builder = AttestationCaListBuilder::new();
    builder
        .insert_device_der(
            root_der,
            Uuid::from_bytes(aaguid),
            "tap2key Virtual Key".into(),
            BTreeMap::new(),
        )
        .unwrap();
    builder.build()
}

fn trusted_cas(key: &VirtualKey) -> AttestationCaList {
    attestation_cas(
        AttestationCa::tap2key_test().root_certificate_der(),
        key.model().aaguid,
    )
}

// ---------------------------------------------------------------------------------------
// The browser's part
// ---------------------------------------------------------------------------------------

/// clientDataJSON byte for byte as Entra accepts it from a browser.
fn client_data_json(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
    let challenge = URL_SAFE_NO_PAD.encode(challenge);
    format!(
        r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{origin}","crossOrigin":false}}"#
    )
    .into_bytes()
}

/// A key with a PIN and a client session to it; passing the PIN makes every ceremony UV.
struct Session {
    key: VirtualKey,
    client: CtapClient<VirtualTransport>,
    pin: Pin,
}

fn key_with_pin() -> Session {
    let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
    let mut client = virtual_key::open(key.plug_in()).unwrap();
    let pin = Pin::new(PIN, 4).unwrap();
    client.set_pin(&pin).unwrap();
    Session { key, client, pin }
}

/// What a browser does with `navigator.credentials.create(options)`: maps the options to
/// authenticatorMakeCredential, runs it, and packs the answer as the JSON it posts back.
fn create(
    session: &mut Session,
    options: &CreationChallengeResponse,
    origin: &str,
) -> RegisterPublicKeyCredential {
    let options = &options.public_key;
    let client_data_json = client_data_json("webauthn.create", &options.challenge, origin);
    let selection = options.authenticator_selection.as_ref().unwrap();
    let extensions = options.extensions.as_ref().unwrap();
    let request = MakeCredentialRequest {
        client_data_json: client_data_json.clone(),
        rp_id: options.rp.id.clone(),
        rp_name: Some(options.rp.name.clone()),
        user_id: options.user.id.clone(),
        user_name: options.user.name.clone(),
        user_display_name: options.user.display_name.clone(),
        exclude_list: options
            .exclude_credentials
            .iter()
            .flatten()
            .map(|c| c.id.clone())
            .collect(),
        resident_key: selection.resident_key == Some(ResidentKeyRequirement::Required),
        hmac_secret: extensions.hmac_create_secret == Some(true),
        cred_protect: extensions
            .cred_protect
            .as_ref()
            .map(|c| c.credential_protection_policy as u8),
    };
    let credential = session
        .client
        .make_credential(
            &request,
            Some(&session.pin),
            &mut |_| {},
            &CancelToken::new(),
        )
        .unwrap();
    RegisterPublicKeyCredential {
        id: URL_SAFE_NO_PAD.encode(&credential.credential_id),
        raw_id: credential.credential_id,
        response: AuthenticatorAttestationResponseRaw {
            attestation_object: credential.attestation_object,
            client_data_json,
            transports: None,
        },
        type_: "public-key".into(),
        extensions: Default::default(),
    }
}

/// A full, honest registration; returns the credential the directory would store.
fn register(session: &mut Session, rp: &WebauthnCore) -> Credential {
    let (options, state) = start_registration(rp);
    let response = create(session, &options, ORIGIN);
    rp.register_credential(&response, &state, Some(&trusted_cas(&session.key)))
        .unwrap()
}

/// A sign-in the way a browser does `navigator.credentials.get(options)` for one stored
/// credential: returns the JSON the browser would post and the server's state for it.
fn sign_in(
    session: &mut Session,
    rp: &WebauthnCore,
    credential: &Credential,
) -> (PublicKeyCredential, AuthenticationState) {
    let builder = rp
        .new_challenge_authenticate_builder(
            vec![credential.clone()],
            Some(UserVerificationPolicy::Required),
        )
        .unwrap();
    let (options, state) = rp.generate_challenge_authenticate(builder).unwrap();
    let options = options.public_key;
    let client_data_json = client_data_json("webauthn.get", &options.challenge, ORIGIN);
    let request = GetAssertionRequest {
        client_data_json: client_data_json.clone(),
        rp_id: options.rp_id.clone(),
        allow_list: options
            .allow_credentials
            .iter()
            .map(|c| c.id.clone())
            .collect(),
    };
    let assertion = session
        .client
        .get_assertion(
            &request,
            Some(&session.pin),
            &mut |_| {},
            &CancelToken::new(),
        )
        .unwrap();
    let response = PublicKeyCredential {
        id: URL_SAFE_NO_PAD.encode(&assertion.credential_id),
        raw_id: assertion.credential_id,
        response: AuthenticatorAssertionResponseRaw {
            authenticator_data: assertion.authenticator_data,
            client_data_json,
            signature: assertion.signature,
            user_handle: assertion.user_handle,
        },
        extensions: Default::default(),
        type_: "public-key".into(),
    };
    (response, state)
}

/// What the directory does after a good sign-in: remember the new counter.
fn remember(credential: &mut Credential, result: &AuthenticationResult) {
    if result.needs_update() {
        credential.counter = result.counter();
    }
}

// ---------------------------------------------------------------------------------------
// Tampering
// ---------------------------------------------------------------------------------------

/// Flips the last byte of a DER ECDSA signature: the last byte of `s`, so the DER stays
/// well-formed and only the cryptographic check can notice.
fn flip_last_byte(signature: &mut [u8]) {
    *signature.last_mut().unwrap() ^= 0x01;
}

/// Decodes an attestationObject, lets `change` edit its attStmt, and re-encodes it.
fn edit_att_stmt(
    attestation_object: &[u8],
    change: impl FnOnce(&mut Vec<(ciborium::Value, ciborium::Value)>),
) -> Vec<u8> {
    let mut object: ciborium::Value = ciborium::from_reader(attestation_object).unwrap();
    let entries = object.as_map_mut().unwrap();
    let att_stmt = entries
        .iter_mut()
        .find(|(k, _)| k.as_text() == Some("attStmt"))
        .map(|(_, v)| v)
        .unwrap();
    change(att_stmt.as_map_mut().unwrap());
    let mut out = Vec::new();
    ciborium::into_writer(&object, &mut out).unwrap();
    out
}

fn flip_attestation_signature(attestation_object: &[u8]) -> Vec<u8> {
    edit_att_stmt(attestation_object, |att_stmt| {
        let sig = att_stmt
            .iter_mut()
            .find(|(k, _)| k.as_text() == Some("sig"))
            .map(|(_, v)| v)
            .unwrap();
        flip_last_byte(sig.as_bytes_mut().unwrap());
    })
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[test]
fn a_registration_is_trusted_by_the_attestation_ca_and_its_key_signs_in() {
    let rp = relying_party();
    let mut session = key_with_pin();
    let (options, state) = start_registration(&rp);
    let response = create(&mut session, &options, ORIGIN);
    let cas = trusted_cas(&session.key);

    let credential = rp
        .register_credential(&response, &state, Some(&cas))
        .unwrap();

    assert_eq!(credential.cred_id, response.raw_id);
    assert_eq!(
        session.key.credentials()[0].id,
        credential.cred_id,
        "the key holds the credential the RP stored"
    );
    // Attestation: packed, a certificate chain (not self attestation) that ends at our root,
    // and the AAGUID the root is allowed to vouch for.
    assert_eq!(credential.attestation_format, AttestationFormat::Packed);
    let aaguid = Uuid::from_bytes(session.key.model().aaguid);
    assert!(
        matches!(credential.attestation.metadata, AttestationMetadata::Packed { aaguid: a } if a == aaguid)
    );
    let ca = credential
        .verify_attestation(&cas)
        .unwrap()
        .expect("the chain ends at a CA in the list");
    assert!(ca.aaguids().contains_key(&aaguid));
    assert!(!ca.blanket_allow());
    // The PIN was used: UV; the key is hardware-bound: no backup flags.
    assert!(credential.user_verified);
    assert_eq!(
        credential.registration_policy,
        UserVerificationPolicy::Required
    );
    assert!(!credential.backup_eligible && !credential.backup_state);
    // The extensions we asked for are in the signed authData, with the values asked for.
    assert!(matches!(
        credential.extensions.cred_protect,
        ExtnState::Set(CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIDList)
    ));
    assert!(matches!(
        credential.extensions.hmac_create_secret,
        ExtnState::Set(true)
    ));
    // An ES256 P-256 key with full coordinates...
    assert_eq!(credential.cred.type_, COSEAlgorithm::ES256);
    match &credential.cred.key {
        COSEKeyType::EC_EC2(ec) => {
            assert_eq!(ec.curve, ECDSACurve::SECP256R1);
            assert_eq!((ec.x.len(), ec.y.len()), (32, 32));
        }
        other => panic!("expected an EC2 key, got {other:?}"),
    }
    // ...that verifies a real sign-in.
    let (assertion, auth_state) = sign_in(&mut session, &rp, &credential);
    let result = rp.authenticate_credential(&assertion, &auth_state).unwrap();
    assert!(result.user_verified());
}

#[test]
fn a_registration_from_another_origin_is_refused() {
    let rp = relying_party();
    let mut session = key_with_pin();
    let (options, state) = start_registration(&rp);
    // A phishing page relaying Entra's options: the key signs whatever the browser reports,
    // so the origin in the signed clientDataJSON is what gives it away.
    let response = create(&mut session, &options, "https://evil.example");

    let result = rp.register_credential(&response, &state, Some(&trusted_cas(&session.key)));
    assert!(
        matches!(result, Err(WebauthnError::InvalidRPOrigin)),
        "{result:?}"
    );
}

#[test]
fn a_registration_from_an_untrusted_model_or_ca_is_refused() {
    let rp = relying_party();
    let mut session = key_with_pin();
    let (options, state) = start_registration(&rp);
    let response = create(&mut session, &options, ORIGIN);
    let root = AttestationCa::tap2key_test().root_certificate_der();

    // Our root, but only for another model: the AAGUID allow-list refuses ours.
    let mut other_aaguid = session.key.model().aaguid;
    other_aaguid[15] ^= 0xff;
    let result = rp.register_credential(
        &response,
        &state,
        Some(&attestation_cas(root, other_aaguid)),
    );
    assert!(
        matches!(result, Err(WebauthnError::AttestationUntrustedAaguid)),
        "{result:?}"
    );

    // Our AAGUID, but vouched for by another root: the chain does not verify.
    let other_ca = AttestationCa::from_seed(&[9; 32], "Other CA").unwrap();
    let result = rp.register_credential(
        &response,
        &state,
        Some(&attestation_cas(
            other_ca.root_certificate_der(),
            session.key.model().aaguid,
        )),
    );
    assert!(
        matches!(result, Err(WebauthnError::AttestationChainNotTrusted(_))),
        "{result:?}"
    );

    // The same response with the right list still verifies: the refusals above were the list's.
    rp.register_credential(&response, &state, Some(&trusted_cas(&session.key)))
        .unwrap();
}

#[test]
fn a_tampered_attestation_signature_is_refused() {
    let rp = relying_party();
    let mut session = key_with_pin();
    let (options, state) = start_registration(&rp);
    let mut response = create(&mut session, &options, ORIGIN);
    // Our CBOR round trip must be lossless: then the flipped byte is the only change, and a
    // refusal cannot come from re-encoding (a broken object, a different authData).
    let original = response.response.attestation_object.clone();
    assert_eq!(
        edit_att_stmt(&original, |_| {}),
        original,
        "decode + encode gives the same bytes"
    );

    let tampered = flip_attestation_signature(&original);
    assert_eq!(tampered.len(), original.len());
    assert_eq!(
        tampered
            .iter()
            .zip(&original)
            .filter(|(a, b)| a != b)
            .count(),
        1,
        "exactly one byte differs"
    );
    response.response.attestation_object = tampered;

    let result = rp.register_credential(&response, &state, Some(&trusted_cas(&session.key)));
    assert!(
        matches!(result, Err(WebauthnError::AttestationStatementSigInvalid)),
        "{result:?}"
    );
}

#[test]
fn sign_ins_verify_advance_the_counter_and_tampering_or_replay_is_refused() {
    let rp = relying_party();
    let mut session = key_with_pin();
    let mut credential = register(&mut session, &rp);
    let registered_counter = credential.counter;

    let (assertion, state) = sign_in(&mut session, &rp, &credential);
    assert_eq!(
        assertion.response.user_handle.as_deref(),
        Some(USER_ID),
        "a discoverable credential returns the user handle"
    );
    let first = rp.authenticate_credential(&assertion, &state).unwrap();
    assert_eq!(first.cred_id(), &credential.cred_id);
    assert!(first.user_verified());
    assert!(
        first.counter() > registered_counter,
        "counter {} after registration at {registered_counter}",
        first.counter()
    );
    assert!(first.needs_update());
    remember(&mut credential, &first);

    let (second_assertion, second_state) = sign_in(&mut session, &rp, &credential);
    let second = rp
        .authenticate_credential(&second_assertion, &second_state)
        .unwrap();
    assert!(
        second.counter() > first.counter(),
        "counter {} after {}",
        second.counter(),
        first.counter()
    );
    remember(&mut credential, &second);

    // One flipped bit in the signature.
    let (mut tampered, tampered_state) = sign_in(&mut session, &rp, &credential);
    flip_last_byte(&mut tampered.response.signature);
    let result = rp.authenticate_credential(&tampered, &tampered_state);
    assert!(
        matches!(result, Err(WebauthnError::AuthenticationFailure)),
        "{result:?}"
    );

    // The first, genuine assertion again with its own challenge: the counter has moved on,
    // so webauthn-rs takes it for a cloned key.
    let result = rp.authenticate_single_credential(&assertion, &state, &credential);
    assert!(
        matches!(result, Err(WebauthnError::CredentialPossibleCompromise)),
        "{result:?}"
    );
}
