//! Direct mode, the whole job: the person signs in at the directory, and the app talks to a
//! Graph-shaped passkey API that has no test sign-in (as Microsoft Graph has none). The flow
//! registers there and checks the test sign-in itself, against the key's attested public
//! key; a recording pass-through in front of the API shows that no test sign-in was asked
//! of it. Stand-ins answer as Microsoft does today for `/me` (405) or without consent (403).

mod common;

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::Request,
    http::{
        StatusCode,
        header::{AUTHORIZATION, CONTENT_TYPE},
    },
    response::{IntoResponse, Response},
    routing::get,
};
use common::*;
use serde_json::json;
use tap2key_directory::{DirectoryConfig, PasskeyApi};
use tap2key_flow::{Failure, Intent, Step, WayForward};
use tap2key_keys::KeyPorts;
use tap2key_server::store::AuditAction;
use tap2key_virtual_key::VirtualKeyConfig;

/// `app` on a random loopback port: its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// A pass-through to `target` that writes down every request as "METHOD /path".
async fn recording_proxy(target: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (record, http) = (seen.clone(), reqwest::Client::new());
    let app = Router::new().fallback(move |request: Request| {
        let (record, http, target) = (record.clone(), http.clone(), target.clone());
        async move {
            let (parts, body) = request.into_parts();
            record.lock().unwrap().push(format!("{} {}", parts.method, parts.uri.path()));
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let path = parts.uri.path_and_query().map_or("/", |path| path.as_str());
            let mut forward = http.request(parts.method.clone(), format!("{target}{path}")).body(body.to_vec());
            for name in [AUTHORIZATION, CONTENT_TYPE] {
                if let Some(value) = parts.headers.get(&name) {
                    forward = forward.header(name, value);
                }
            }
            let answer = forward.send().await.unwrap();
            let (status, content_type) = (answer.status(), answer.headers().get(CONTENT_TYPE).cloned());
            let mut response: Response = (status, answer.bytes().await.unwrap()).into_response();
            if let Some(content_type) = content_type {
                response.headers_mut().insert(CONTENT_TYPE, content_type);
            }
            response
        }
    });
    (serve(app).await, seen)
}

/// Sign-in at `directory`; the passkey API at `api_base` + /v1.0, taken as Graph's.
fn direct_config(directory: &Directory, api_base: &str) -> DirectoryConfig {
    let graph = format!("{api_base}/v1.0").parse().unwrap();
    DirectoryConfig { graph, api: PasskeyApi::GraphDirect, ..directory.config() }
}

fn base_of(directory: &Directory) -> String {
    directory.config().authority.as_str().trim_end_matches('/').to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_mode_registers_and_checks_the_test_sign_in_itself() {
    let directory = Directory::start("direct").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let (proxy, seen) = recording_proxy(base_of(&directory)).await;
    let ports = KeyPorts::new(false);
    let (key, _) = plug_in(&ports, VirtualKeyConfig::default());
    let flow = start_flow_at(direct_config(&directory, &proxy), &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    reach(&flow, "keyFound").await;
    flow.send(Intent::UseKey);
    reach(&flow, "choosePin").await;
    flow.send(choose_pin("480257"));
    reach(&flow, "namingKey").await;
    flow.send(Intent::NameKey { name: "Ada's key".into() });
    let Step::Done { key: registered } = reach(&flow, "done").await else { unreachable!() };
    assert_in_order(&history(&flow), &["namingKey", "registering", "testSignIn", "done"]);
    assert!(registered.sign_count >= 1, "the app saw the test sign-in's counter");

    let passkeys = directory.passkeys(&user).await;
    assert_eq!(passkeys.len(), 1);
    assert_eq!(registered.method_id, passkeys[0].method_id.to_string());
    assert_eq!(key.credentials()[0].id, passkeys[0].credential_id);

    let seen = seen.lock().unwrap().clone();
    assert!(seen.contains(&"GET /v1.0/me/authentication/fido2Methods/creationOptions".to_owned()), "{seen:?}");
    assert!(seen.contains(&"POST /v1.0/me/authentication/fido2Methods".to_owned()), "{seen:?}");
    assert!(!seen.iter().any(|request| request.contains("testSignIn")), "the API was asked for a test sign-in: {seen:?}");
    let trail = directory.state.store.audit_trail(Some(user.id), 100).await.unwrap();
    assert!(trail.iter().any(|event| event.action == AuditAction::Registration && event.outcome == "success"));
    assert!(!trail.iter().any(|event| event.action == AuditAction::TestSignIn), "the directory ran a test sign-in");
    flow.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
}

/// Up to the PIN, with Graph answering `status` and `body` to every passkey call: the failure.
async fn refused_by_graph(name: &str, status: StatusCode, body: serde_json::Value) -> (Failure, Vec<WayForward>, bool) {
    let directory = Directory::start(name).await;
    let (_, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let answer = move || {
        let body = body.clone();
        async move { (status, Json(body)) }
    };
    let app = Router::new()
        .route("/v1.0/me/authentication/fido2Methods/creationOptions", get(answer.clone()))
        .route("/v1.0/me/authentication/fido2Methods", get(answer.clone()).post(answer));
    let graph = serve(app).await;
    let ports = KeyPorts::new(false);
    let (key, _) = plug_in(&ports, VirtualKeyConfig::default());
    let flow = start_flow_at(direct_config(&directory, &graph), &ports);

    sign_in(&flow, "ada@contoso.com", &tap).await;
    reach(&flow, "keyFound").await;
    flow.send(Intent::UseKey);
    reach(&flow, "choosePin").await;
    flow.send(choose_pin("480257"));
    let (failure, cleanup, ways) = failure(&flow).await;
    assert!(cleanup.is_empty());
    let untouched = key.credentials().is_empty() && !key.has_pin();
    flow.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
    (failure, ways, untouched)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsoft_refusing_me_means_the_organisation_needs_the_onboarding_service() {
    let body = json!({"error": {"code": "methodNotAllowed", "message": "The method is not supported for this URL.", "innerError": {}}});
    let (failure, ways, untouched) = refused_by_graph("direct-405", StatusCode::METHOD_NOT_ALLOWED, body).await;
    assert_eq!(failure, Failure::SelfServiceNotSupported);
    assert_eq!(ways, [WayForward::AskIt, WayForward::StartOver]);
    assert!(untouched, "nothing was done to the key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_forbidding_it_means_the_account_may_not() {
    let body = json!({"error": {"code": "accessDenied", "message": "Request Authorization failed.", "innerError": {}}});
    let (failure, ways, untouched) = refused_by_graph("direct-403", StatusCode::FORBIDDEN, body).await;
    assert_eq!(failure, Failure::NotPermitted { message: "Request Authorization failed.".into() });
    assert_eq!(ways, [WayForward::AskIt, WayForward::StartOver]);
    assert!(untouched);
}
