//! Direct mode: the app talks to Microsoft Graph itself, which has no test sign-in. Against
//! the demo directory's Graph-shaped API (real HTTP, real SQLite, the virtual key through
//! the real CTAP client): registration goes to the directory, and the test sign-in is made
//! and checked by the client, against the public key the key attested, with no call at all.
//! A tiny stand-in answers as Microsoft does today (405 on `/me`, 403 without consent).

mod common;

use axum::{
    Json, Router,
    http::StatusCode,
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use common::{Demo, SecurityKey, serve};
use serde_json::{Value, json};
use tap2key_directory::{AccessToken, CreationOptions, DirectoryConfig, DirectoryError, Graph, LocalTestSignIn, PasskeyApi, TestSignInOptions};
use tap2key_keys::Assertion;
use tap2key_server::store::AuditAction;

/// The challenge in the clientDataJSON the options make, decoded.
fn challenge_of(options: &TestSignInOptions) -> Vec<u8> {
    let client_data: Value = serde_json::from_slice(&options.client_data_json()).unwrap();
    URL_SAFE_NO_PAD.decode(client_data["challenge"].as_str().unwrap()).unwrap()
}

fn message(error: DirectoryError) -> String {
    match error {
        DirectoryError::TestSignInFailed { message } => message,
        other => panic!("not a failed test sign-in: {other:?}"),
    }
}

#[tokio::test]
async fn the_test_sign_in_is_checked_here_with_no_call_to_the_directory() {
    let demo = Demo::start("direct-cycle").await;
    let graph = demo.ada_direct().await;
    assert_eq!(graph.api(), PasskeyApi::GraphDirect);
    let mut key = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let credential = key.make_credential(&options).unwrap();
    let method = graph.register("Ada's key", &options, &credential).await.unwrap();
    assert_eq!(graph.list().await.unwrap(), std::slice::from_ref(&method), "registered in the directory");
    let trail = demo.server.state.store.audit_trail(None, 100).await.unwrap();
    assert!(trail.iter().any(|event| event.action == AuditAction::Registration && event.outcome == "success"));

    // From here on the directory is gone: the test sign-in needs no call.
    let Demo { server, .. } = demo;
    server.stop().await;

    let test = graph.begin_test_sign_in(&method.id).await.unwrap();
    assert_eq!(test.rp_id, "login.tap2key.test", "the registration's rp id");
    assert_eq!(test.allow_credentials, std::slice::from_ref(&credential.credential_id), "that credential only");
    assert_eq!(challenge_of(&test).len(), 32);
    let first = graph.finish_test_sign_in(&method.id, &test, &key.get_assertion(&test)).await.unwrap();
    assert!(first.verified);
    assert!(first.sign_count > 0);

    // Again: a fresh challenge, a higher count.
    let again = graph.begin_test_sign_in(&method.id).await.unwrap();
    assert_ne!(challenge_of(&again), challenge_of(&test));
    let answer = key.get_assertion(&again);
    let second = graph.finish_test_sign_in(&method.id, &again, &answer).await.unwrap();
    assert!(second.sign_count > first.sign_count);
    // The same answer twice: its challenge is spent.
    assert_eq!(graph.finish_test_sign_in(&method.id, &again, &answer).await, Err(DirectoryError::ChallengeExpired));
}

/// A test sign-in whose answer `change` alters before it is checked: the error.
async fn tampered(graph: &Graph, method_id: &str, key: &mut SecurityKey, change: impl FnOnce(&mut Assertion)) -> DirectoryError {
    let test = graph.begin_test_sign_in(method_id).await.unwrap();
    let mut answer = key.get_assertion(&test);
    change(&mut answer);
    graph.finish_test_sign_in(method_id, &test, &answer).await.unwrap_err()
}

#[tokio::test]
async fn tampered_answers_fail_the_test_sign_in() {
    let demo = Demo::start("direct-tampered").await;
    let graph = demo.ada_direct().await;
    let mut key = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let method = graph.register("Ada's key", &options, &key.make_credential(&options).unwrap()).await.unwrap();

    let signature = message(tampered(&graph, &method.id, &mut key, |answer| answer.signature[10] ^= 0x01).await);
    assert!(signature.contains("signature does not verify"), "{signature}");
    let rp_id = message(tampered(&graph, &method.id, &mut key, |answer| answer.authenticator_data[0] ^= 0x01).await);
    assert!(rp_id.contains("another site than login.tap2key.test"), "{rp_id}");
    let uv = message(tampered(&graph, &method.id, &mut key, |answer| answer.authenticator_data[32] &= !0x04).await);
    assert!(uv.contains("UV flag"), "{uv}");
    let up = message(tampered(&graph, &method.id, &mut key, |answer| answer.authenticator_data[32] &= !0x01).await);
    assert!(up.contains("UP flag"), "{up}");

    // Another key's answer (its own passkey for the same site).
    let mut other = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    other.make_credential(&options).unwrap();
    let test = graph.begin_test_sign_in(&method.id).await.unwrap();
    let request = TestSignInOptions::from_json(&json!({"challenge": URL_SAFE_NO_PAD.encode(challenge_of(&test)), "rpId": test.rp_id, "allowCredentials": []})).unwrap();
    let foreign = other.get_assertion(&request);
    let error = message(graph.finish_test_sign_in(&method.id, &test, &foreign).await.unwrap_err());
    assert!(error.contains("another passkey"), "{error}");

    // An answer to older options: not this test sign-in's challenge.
    let older = graph.begin_test_sign_in(&method.id).await.unwrap();
    let _newer = graph.begin_test_sign_in(&method.id).await.unwrap();
    let error = message(graph.finish_test_sign_in(&method.id, &older, &key.get_assertion(&older)).await.unwrap_err());
    assert!(error.contains("challenge"), "{error}");

    // The key itself still passes.
    let test = graph.begin_test_sign_in(&method.id).await.unwrap();
    assert!(graph.finish_test_sign_in(&method.id, &test, &key.get_assertion(&test)).await.unwrap().verified);
}

#[tokio::test]
async fn a_key_registered_elsewhere_cannot_be_tested_here() {
    let demo = Demo::start("direct-elsewhere").await;
    let (_, pass) = demo.user_with_tap("ada@contoso.com", false).await;
    let token = demo.sign_in("ada@contoso.com", &pass).await.access_token;
    let config = demo.direct_config();
    let memory = LocalTestSignIn::default();
    let first = Graph::me(&config, demo.http.clone(), token.clone()).remembering_in(&memory);
    let mut key = SecurityKey::new();
    let options = first.creation_options().await.unwrap();
    let method = first.register("Ada's key", &options, &key.make_credential(&options).unwrap()).await.unwrap();
    assert_eq!(memory.len(), 1);

    // Another session (its own memory) knows nothing of the key's public key.
    let stranger = Graph::me(&config, demo.http.clone(), token.clone());
    assert_eq!(stranger.begin_test_sign_in(&method.id).await.unwrap_err(), DirectoryError::TestSignInUnavailable);
    assert!(DirectoryError::TestSignInUnavailable.to_string().contains("no test sign-in"));

    // A second sign-in in the same session shares the memory.
    let signed_in_again = Graph::me(&config, demo.http.clone(), token).remembering_in(&memory);
    let test = signed_in_again.begin_test_sign_in(&method.id).await.unwrap();
    assert!(signed_in_again.finish_test_sign_in(&method.id, &test, &key.get_assertion(&test)).await.unwrap().verified);

    // Deleting forgets.
    signed_in_again.delete(&method.id).await.unwrap();
    assert!(memory.is_empty());
    assert_eq!(first.begin_test_sign_in(&method.id).await.unwrap_err(), DirectoryError::TestSignInUnavailable);
}

/// Options as Entra's, for a registration the stand-in will refuse.
fn entra_options() -> CreationOptions {
    CreationOptions::from_json(&json!({"publicKey": {
        "challenge": "-_8Q", "rp": {"id": "login.microsoft.com", "name": "Microsoft"},
        "user": {"id": "AQID", "name": "ada@contoso.com", "displayName": "Ada"},
    }}))
    .unwrap()
}

#[tokio::test]
async fn microsofts_refusals_of_me_are_self_service_not_supported_and_forbidden() {
    let not_supported = || async {
        let body = json!({"error": {"code": "methodNotAllowed", "message": "The method is not supported for this URL.", "innerError": {}}});
        (StatusCode::METHOD_NOT_ALLOWED, Json(body))
    };
    let forbidden = || async {
        let body = json!({"error": {"code": "accessDenied", "message": "Request Authorization failed.", "innerError": {}}});
        (StatusCode::FORBIDDEN, Json(body))
    };
    let app = Router::new()
        .route("/v1.0/me/authentication/fido2Methods/creationOptions", get(not_supported))
        .route("/v1.0/me/authentication/fido2Methods", post(not_supported).get(forbidden))
        .route("/v1.0/users/{user}/authentication/fido2Methods/creationOptions", get(forbidden));
    let base = serve(app).await;
    let graph_url = url::Url::parse(&format!("{base}/v1.0")).unwrap();
    let config = DirectoryConfig::entra_direct(DirectoryConfig::public_cloud_authority(), "contoso.onmicrosoft.com", "1234", graph_url);
    let me = Graph::me(&config, reqwest::Client::new(), AccessToken::new("t"));

    assert_eq!(me.creation_options().await.unwrap_err(), DirectoryError::SelfServiceNotSupported);
    let options = entra_options();
    let credential = SecurityKey::new().make_credential(&options).unwrap();
    assert_eq!(me.register("Ada's key", &options, &credential).await, Err(DirectoryError::SelfServiceNotSupported));
    assert_eq!(me.list().await, Err(DirectoryError::Forbidden { message: "Request Authorization failed.".into() }));
    let ada = Graph::user(&config, reqwest::Client::new(), AccessToken::new("t"), "ada@contoso.com");
    assert!(matches!(ada.creation_options().await, Err(DirectoryError::Forbidden { .. })));
    assert!(DirectoryError::SelfServiceNotSupported.to_string().contains("onboarding service"));
}
