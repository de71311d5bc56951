//! The Graph passkey API through the client, against the demo directory over real HTTP
//! with the virtual key as the security key; and the exact request shape, captured by a
//! tiny stand-in for Graph.

mod common;

use std::{
    net::Ipv4Addr,
    sync::{Arc, Mutex},
    time::{Duration as StdDuration, SystemTime},
};

use axum::{
    Json, Router,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::{get, post},
};
use common::{Demo, SecurityKey, uuid_of};
use serde_json::{Value, json};
use tap2key_directory::{AccessToken, CreationOptions, DirectoryConfig, DirectoryError, Graph};
use tap2key_keys::{KeyError, NewCredential};
use tap2key_server::{DESKTOP_CLIENT_ID, graph::AttestationPolicy, oauth, tokens::ADMIN_ROLE};
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig};
use time::Duration;

#[tokio::test]
async fn register_list_test_sign_in_and_delete_with_the_virtual_key() {
    let demo = Demo::start("graph-cycle").await;
    let graph = demo.ada().await;
    let mut key = SecurityKey::new();

    let options = graph.creation_options().await.unwrap();
    assert_eq!(options.rp_id, "login.tap2key.test");
    assert_eq!(options.rp_name.as_deref(), Some("tap2key demo directory"));
    assert_eq!(options.user_id.len(), 51, "Entra's opaque user handle, decoded");
    assert_eq!((options.user_name.as_str(), options.user_display_name.as_str()), ("ada@contoso.com", "Ada Lovelace"));
    assert_eq!(options.algorithms, [-7, -257]);
    assert!(options.exclude_credentials.is_empty());
    assert!(options.resident_key && options.hmac_secret);
    assert_eq!(options.cred_protect, Some(1));
    assert_eq!(options.expires_at, Some(SystemTime::from(demo.start + Duration::minutes(5))));
    assert!(!options.is_expired(SystemTime::from(demo.start)));

    let credential = key.make_credential(&options).unwrap();
    let method = graph.register("  Ada's first key  ", &options, &credential).await.unwrap();
    assert_eq!(method.display_name, "Ada's first key");
    assert_eq!(method.model.as_deref(), Some("tap2key Virtual Key"));
    assert_eq!(method.aa_guid, Some(uuid_of(key.key.model().aaguid).to_string()));
    assert_eq!(method.attestation_level.as_deref(), Some("attested"));
    assert!(method.created_date_time.is_some());
    assert_eq!(graph.list().await.unwrap(), std::slice::from_ref(&method));

    let test = graph.begin_test_sign_in(&method.id).await.unwrap();
    assert_eq!(test.rp_id, "login.tap2key.test");
    assert_eq!(test.allow_credentials, std::slice::from_ref(&credential.credential_id));
    let assertion = key.get_assertion(&test);
    let result = graph.finish_test_sign_in(&method.id, &test, &assertion).await.unwrap();
    assert!(result.verified);
    assert!(result.sign_count > 0);
    // A second test sign-in: a fresh challenge, a higher counter.
    let again = graph.begin_test_sign_in(&method.id).await.unwrap();
    let second = graph.finish_test_sign_in(&method.id, &again, &key.get_assertion(&again)).await.unwrap();
    assert!(second.sign_count > result.sign_count);
    // The same answer twice: its challenge is spent.
    assert_eq!(graph.finish_test_sign_in(&method.id, &again, &key.get_assertion(&again)).await, Err(DirectoryError::ChallengeExpired));

    graph.delete(&method.id).await.unwrap();
    assert_eq!(graph.list().await.unwrap(), []);
    assert_eq!(graph.delete(&method.id).await, Err(DirectoryError::NotFound));
    assert_eq!(graph.begin_test_sign_in(&method.id).await.unwrap_err(), DirectoryError::NotFound);
}

#[tokio::test]
async fn a_key_registered_already_refuses_through_the_exclude_list() {
    let demo = Demo::start("graph-exclude").await;
    let graph = demo.ada().await;
    let mut key = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let credential = key.make_credential(&options).unwrap();
    graph.register("Ada's key", &options, &credential).await.unwrap();

    let options = graph.creation_options().await.unwrap();
    assert_eq!(options.exclude_credentials, std::slice::from_ref(&credential.credential_id));
    assert_eq!(key.make_credential(&options), Err(KeyError::CredentialExcluded));
    // Another key is welcome.
    let mut other = SecurityKey::new();
    let second = other.make_credential(&options).unwrap();
    graph.register("Ada's spare key", &options, &second).await.unwrap();
    assert_eq!(graph.list().await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_same_credential_posted_twice_is_already_registered() {
    let demo = Demo::start("graph-duplicate").await;
    let graph = demo.ada().await;
    let mut key = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let credential = key.make_credential(&options).unwrap();
    graph.register("Ada's key", &options, &credential).await.unwrap();
    let error = graph.register("Ada's key", &options, &credential).await.unwrap_err();
    assert!(matches!(&error, DirectoryError::AlreadyRegistered { message } if message.contains("already registered")), "{error:?}");
}

#[tokio::test]
async fn a_spent_or_expired_challenge_asks_for_fresh_options() {
    let demo = Demo::start("graph-challenge").await;
    let graph = demo.ada().await;
    let options = graph.creation_options().await.unwrap();
    let first = SecurityKey::new().make_credential(&options).unwrap();
    graph.register("Ada's key", &options, &first).await.unwrap();
    // Another key answering the same (now spent) options.
    let second = SecurityKey::new().make_credential(&options).unwrap();
    assert_eq!(graph.register("Ada's spare key", &options, &second).await, Err(DirectoryError::ChallengeExpired));

    let options = graph.creation_options().await.unwrap();
    let late = SecurityKey::new().make_credential(&options).unwrap();
    demo.clock.advance(Duration::minutes(6));
    assert!(options.is_expired(SystemTime::from(demo.clock.now())));
    assert_eq!(graph.register("Ada's late key", &options, &late).await, Err(DirectoryError::ChallengeExpired));
}

#[tokio::test]
async fn a_model_the_organization_does_not_allow() {
    let demo = Demo::start_with("graph-model", |config| {
        let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
        let other = uuid::Uuid::from_bytes(*b"another-model-01");
        config.attestation = AttestationPolicy::trust(key.attestation_root_der(), other, "Another Key");
    })
    .await;
    let graph = demo.ada().await;
    let options = graph.creation_options().await.unwrap();
    let credential = SecurityKey::new().make_credential(&options).unwrap();
    let error = graph.register("Ada's key", &options, &credential).await.unwrap_err();
    assert!(matches!(&error, DirectoryError::ModelNotAllowed { message } if message.contains("not allowed by your organization")), "{error:?}");
    assert_eq!(graph.list().await.unwrap(), []);
}

#[tokio::test]
async fn a_token_the_directory_does_not_accept_means_sign_in_again() {
    let demo = Demo::start("graph-401").await;
    let graph = Graph::me(&demo.config, demo.http.clone(), AccessToken::new("not.a.token"));
    assert_eq!(graph.list().await, Err(DirectoryError::SessionExpired));
    assert_eq!(graph.creation_options().await.unwrap_err(), DirectoryError::SessionExpired);
}

#[tokio::test]
async fn a_stopped_directory_is_unreachable() {
    let demo = Demo::start("graph-stopped").await;
    let graph = demo.ada().await;
    assert_eq!(graph.list().await.unwrap(), []);
    let Demo { server, .. } = demo;
    server.stop().await;
    assert_eq!(graph.list().await, Err(DirectoryError::Unreachable));
    assert_eq!(graph.creation_options().await.unwrap_err(), DirectoryError::Unreachable);
}

#[tokio::test]
async fn it_staff_manage_another_users_keys_by_address() {
    let demo = Demo::start("graph-admin").await;
    let ada = demo.ada().await;
    let options = ada.creation_options().await.unwrap();
    let method = ada.register("Ada's key", &options, &SecurityKey::new().make_credential(&options).unwrap()).await.unwrap();

    let store = &demo.server.state.store;
    let admin = store.create_user("it@contoso.com", "IT", demo.start).await.unwrap();
    let token = oauth::access_token(&demo.server.state, &admin, DESKTOP_CLIENT_ID, demo.start, vec![ADMIN_ROLE.to_owned()]);
    let it = Graph::user(&demo.config, demo.http.clone(), AccessToken::new(token), "ada@contoso.com");
    assert_eq!(it.list().await.unwrap(), std::slice::from_ref(&method));
    let options = it.creation_options().await.unwrap();
    assert_eq!(options.user_name, "ada@contoso.com");

    let grace = store.create_user("grace@contoso.com", "Grace", demo.start).await.unwrap();
    let token = oauth::access_token(&demo.server.state, &grace, DESKTOP_CLIENT_ID, demo.start, Vec::new());
    let nosy = Graph::user(&demo.config, demo.http.clone(), AccessToken::new(token), "ada@contoso.com");
    let error = nosy.list().await.unwrap_err();
    assert!(matches!(&error, DirectoryError::Forbidden { message } if message.contains("Authentication Administrator")), "{error:?}");
    let nobody = Graph::user(&demo.config, demo.http.clone(), it_token(&demo, &admin), "nobody@contoso.com");
    assert_eq!(nobody.list().await, Err(DirectoryError::NotFound));
}

fn it_token(demo: &Demo, admin: &tap2key_server::store::User) -> AccessToken {
    AccessToken::new(oauth::access_token(&demo.server.state, admin, DESKTOP_CLIENT_ID, demo.start, vec![ADMIN_ROLE.to_owned()]))
}

// ---------------------------------------------------------------------------------------
// A stand-in for Graph that records what it is sent
// ---------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<(HeaderMap, Value)>>>);

async fn stand_in(app: Router) -> DirectoryConfig {
    DirectoryConfig::demo(&common::serve(app).await)
}

fn options() -> CreationOptions {
    CreationOptions::from_json(&json!({
        "challengeTimeoutDateTime": "2026-11-22T14:05:00Z",
        "publicKey": {
            "challenge": "-_8Q", "rp": {"id": "login.microsoft.com", "name": "Microsoft"},
            "user": {"id": "AQID", "name": "ada@contoso.com", "displayName": "Ada"},
        },
    }))
    .unwrap()
}

#[tokio::test]
async fn the_registration_body_is_exactly_what_graph_takes() {
    let captured = Captured::default();
    let record = captured.clone();
    let app = Router::new().route(
        "/v1.0/me/authentication/fido2Methods",
        post(move |headers: HeaderMap, Json(body): Json<Value>| async move {
            record.0.lock().unwrap().push((headers, body));
            (StatusCode::CREATED, Json(json!({"@odata.context": "x", "id": "m-1", "displayName": "whatever", "passkeyType": "deviceBound", "newField": [1]})))
        }),
    );
    let config = stand_in(app).await;
    let graph = Graph::me(&config, reqwest::Client::new(), AccessToken::new("token-123"));
    let credential = NewCredential { credential_id: vec![0xfb, 0xff, 0xfe], attestation_object: vec![0xa3, 0x63, 0x66, 0x6d, 0x74], authenticator_data: vec![0; 37] };
    let name = "  Ada Lovelace's very own security key number one  ";
    let method = graph.register(name, &options(), &credential).await.unwrap();
    assert_eq!((method.id.as_str(), method.display_name.as_str(), method.model), ("m-1", "whatever", None));

    let (headers, body) = captured.0.lock().unwrap().pop().unwrap();
    assert_eq!(headers["authorization"], "Bearer token-123");
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
    let client_data = r#"{"type":"webauthn.create","challenge":"-_8Q","origin":"https://login.microsoft.com","crossOrigin":false}"#;
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    assert_eq!(
        body,
        json!({
            "displayName": "Ada Lovelace's very own securi",
            "publicKeyCredential": {
                "id": "-__-",
                "response": {"clientDataJSON": URL_SAFE_NO_PAD.encode(client_data), "attestationObject": "o2NmbXQ"},
                "clientExtensionResults": {},
            },
        })
    );
    assert_eq!(body["displayName"].as_str().unwrap().chars().count(), 30);
}

#[tokio::test]
async fn graphs_refusals_in_the_flows_terms() {
    let app = Router::new()
        .route(
            "/v1.0/me/authentication/fido2Methods/creationOptions",
            get(|| async {
                let body = json!({"error": {"code": "methodNotAllowed", "message": "The method is not supported for this URL.", "innerError": {}}});
                (StatusCode::METHOD_NOT_ALLOWED, Json(body))
            }),
        )
        .route(
            "/v1.0/me/authentication/fido2Methods",
            get(|| async { (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "12")], "slow down").into_response() }),
        )
        .route(
            "/v1.0/users/{user}/authentication/fido2Methods",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": {"code": "serviceNotAvailable", "message": "later"}}))) }),
        );
    let config = stand_in(app).await;
    let me = Graph::me(&config, reqwest::Client::new(), AccessToken::new("t"));
    assert_eq!(me.creation_options().await.unwrap_err(), DirectoryError::SelfServiceNotSupported);
    assert_eq!(me.list().await, Err(DirectoryError::Unavailable { retry_after_seconds: Some(12) }));
    let ada = Graph::user(&config, reqwest::Client::new(), AccessToken::new("t"), "ada@contoso.com");
    assert_eq!(ada.list().await, Err(DirectoryError::Unavailable { retry_after_seconds: None }));
}

#[tokio::test]
async fn a_directory_that_does_not_answer_in_time_is_unreachable() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let http = reqwest::Client::builder().timeout(StdDuration::from_millis(300)).build().unwrap();
    let graph = Graph::me(&DirectoryConfig::demo(&base), http, AccessToken::new("t"));
    assert_eq!(graph.list().await, Err(DirectoryError::Unreachable));
}

#[tokio::test]
async fn the_list_follows_next_links_on_graphs_own_host_only() {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let next = format!("{base}/v1.0/me/authentication/fido2Methods?$skiptoken=page2");
    let app = Router::new()
        .route(
            "/v1.0/me/authentication/fido2Methods",
            get(move |query: axum::extract::RawQuery| {
                let next = next.clone();
                async move {
                    match query.0.as_deref() {
                        None => Json(json!({"value": [{"id": "m-1", "displayName": "one"}], "@odata.nextLink": next})),
                        Some(_) => Json(json!({"value": [{"id": "m-2", "displayName": "two"}]})),
                    }
                }
            }),
        )
        .route(
            "/v1.0/users/{user}/authentication/fido2Methods",
            get(|| async { Json(json!({"value": [], "@odata.nextLink": "https://evil.example/v1.0/steal"})) }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = DirectoryConfig::demo(&base);
    let me = Graph::me(&config, reqwest::Client::new(), AccessToken::new("t"));
    let ids: Vec<String> = me.list().await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(ids, ["m-1", "m-2"]);
    let ada = Graph::user(&config, reqwest::Client::new(), AccessToken::new("t"), "ada@contoso.com");
    assert!(matches!(ada.list().await, Err(DirectoryError::Protocol(_))));
}
