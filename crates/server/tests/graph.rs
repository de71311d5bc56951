//! The Graph-shaped passkey API over real HTTP on loopback against a real SQLite file, with
//! the virtual key playing the security key and this file playing the browser: the options
//! become CTAP2 requests through the client, the key's answers become the JSON Graph takes.
//! Every refusal is checked to leave the passkeys as they were.

mod common;


use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD},
};
use common::{Browser, Directory, ME, NOW, ORIGIN, b64, text, trust_the_virtual_key};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use tap2key_keys::KeyError;
use tap2key_server::{
    DESKTOP_CLIENT_ID,
    oauth,
    store::{AuditAction, Passkey, User},
    tokens::{ADMIN_ROLE, TokenKeys},
};
use tap2key_virtual_key::KeyModel;
use time::Duration;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// The directory
// ---------------------------------------------------------------------------------------

struct Setup {
    directory: Directory,
    ada: User,
    token: String,
}

struct Answer {
    status: u16,
    body: Value,
}

impl Setup {
    async fn start(name: &str) -> Self {
        let directory = Directory::start_with(name, trust_the_virtual_key).await;
        let ada = directory.server.state.store.create_user("ada@contoso.com", "Ada Lovelace", NOW).await.unwrap();
        let token = token_for(&directory, &ada, false);
        Self { directory, ada, token }
    }

    async fn user(&self, upn: &str, admin: bool) -> (User, String) {
        let user = self.directory.server.state.store.create_user(upn, upn, NOW).await.unwrap();
        let token = token_for(&self.directory, &user, admin);
        (user, token)
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let request = self.directory.http.request(method, format!("{}/v1.0{path}", self.directory.server.base_url()));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn send(request: RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Answer { status, body }
    }

    async fn get(&self, path: &str) -> Answer {
        Self::send(self.request(Method::GET, path, Some(&self.token))).await
    }

    /// Graph's beta endpoint, where `creationOptions(challengeTimeoutInMinutes=N)` lives.
    async fn get_beta(&self, path: &str) -> Answer {
        Self::send(self.directory.http.get(format!("{}/beta{path}", self.directory.server.base_url())).bearer_auth(&self.token)).await
    }

    async fn post(&self, path: &str, body: &Value) -> Answer {
        Self::send(self.request(Method::POST, path, Some(&self.token)).json(body)).await
    }

    async fn delete(&self, path: &str) -> Answer {
        Self::send(self.request(Method::DELETE, path, Some(&self.token))).await
    }

    async fn options(&self) -> Value {
        let answer = self.get(&format!("{ME}/creationOptions")).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body
    }

    /// A whole registration through `/me`: options, the key, POST.
    async fn register(&self, browser: &mut Browser) -> Value {
        let options = self.options().await;
        let body = browser.create(&options, ORIGIN).unwrap();
        let answer = self.post(ME, &body).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        answer.body
    }

    /// A whole test sign-in with the method, sending the credential id as `encode` writes it.
    async fn test_sign_in(&self, browser: &mut Browser, method: &str, encode: fn(&[u8]) -> String) -> Answer {
        let begin = self.post(&format!("{ME}/{method}/testSignIn/begin"), &json!({})).await;
        assert_eq!(begin.status, 200, "{}", begin.body);
        let finish = browser.get(&begin.body, ORIGIN, encode);
        self.post(&format!("{ME}/{method}/testSignIn/finish"), &finish).await
    }

    async fn passkeys(&self, user: &User) -> Vec<Passkey> {
        self.directory.server.state.store.passkeys(user.id).await.unwrap()
    }

    async fn audit(&self, user: &User) -> Vec<(AuditAction, String, String)> {
        let trail = self.directory.server.state.store.audit_trail(Some(user.id), 100).await.unwrap();
        trail.into_iter().rev().map(|e| (e.action, e.outcome, e.detail)).collect()
    }
}

fn token_for(directory: &Directory, user: &User, admin: bool) -> String {
    let roles = if admin { vec![ADMIN_ROLE.to_owned()] } else { Vec::new() };
    oauth::access_token(&directory.server.state, user, DESKTOP_CLIENT_ID, NOW, roles)
}

/// A Graph error envelope with this status and code; its message.
fn graph_error(answer: &Answer, status: u16, code: &str) -> String {
    assert_eq!(answer.status, status, "{}", answer.body);
    let error = &answer.body["error"];
    assert_eq!(error["code"], code, "{}", answer.body);
    assert!(error["innerError"]["request-id"].is_string(), "{}", answer.body);
    error["message"].as_str().expect("a message").to_owned()
}

fn refused(answer: &Answer, needle: &str) {
    let message = graph_error(answer, 400, "invalidRequest");
    assert!(message.contains(needle), "expected {needle:?} in {message:?}");
}

// ---------------------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------------------

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn standard(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// base64url with the padding replaced by its length (ASP.NET's UrlTokenEncode).
fn padding_number(bytes: &[u8]) -> String {
    let padded = URL_SAFE.encode(bytes);
    let trimmed = padded.trim_end_matches('=');
    format!("{trimmed}{}", padded.len() - trimmed.len())
}

/// Flips the last byte of the packed attStmt's `sig` (the end of the DER `s`, so the CBOR
/// and the DER stay well-formed and only the signature check can notice).
fn flip_attestation_signature(body: &mut Value) {
    let field = &mut body["publicKeyCredential"]["response"]["attestationObject"];
    let mut object = b64(field);
    let key = object.windows(4).position(|w| w == [0x63, b's', b'i', b'g']).expect("a sig");
    assert_eq!(object[key + 4], 0x58, "a one-byte length byte string follows");
    let last = key + 5 + usize::from(object[key + 5]);
    object[last] ^= 0x01;
    *field = json!(URL_SAFE_NO_PAD.encode(&object));
}

fn method_id(method: &Value) -> String {
    text(&method["id"])
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn creation_options_are_entras_field_for_field() {
    let setup = Setup::start("graph-options").await;
    let options = setup.options().await;
    let base = setup.directory.server.base_url();
    assert_eq!(options["@odata.context"], format!("{base}/v1.0/$metadata#microsoft.graph.webauthnCredentialCreationOptions"));
    assert_eq!(options["challengeTimeoutDateTime"], "2026-11-22T09:05:00Z");
    let public_key = &options["publicKey"];
    let challenge = b64(&public_key["challenge"]);
    assert!(challenge.len() >= 32, "{} bytes", challenge.len());
    let user_id = b64(&public_key["user"]["id"]);
    assert_eq!(user_id.len(), 51, "an opaque user handle like Entra's");
    assert!(Uuid::parse_str(public_key["user"]["id"].as_str().unwrap()).is_err());
    assert!(!user_id.windows(16).any(|w| w == setup.ada.id.as_bytes()));
    let mut without_varying = public_key.clone();
    without_varying["challenge"] = json!("…");
    without_varying["user"]["id"] = json!("…");
    assert_eq!(
        without_varying,
        json!({
            "challenge": "…",
            "timeout": 60000,
            "rp": {"id": "login.tap2key.test", "name": "tap2key demo directory"},
            "user": {"id": "…", "name": "ada@contoso.com", "displayName": "Ada Lovelace"},
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
            "excludeCredentials": [],
            "authenticatorSelection": {"authenticatorAttachment": "cross-platform", "requireResidentKey": true, "userVerification": "required"},
            "attestation": "direct",
            "extensions": {"hmacCreateSecret": true, "enforceCredentialProtectionPolicy": true, "credentialProtectionPolicy": "userVerificationOptional"},
        })
    );
    // The same user always gets the same handle; every call a new challenge.
    let again = setup.options().await;
    assert_eq!(again["publicKey"]["user"]["id"], public_key["user"]["id"]);
    assert_ne!(again["publicKey"]["challenge"], public_key["challenge"]);

    // Graph beta's longer challenge lifetime, within its bounds.
    let beta = setup.get_beta(&format!("{ME}/creationOptions(challengeTimeoutInMinutes=60)")).await;
    assert_eq!(beta.status, 200, "{}", beta.body);
    assert_eq!(beta.body["challengeTimeoutDateTime"], "2026-11-22T10:00:00Z");
    for minutes in [4, 43_201] {
        let answer = setup.get_beta(&format!("{ME}/creationOptions(challengeTimeoutInMinutes={minutes})")).await;
        refused(&answer, "challengeTimeoutInMinutes");
    }
    // v1.0 has no such form: it names no method there.
    assert_eq!(setup.get(&format!("{ME}/creationOptions(challengeTimeoutInMinutes=60)")).await.status, 404);
    // The /beta paths serve the same.
    let beta = Setup::send(
        setup.directory.http.get(format!("{base}/beta{ME}/creationOptions")).bearer_auth(&setup.token),
    )
    .await;
    assert_eq!(beta.status, 200);
    assert_eq!(beta.body["@odata.context"], format!("{base}/beta/$metadata#microsoft.graph.webauthnCredentialCreationOptions"));
}

#[tokio::test]
async fn a_key_registers_lists_signs_in_and_is_deleted() {
    let setup = Setup::start("graph-happy").await;
    let mut browser = Browser::new();
    let base = setup.directory.server.base_url();

    let method = setup.register(&mut browser).await;
    let id = method_id(&method);
    let stored = setup.passkeys(&setup.ada).await;
    assert_eq!(stored.len(), 1);
    let passkey = &stored[0];
    assert_eq!(passkey.method_id.to_string(), id);
    assert_eq!(passkey.credential_id, browser.key.credentials()[0].id, "the key holds the credential the directory stored");
    let aaguid = Uuid::from_bytes(browser.key.model().aaguid);
    let certificates = method["attestationCertificates"].as_array().unwrap();
    assert!(!certificates.is_empty());
    assert!(certificates.iter().all(|t| t.as_str().unwrap().len() == 40 && t.as_str().unwrap().chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())));
    assert_eq!(
        method,
        json!({
            "@odata.context": format!("{base}/v1.0/$metadata#users('{}')/authentication/fido2Methods/$entity", setup.ada.id),
            "id": id,
            "displayName": "Ada's YubiKey",
            "createdDateTime": "2026-11-22T09:00:00Z",
            "aaGuid": aaguid.to_string(),
            "model": "tap2key Virtual Key",
            "attestationCertificates": certificates,
            "attestationLevel": "attested",
            "passkeyType": "deviceBound",
        })
    );

    let mut entity = method.clone();
    entity.as_object_mut().unwrap().remove("@odata.context");
    let list = setup.get(ME).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body, json!({"@odata.context": format!("{base}/v1.0/$metadata#users('{}')/authentication/fido2Methods", setup.ada.id), "value": [entity]}));
    let one = setup.get(&format!("{ME}/{id}")).await;
    assert_eq!((one.status, &one.body), (200, &method));

    // Test sign-in: the options name this credential only; the counter moves each time.
    let begin = setup.post(&format!("{ME}/{id}/testSignIn/begin"), &json!({})).await;
    assert_eq!(begin.status, 200, "{}", begin.body);
    assert_eq!(begin.body["rpId"], "login.tap2key.test");
    assert_eq!(begin.body["userVerification"], "required");
    assert_eq!(begin.body["timeout"], 60000);
    assert_eq!(begin.body["allowCredentials"], json!([{"type": "public-key", "id": b64url(&passkey.credential_id)}]));
    assert!(b64(&begin.body["challenge"]).len() >= 32);
    let finish = browser.get(&begin.body, ORIGIN, b64url);
    let answer = setup.post(&format!("{ME}/{id}/testSignIn/finish"), &finish).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["verified"], true);
    let first = answer.body["signCount"].as_u64().unwrap();
    assert!(first > u64::from(passkey.sign_count), "{first} after {}", passkey.sign_count);
    assert_eq!(u64::from(setup.passkeys(&setup.ada).await[0].sign_count), first, "the new counter is stored");
    let second = setup.test_sign_in(&mut browser, &id, b64url).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert!(second.body["signCount"].as_u64().unwrap() > first);

    let deleted = setup.delete(&format!("{ME}/{id}")).await;
    assert_eq!((deleted.status, &deleted.body), (204, &Value::Null));
    assert!(setup.passkeys(&setup.ada).await.is_empty());
    assert_eq!(setup.get(ME).await.body["value"], json!([]));
    graph_error(&setup.get(&format!("{ME}/{id}")).await, 404, "itemNotFound");
    graph_error(&setup.delete(&format!("{ME}/{id}")).await, 404, "itemNotFound");
    graph_error(&setup.delete(&format!("{ME}/not-a-method")).await, 404, "itemNotFound");
    graph_error(&setup.post(&format!("{ME}/{id}/testSignIn/begin"), &json!({})).await, 404, "itemNotFound");

    let trail: Vec<_> = setup.audit(&setup.ada).await.into_iter().map(|(action, outcome, _)| (action, outcome)).collect();
    assert_eq!(
        trail,
        [
            (AuditAction::Registration, "success".to_owned()),
            (AuditAction::TestSignIn, "success".to_owned()),
            (AuditAction::TestSignIn, "success".to_owned()),
            (AuditAction::Deletion, "success".to_owned()),
        ]
    );
}

#[tokio::test]
async fn exclude_credentials_name_registered_keys_and_the_key_refuses_to_register_twice() {
    let setup = Setup::start("graph-exclude").await;
    let mut browser = Browser::new();
    setup.register(&mut browser).await;
    let credential_id = setup.passkeys(&setup.ada).await[0].credential_id.clone();

    let options = setup.options().await;
    assert_eq!(options["publicKey"]["excludeCredentials"], json!([{"id": b64url(&credential_id), "type": "public-key", "transports": ["usb"]}]));
    assert!(matches!(browser.create(&options, ORIGIN), Err(KeyError::CredentialExcluded)));
    assert_eq!(browser.key.credentials().len(), 1);
    assert_eq!(setup.passkeys(&setup.ada).await.len(), 1);

    // Another key is welcome.
    let mut other = Browser::new();
    let answer = setup.post(ME, &other.create(&options, ORIGIN).unwrap()).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(setup.passkeys(&setup.ada).await.len(), 2);
}

#[tokio::test]
async fn a_challenge_is_good_for_one_answer() {
    let setup = Setup::start("graph-replay").await;
    let mut browser = Browser::new();
    let options = setup.options().await;
    let body = browser.create(&options, ORIGIN).unwrap();
    assert_eq!(setup.post(ME, &body).await.status, 201);
    let before = setup.passkeys(&setup.ada).await;

    // The same answer again: its credential is in the directory.
    refused(&setup.post(ME, &body).await, "already registered");
    assert_eq!(setup.passkeys(&setup.ada).await, before);

    // With the method gone, the answer is still no good: its challenge was spent.
    let id = before[0].method_id.clone();
    assert_eq!(setup.delete(&format!("{ME}/{id}")).await.status, 204);
    refused(&setup.post(ME, &body).await, "expired, was already used");
    assert!(setup.passkeys(&setup.ada).await.is_empty());

    // A refused verification spends the challenge too: the genuine answer cannot follow it.
    let options = setup.options().await;
    let genuine = Browser::new().create(&options, ORIGIN).unwrap();
    let mut tampered = genuine.clone();
    flip_attestation_signature(&mut tampered);
    refused(&setup.post(ME, &tampered).await, "attestation signature");
    refused(&setup.post(ME, &genuine).await, "expired, was already used");
    assert!(setup.passkeys(&setup.ada).await.is_empty());

    let outcomes: Vec<_> = setup.audit(&setup.ada).await.into_iter().filter(|(a, ..)| *a == AuditAction::Registration).map(|(_, o, _)| o).collect();
    assert_eq!(outcomes, ["success", "duplicate", "challenge", "attestation_signature", "challenge"]);
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let setup = Setup::start("graph-expired").await;
    let mut browser = Browser::new();
    let options = setup.options().await;
    let body = browser.create(&options, ORIGIN).unwrap();
    setup.directory.clock.advance(Duration::minutes(5));
    refused(&setup.post(ME, &body).await, "expired");
    assert!(setup.passkeys(&setup.ada).await.is_empty());

    // Asked for a longer life (beta), the challenge outlives the default five minutes.
    let options = setup.get_beta(&format!("{ME}/creationOptions(challengeTimeoutInMinutes=10)")).await.body;
    let mut browser = Browser::new();
    let body = browser.create(&options, ORIGIN).unwrap();
    setup.directory.clock.advance(Duration::minutes(9));
    assert_eq!(setup.post(ME, &body).await.status, 201);

    // Test sign-in challenges expire as well.
    let id = setup.passkeys(&setup.ada).await[0].method_id.clone();
    let begin = setup.post(&format!("{ME}/{id}/testSignIn/begin"), &json!({})).await;
    let finish = browser.get(&begin.body, ORIGIN, b64url);
    setup.directory.clock.advance(Duration::minutes(5));
    refused(&setup.post(&format!("{ME}/{id}/testSignIn/finish"), &finish).await, "expired");
}

#[tokio::test]
async fn a_registration_made_for_another_origin_is_refused() {
    let setup = Setup::start("graph-origin").await;
    let options = setup.options().await;
    let body = Browser::new().create(&options, "https://evil.example").unwrap();
    refused(&setup.post(ME, &body).await, "The origin in clientDataJSON is not https://login.tap2key.test.");
    assert!(setup.passkeys(&setup.ada).await.is_empty());
}

#[tokio::test]
async fn a_model_the_organization_does_not_allow_is_refused() {
    let setup = Setup::start("graph-aaguid").await;
    let rogue = KeyModel { aaguid: *b"rogue-key-model!", name: "Rogue Key".into(), firmware_version: 1 };
    let options = setup.options().await;
    let body = Browser::with_model(rogue.clone()).create(&options, ORIGIN).unwrap();
    let message = graph_error(&setup.post(ME, &body).await, 400, "invalidRequest");
    assert_eq!(message, format!("The security key model (AAGUID {}) is not allowed by your organization.", Uuid::from_bytes(rogue.aaguid)));
    assert!(setup.passkeys(&setup.ada).await.is_empty());
}

#[tokio::test]
async fn a_tampered_attestation_signature_is_refused() {
    let setup = Setup::start("graph-tampered").await;
    let options = setup.options().await;
    let mut body = Browser::new().create(&options, ORIGIN).unwrap();
    flip_attestation_signature(&mut body);
    refused(&setup.post(ME, &body).await, "The attestation signature does not verify");
    assert!(setup.passkeys(&setup.ada).await.is_empty());
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_spends_nothing() {
    let setup = Setup::start("graph-bad-input").await;
    let options = setup.options().await;
    let genuine = Browser::new().create(&options, ORIGIN).unwrap();
    let post = |request: RequestBuilder| Setup::send(request.bearer_auth(&setup.token));
    let url = format!("{}/v1.0{ME}", setup.directory.server.base_url());

    let answer = post(setup.directory.http.post(&url).header("content-type", "application/json").body("{\"displayName\": ")).await;
    assert!(graph_error(&answer, 400, "invalidRequest").contains("not valid"));
    let answer = post(setup.directory.http.post(&url).header("content-type", "text/plain").body(genuine.to_string())).await;
    graph_error(&answer, 415, "UnsupportedMediaType");
    let answer = post(setup.directory.http.post(&url).body(genuine.to_string())).await;
    graph_error(&answer, 415, "UnsupportedMediaType");
    let answer = post(setup.directory.http.post(&url).header("content-type", "application/json").body(vec![b' '; 100 * 1024])).await;
    assert_eq!(answer.status, 413);

    let with = |path: &[&str], value: Value| {
        let mut body = genuine.clone();
        let mut field = &mut body;
        for key in path {
            field = &mut field[*key];
        }
        *field = value;
        body
    };
    let without = |key: &str| {
        let mut body = genuine.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let response = ["publicKeyCredential", "response"];
    let cbor_garbage = b64url(&[0xa3, 0x63, b'f', b'm', b't', 0x66, b'p', b'a']);
    let cases = [
        (without("displayName"), "missing field `displayName`"),
        (without("publicKeyCredential"), "missing field `publicKeyCredential`"),
        (with(&["displayName"], json!("")), "displayName is required"),
        (with(&["displayName"], json!("x".repeat(31))), "at most 30 characters"),
        (with(&["displayName"], json!(42)), "not valid"),
        (with(&["publicKeyCredential", "id"], json!("not base64!")), "publicKeyCredential.id is not base64url"),
        (with(&["publicKeyCredential", "id"], json!(b64url(b"another credential"))), "not the id of the credential"),
        (with(&[response[0], response[1], "clientDataJSON"], json!("%%%")), "clientDataJSON is not base64url"),
        (with(&[response[0], response[1], "clientDataJSON"], json!(b64url(b"not json"))), "clientDataJSON is not JSON"),
        (with(&[response[0], response[1], "clientDataJSON"], json!(b64url(br#"{"type":"webauthn.create"}"#))), "clientDataJSON has no challenge"),
        (with(&[response[0], response[1], "attestationObject"], json!("@@@")), "attestationObject is not base64url"),
        (with(&[response[0], response[1], "attestationObject"], json!(cbor_garbage)), "not well-formed CBOR"),
        (with(&[response[0], response[1], "attestationObject"], json!(b64url(b"\x83\x01\x02\x03"))), "not a CBOR map"),
    ];
    for (body, needle) in cases {
        let answer = setup.post(ME, &body).await;
        let message = graph_error(&answer, 400, "invalidRequest");
        assert!(message.contains(needle), "expected {needle:?} in {message:?}");
    }
    assert!(setup.passkeys(&setup.ada).await.is_empty());

    // Unknown fields are ignored, 30 characters is fine, and none of the above spent the
    // challenge: the genuine answer still registers.
    let mut body = with(&["displayName"], json!("é".repeat(30)));
    body["unknownField"] = json!("ignored");
    body["publicKeyCredential"]["unknown"] = json!(true);
    let answer = setup.post(ME, &body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = method_id(&answer.body);

    // Test sign-in finish gets the same care.
    let finish_url = format!("{ME}/{id}/testSignIn/finish");
    graph_error(&setup.post(&finish_url, &json!({"id": "x"})).await, 400, "invalidRequest");
    let good = json!({"id": b64url(b"c"), "response": {"clientDataJSON": b64url(b"{}"), "authenticatorData": "AA", "signature": "AA"}});
    refused(&setup.post(&finish_url, &with_value(&good, "id", json!("not base64!"))).await, "id is not base64url");
    refused(&setup.post(&finish_url, &with_response(&good, "signature", json!("~~"))).await, "response.signature is not base64url");
    refused(&setup.post(&finish_url, &good).await, "clientDataJSON has no challenge");
    let answer = Setup::send(setup.request(Method::POST, &finish_url, Some(&setup.token)).header("content-type", "text/plain").body("{}")).await;
    graph_error(&answer, 415, "UnsupportedMediaType");

    // Methods a URL does not have get Graph's 405.
    let answer = Setup::send(setup.request(Method::PUT, ME, Some(&setup.token)).json(&json!({}))).await;
    graph_error(&answer, 405, "methodNotAllowed");
    assert_eq!(setup.passkeys(&setup.ada).await.len(), 1);
}

fn with_value(body: &Value, key: &str, value: Value) -> Value {
    let mut body = body.clone();
    body[key] = value;
    body
}

fn with_response(body: &Value, key: &str, value: Value) -> Value {
    let mut body = body.clone();
    body["response"][key] = value;
    body
}

#[tokio::test]
async fn test_sign_in_takes_the_credential_id_in_all_three_encodings() {
    let setup = Setup::start("graph-encodings").await;
    let mut browser = Browser::new();
    let id = method_id(&setup.register(&mut browser).await);
    let mut last = 0;
    for encode in [b64url as fn(&[u8]) -> String, standard, padding_number] {
        let answer = setup.test_sign_in(&mut browser, &id, encode).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let count = answer.body["signCount"].as_u64().unwrap();
        assert!(count > last);
        last = count;
    }
}

#[tokio::test]
async fn tampered_replayed_or_misdirected_assertions_are_refused() {
    let setup = Setup::start("graph-assertions").await;
    let mut browser = Browser::new();
    let id = method_id(&setup.register(&mut browser).await);
    let finish_url = format!("{ME}/{id}/testSignIn/finish");
    let begin = || async { setup.post(&format!("{ME}/{id}/testSignIn/begin"), &json!({})).await };
    let counter = || async { setup.passkeys(&setup.ada).await[0].sign_count };
    let registered = counter().await;

    // One flipped bit in the signature.
    let mut finish = browser.get(&begin().await.body, ORIGIN, b64url);
    let mut signature = b64(&finish["response"]["signature"]);
    *signature.last_mut().unwrap() ^= 0x01;
    finish["response"]["signature"] = json!(b64url(&signature));
    refused(&setup.post(&finish_url, &finish).await, "The signature does not verify");

    // Another origin.
    let finish = browser.get(&begin().await.body, "https://evil.example", b64url);
    refused(&setup.post(&finish_url, &finish).await, "origin");

    // The key answering for someone else.
    let mut finish = browser.get(&begin().await.body, ORIGIN, b64url);
    finish["response"]["userHandle"] = json!(b64url(&[7; 51]));
    refused(&setup.post(&finish_url, &finish).await, "another user");

    // A good answer, then the same again.
    let finish = browser.get(&begin().await.body, ORIGIN, b64url);
    assert_eq!(setup.post(&finish_url, &finish).await.status, 200);
    let after = counter().await;
    assert!(after > registered);
    refused(&setup.post(&finish_url, &finish).await, "expired, was already used");

    // An answer for another method's challenge, or to another user's method.
    let mut second = Browser::new();
    let other = setup.post(ME, &second.create(&setup.options().await, ORIGIN).unwrap()).await;
    let other_id = method_id(&other.body);
    let finish = second.get(&setup.post(&format!("{ME}/{other_id}/testSignIn/begin"), &json!({})).await.body, ORIGIN, b64url);
    refused(&setup.post(&finish_url, &finish).await, "another credential");
    assert_eq!(counter().await, after, "refusals leave the counter where it was");

    let (grace, grace_token) = setup.user("grace@contoso.com", false).await;
    let answer = Setup::send(setup.request(Method::POST, &format!("{ME}/{id}/testSignIn/begin"), Some(&grace_token)).json(&json!({}))).await;
    graph_error(&answer, 404, "itemNotFound");
    assert!(setup.passkeys(&grace).await.is_empty());

    let outcomes: Vec<_> = setup.audit(&setup.ada).await.into_iter().filter(|(a, ..)| *a == AuditAction::TestSignIn).map(|(_, o, _)| o).collect();
    assert_eq!(outcomes, ["signature", "origin", "user_handle", "success", "challenge", "credential"]);
}

#[tokio::test]
async fn administrators_manage_other_users_and_nobody_else_does() {
    let setup = Setup::start("graph-admin").await;
    let (admin, admin_token) = setup.user("admin@contoso.com", true).await;
    let (grace, grace_token) = setup.user("Grace@Contoso.com", false).await;
    let as_user = |method: Method, path: String, token: &str| setup.request(method, &path, Some(token));

    // The administrator registers a key for Ada, by UPN and by object id.
    let by_upn = "/users/ada@contoso.com/authentication/fido2Methods".to_owned();
    let by_id = format!("/users/{}/authentication/fido2Methods", setup.ada.id);
    let options = Setup::send(as_user(Method::GET, format!("{by_upn}/creationOptions"), &admin_token)).await;
    assert_eq!(options.status, 200, "{}", options.body);
    assert_eq!(options.body["publicKey"]["user"]["name"], "ada@contoso.com");
    let mut browser = Browser::new();
    let body = browser.create(&options.body, ORIGIN).unwrap();
    let created = Setup::send(as_user(Method::POST, by_id.clone(), &admin_token).json(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(setup.passkeys(&setup.ada).await.len(), 1);
    assert!(setup.passkeys(&admin).await.is_empty());
    let id = method_id(&created.body);
    // Ada sees it as hers; the administrator lists it too.
    assert_eq!(setup.get(ME).await.body["value"][0]["id"], id);
    let listed = Setup::send(as_user(Method::GET, by_upn.clone(), &admin_token)).await;
    assert_eq!(listed.body["value"][0]["id"], id);
    let (_, _, detail) = setup.audit(&setup.ada).await.into_iter().find(|(a, ..)| *a == AuditAction::Registration).unwrap();
    assert!(detail.ends_with(" by admin@contoso.com"), "{detail}");
    // The administrator can test-sign-in with it for her.
    let begin = Setup::send(as_user(Method::POST, format!("{by_id}/{id}/testSignIn/begin"), &admin_token).json(&json!({}))).await;
    let finish = browser.get(&begin.body, ORIGIN, b64url);
    let answer = Setup::send(as_user(Method::POST, format!("{by_id}/{id}/testSignIn/finish"), &admin_token).json(&finish)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    // Grace is no administrator: nothing of Ada's, not even whether she exists.
    for (method, path) in [
        (Method::GET, format!("{by_upn}/creationOptions")),
        (Method::GET, by_id.clone()),
        (Method::POST, by_id.clone()),
        (Method::GET, format!("{by_id}/{id}")),
        (Method::DELETE, format!("{by_id}/{id}")),
        (Method::POST, format!("{by_id}/{id}/testSignIn/begin")),
        (Method::GET, "/users/nobody@contoso.com/authentication/fido2Methods".to_owned()),
    ] {
        let answer = Setup::send(as_user(method.clone(), path.clone(), &grace_token).json(&body)).await;
        graph_error(&answer, 403, "accessDenied");
    }
    assert_eq!(setup.passkeys(&setup.ada).await.len(), 1);
    // ...but her own id or UPN (in any case) is hers to use.
    for own in [grace.id.to_string(), "grace@contoso.com".to_owned()] {
        let answer = Setup::send(as_user(Method::GET, format!("/users/{own}/authentication/fido2Methods"), &grace_token)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    // An administrator naming nobody.
    let answer = Setup::send(as_user(Method::GET, "/users/nobody@contoso.com/authentication/fido2Methods".to_owned(), &admin_token)).await;
    graph_error(&answer, 404, "Request_ResourceNotFound");

    let deleted = Setup::send(as_user(Method::DELETE, format!("{by_id}/{id}"), &admin_token)).await;
    assert_eq!(deleted.status, 204);
    assert!(setup.passkeys(&setup.ada).await.is_empty());
}

#[tokio::test]
async fn without_a_valid_token_every_call_is_401_in_graphs_envelope() {
    let setup = Setup::start("graph-tokens").await;
    let mut browser = Browser::new();
    let id = method_id(&setup.register(&mut browser).await);
    let state = &setup.directory.server.state;
    let claims = state.keys.verify_access(&setup.token, &state.issuer(), &state.config.audience, NOW).unwrap();
    let other_audience = state.keys.sign(&tap2key_server::tokens::AccessClaims { aud: "api://someone-else".into(), ..claims.clone() });
    let other_key = TokenKeys::generate().sign(&claims);
    let other_scope = state.keys.sign(&tap2key_server::tokens::AccessClaims { scp: "User.Read".into(), ..claims.clone() });
    let new_key = Browser::new().create(&setup.options().await, ORIGIN).unwrap();

    let calls = || {
        [
            (Method::GET, format!("{ME}/creationOptions")),
            (Method::GET, ME.to_owned()),
            (Method::POST, ME.to_owned()),
            (Method::GET, format!("{ME}/{id}")),
            (Method::DELETE, format!("{ME}/{id}")),
            (Method::POST, format!("{ME}/{id}/testSignIn/begin")),
            (Method::POST, format!("{ME}/{id}/testSignIn/finish")),
            (Method::GET, format!("/users/{}/authentication/fido2Methods", setup.ada.id)),
        ]
    };
    for (token, what) in [(None, "no token"), (Some("not a token"), "garbage"), (Some(other_audience.as_str()), "another audience"), (Some(other_key.as_str()), "another key")] {
        for (method, path) in calls() {
            let response = setup.request(method.clone(), &path, token).json(&new_key).send().await.unwrap();
            assert_eq!(response.headers()["www-authenticate"], "Bearer", "{what}: {method} {path}");
            let answer = Answer { status: response.status().as_u16(), body: response.json().await.unwrap() };
            graph_error(&answer, 401, "InvalidAuthenticationToken");
        }
    }
    for (method, path) in calls() {
        let answer = Setup::send(setup.request(method, &path, Some(&other_scope)).json(&new_key)).await;
        graph_error(&answer, 403, "accessDenied");
    }
    // An hour later the token has expired.
    setup.directory.clock.advance(Duration::minutes(61));
    for (method, path) in calls() {
        graph_error(&Setup::send(setup.request(method, &path, Some(&setup.token)).json(&new_key)).await, 401, "InvalidAuthenticationToken");
    }
    assert_eq!(setup.passkeys(&setup.ada).await.len(), 1, "nothing registered or deleted");
    assert_eq!(setup.passkeys(&setup.ada).await[0].method_id.to_string(), id);
}

#[tokio::test]
async fn a_percent_encoded_address_in_the_path_names_the_user() {
    let setup = Setup::start("graph-encoded-upn").await;
    let answer = setup.get("/users/ada%40contoso.com/authentication/fido2Methods").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["value"], serde_json::json!([]));
}
