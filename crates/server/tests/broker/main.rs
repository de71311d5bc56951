//! Contract tests of broker mode: the app's directory client → this service in broker mode
//! → a stand-in for Entra ID and Graph that checks every request it gets. Each test ends
//! by asking the stand-in whether the broker sent anything real Graph would reject.

mod full_job;
mod setup;

use std::collections::BTreeSet;

use serde_json::Value;
use setup::{Entra, SecurityKey};
use tap2key_directory::DirectoryError;
use tap2key_entra_stand_in::{Enforcement, Fault, Fido2Policy, KeyRestrictions, Route};
use uuid::Uuid;

fn no_violations(entra: &Entra) {
    let violations = entra.stand_in.violations();
    assert!(violations.is_empty(), "the broker sent what Graph rejects: {violations:#?}");
}

#[tokio::test]
async fn a_key_is_registered_in_entra_for_the_signed_in_user_and_tested_here() {
    let entra = Entra::start("happy").await;
    let (oid, graph) = entra.ada().await;
    let mut key = SecurityKey::new();

    let options = graph.creation_options().await.unwrap();
    assert_eq!(options.rp_id, "login.microsoft.com", "Graph's options, passed through");
    let made = key.make_credential(&options).unwrap();
    let method = graph.register("Ada's key", &options, &made).await.unwrap();
    assert_eq!(method.display_name, "Ada's key");
    assert!(Uuid::parse_str(&method.id).is_err(), "Entra's opaque method id reaches the app as it is: {}", method.id);

    let in_entra = entra.stand_in.fido2_methods(oid);
    assert_eq!(in_entra.len(), 1);
    assert_eq!(in_entra[0]["id"], method.id.as_str());
    let listed = graph.list().await.unwrap();
    assert_eq!(listed.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [method.id.as_str()]);

    let test = graph.begin_test_sign_in(&method.id).await.unwrap();
    assert_eq!(test.rp_id, "login.microsoft.com");
    let assertion = key.get_assertion(&test);
    let result = graph.finish_test_sign_in(&method.id, &test, &assertion).await.unwrap();
    assert!(result.verified);

    // Exactly these Graph calls, for Ada only, on v1.0.
    let base = format!("/graph/v1.0/users/{oid}/authentication/fido2Methods");
    let calls = entra.graph_calls();
    assert_eq!(calls, [format!("GET {base}/creationOptions"), format!("POST {base}"), format!("GET {base}"), format!("GET {base}")], "{calls:#?}");
    // Every Graph request with the app token, a client-request-id, and POST's exact body.
    for request in entra.stand_in.requests().iter().filter(|r| r.path.contains("/graph/")) {
        let header = |name: &str| request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        assert_eq!(header("authorization"), Some("Bearer <app-token>"), "{request:?}");
        assert!(header("client-request-id").and_then(|id| Uuid::parse_str(id).ok()).is_some(), "{request:?}");
    }
    let post = entra.stand_in.requests().into_iter().find(|r| r.method == "POST" && r.path.contains("/graph/")).unwrap();
    let body = post.body.unwrap();
    let keys = |value: &Value| value.as_object().unwrap().keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(keys(&body), BTreeSet::from(["displayName".into(), "publicKeyCredential".into()]));
    assert_eq!(keys(&body["publicKeyCredential"]), BTreeSet::from(["id".into(), "response".into(), "clientExtensionResults".into()]));
    assert_eq!(keys(&body["publicKeyCredential"]["response"]), BTreeSet::from(["clientDataJSON".into(), "attestationObject".into()]));
    assert_eq!(entra.token_requests(), 1, "one app token for the whole job");
    assert_eq!(entra.audit().await, [("Registration".into(), "success".into()), ("TestSignIn".into(), "success".into())]);
    no_violations(&entra);
}

#[tokio::test]
async fn throttling_is_waited_out_and_an_expired_app_token_renewed_once() {
    let entra = Entra::start("throttled").await;
    let (oid, graph) = entra.ada().await;
    let mut key = SecurityKey::new();

    entra.stand_in.fail_next(Route::CreationOptions, 1, Fault::TooManyRequests { retry_after_seconds: 1 });
    let options = graph.creation_options().await.unwrap();
    let base = format!("/graph/v1.0/users/{oid}/authentication/fido2Methods");
    assert_eq!(entra.graph_calls(), [format!("GET {base}/creationOptions"), format!("GET {base}/creationOptions")]);

    entra.stand_in.expire_app_tokens();
    entra.stand_in.fail_next(Route::Register, 1, Fault::ServiceUnavailable { retry_after_seconds: None });
    let made = key.make_credential(&options).unwrap();
    graph.register("Ada's key", &options, &made).await.unwrap();
    assert_eq!(entra.token_requests(), 2, "a new app token after the 401, and only one");
    assert_eq!(entra.stand_in.fido2_methods(oid).len(), 1);
    no_violations(&entra);
}

#[tokio::test]
async fn graph_down_for_good_is_unavailable_and_nothing_is_kept() {
    let entra = Entra::start("down").await;
    let (oid, graph) = entra.ada().await;
    let mut key = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let made = key.make_credential(&options).unwrap();

    entra.stand_in.fail_next(Route::Register, 10, Fault::ServiceUnavailable { retry_after_seconds: Some(1) });
    let error = graph.register("Ada's key", &options, &made).await.unwrap_err();
    assert!(matches!(error, DirectoryError::Unavailable { .. }), "{error:?}");
    assert!(entra.stand_in.fido2_methods(oid).is_empty());
    assert!(entra.broker.state.store.passkeys(oid).await.unwrap().is_empty(), "no public key kept for a method that does not exist");
    assert_eq!(entra.audit().await, [("Registration".into(), "unavailable".into())]);
    no_violations(&entra);
}

#[tokio::test]
async fn a_policy_without_self_service_setup_tells_it_which_switch_to_turn() {
    let entra = Entra::start("policy").await;
    entra.stand_in.set_fido2_policy(Fido2Policy { is_self_service_registration_allowed: false, ..Fido2Policy::default() });
    let (_, graph) = entra.ada().await;
    match graph.creation_options().await.unwrap_err() {
        DirectoryError::Forbidden { message } => assert!(message.contains("Allow self-service set up"), "{message}"),
        other => panic!("{other:?}"),
    }
    no_violations(&entra);
}

#[tokio::test]
async fn a_model_the_organisation_blocks_is_refused_by_name_before_graph_sees_it() {
    let key = SecurityKey::new();
    let model = key.key.model().clone();
    let entra = Entra::start_with("blocked", |config| config.attestation.blocked_aaguids = vec![Uuid::from_bytes(model.aaguid)]).await;
    let (oid, graph) = entra.ada().await;
    let mut key = key;
    let options = graph.creation_options().await.unwrap();
    let made = key.make_credential(&options).unwrap();
    match graph.register("Ada's key", &options, &made).await.unwrap_err() {
        DirectoryError::ModelNotAllowed { message } => assert!(message.contains(&model.name), "the refusal names the model: {message}"),
        other => panic!("{other:?}"),
    }
    assert!(entra.graph_calls().iter().all(|call| !call.starts_with("POST")), "Graph never saw the key");
    assert!(entra.stand_in.fido2_methods(oid).is_empty());
    no_violations(&entra);
}

#[tokio::test]
async fn graphs_own_key_restrictions_come_back_in_graphs_words() {
    let entra = Entra::start_with("graph-restricts", |config| config.attestation = Default::default()).await;
    let key = SecurityKey::new();
    let aaguid = Uuid::from_bytes(key.key.model().aaguid);
    entra.stand_in.set_fido2_policy(Fido2Policy {
        key_restrictions: Some(KeyRestrictions { enforcement_type: Enforcement::Block, aa_guids: vec![aaguid] }),
        ..Fido2Policy::default()
    });
    let (oid, graph) = entra.ada().await;
    let mut key = key;
    let options = graph.creation_options().await.unwrap();
    let made = key.make_credential(&options).unwrap();
    let error = graph.register("Ada's key", &options, &made).await.unwrap_err();
    assert!(matches!(error, DirectoryError::ModelNotAllowed { .. } | DirectoryError::Refused { status: 400, .. }), "{error:?}");
    assert!(entra.stand_in.fido2_methods(oid).is_empty());
    no_violations(&entra);
}

#[tokio::test]
async fn an_answer_to_a_challenge_past_its_five_minutes_is_refused_as_expired() {
    let entra = Entra::start("expired").await;
    let (oid, graph) = entra.ada().await;
    let mut key = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let made = key.make_credential(&options).unwrap();
    entra.advance(time::Duration::minutes(6));
    assert!(matches!(graph.register("Ada's key", &options, &made).await, Err(DirectoryError::ChallengeExpired)));
    assert!(entra.graph_calls().iter().all(|call| !call.starts_with("POST")));

    // Fresh options, a new credential: registered.
    let options = graph.creation_options().await.unwrap();
    let made = key.make_credential(&options).unwrap();
    graph.register("Ada's key", &options, &made).await.unwrap();
    assert_eq!(entra.stand_in.fido2_methods(oid).len(), 1);
    no_violations(&entra);
}

#[tokio::test]
async fn a_registered_key_is_excluded_in_every_encoding_entra_uses() {
    let entra = Entra::start("excluded").await;
    let (_, graph) = entra.ada().await;
    let mut first = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let made = first.make_credential(&options).unwrap();
    graph.register("First", &options, &made).await.unwrap();
    let mut second = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let made = second.make_credential(&options).unwrap();
    graph.register("Second", &options, &made).await.unwrap();
    let mut third = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let made = third.make_credential(&options).unwrap();
    graph.register("Third", &options, &made).await.unwrap();

    // Whatever encoding each id came in, each key recognises its own credential.
    let options = graph.creation_options().await.unwrap();
    for key in [&mut first, &mut second, &mut third] {
        assert!(matches!(key.make_credential(&options), Err(tap2key_keys::KeyError::CredentialExcluded)));
    }
    no_violations(&entra);
}

#[tokio::test]
async fn deleting_goes_to_graph_and_the_kept_key_goes_too() {
    let entra = Entra::start("delete").await;
    let (oid, graph) = entra.ada().await;
    let mut key = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let made = key.make_credential(&options).unwrap();
    let method = graph.register("Ada's key", &options, &made).await.unwrap();

    graph.delete(&method.id).await.unwrap();
    assert!(entra.stand_in.fido2_methods(oid).is_empty());
    assert!(entra.broker.state.store.passkeys(oid).await.unwrap().is_empty());
    assert!(matches!(graph.delete(&method.id).await, Err(DirectoryError::NotFound)));
    assert!(matches!(graph.begin_test_sign_in(&method.id).await, Err(DirectoryError::NotFound)));
    no_violations(&entra);
}

#[tokio::test]
async fn the_broker_acts_for_the_signed_in_user_only() {
    let entra = Entra::start("only-self").await;
    let grace = entra.stand_in.add_user("grace@contoso.test", "Grace Hopper");
    let eve = entra.stand_in.add_user("eve@contoso.test", "Eve");
    let pass = entra.stand_in.issue_tap(eve, time::Duration::hours(1), false);
    let token = entra.access_token("eve@contoso.test", &pass).await;
    let other = tap2key_directory::Graph::user(&entra.app, entra.http.clone(), token, &grace.to_string());
    assert!(matches!(other.creation_options().await, Err(DirectoryError::Forbidden { .. })));
    assert!(entra.graph_calls().is_empty(), "nothing reached Graph");

    // Not a token at all, or none.
    let url = format!("{}/v1.0/me/authentication/fido2Methods/creationOptions", entra.broker.base_url());
    for header in [None, Some("Bearer not.a.token")] {
        let mut request = entra.http.get(&url);
        if let Some(header) = header {
            request = request.header("authorization", header);
        }
        assert_eq!(request.send().await.unwrap().status(), 401, "{header:?}");
    }
    no_violations(&entra);
}

#[tokio::test]
async fn tokens_signed_with_a_rotated_key_are_accepted() {
    let entra = Entra::start("rotation").await;
    let (_, graph) = entra.ada().await;
    graph.list().await.unwrap();
    entra.stand_in.rotate_signing_key();
    let oid = entra.stand_in.add_user("grace@contoso.test", "Grace Hopper");
    let pass = entra.stand_in.issue_tap(oid, time::Duration::hours(1), true);
    let grace = entra.sign_in("grace@contoso.test", &pass).await;
    grace.list().await.unwrap();
    no_violations(&entra);
}

#[tokio::test]
async fn no_token_pass_or_challenge_reaches_the_brokers_log() {
    let entra = Entra::start("secrets").await;
    let oid = entra.stand_in.add_user("ada@contoso.test", "Ada Lovelace");
    let pass = entra.stand_in.issue_tap(oid, time::Duration::hours(1), true);
    let token = entra.access_token("ada@contoso.test", &pass).await;
    let options: Value = entra
        .http
        .get(format!("{}/v1.0/me/authentication/fido2Methods/creationOptions", entra.broker.base_url()))
        .bearer_auth(token.secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let challenge = options["publicKey"]["challenge"].as_str().unwrap().to_owned();
    let graph = tap2key_directory::Graph::me(&entra.app, entra.http.clone(), token.clone());
    let mut key = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let made = key.make_credential(&options).unwrap();
    let method = graph.register("Ada's key", &options, &made).await.unwrap();
    let test = graph.begin_test_sign_in(&method.id).await.unwrap();
    let assertion = key.get_assertion(&test);
    graph.finish_test_sign_in(&method.id, &test, &assertion).await.unwrap();

    let logs = setup::logs();
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(text.contains("an Entra access token was accepted"), "the broker's own trace was captured");
    assert!(!text.contains(token.secret()), "the user's access token is in the log");
    assert!(!text.contains("eyJ"), "something like a JWT (a user or app token, a client assertion) is in the log");
    assert!(!text.contains(&pass), "the pass is in the log");
    assert!(!text.contains(&challenge[..40]), "a challenge is in the log");
    assert!(!text.contains("BEGIN"), "a key or certificate is in the log");
}
