//! Against a scripted Graph and token endpoint on 127.0.0.1: each Graph request is recorded
//! and answered with the next scripted answer.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Instant,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method as HttpMethod, StatusCode as HttpStatus, Uri},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::json;

use super::*;
use crate::entra::{GraphCredential, entra_token_url, test_support::{BROKER_CLIENT_ID, OID, TENANT}};

/// One request as Graph saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    /// Path and query, as sent (percent-encoding kept).
    target: String,
    headers: HeaderMap,
    body: Vec<u8>,
    at: Instant,
}

impl Seen {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

/// An answer to script: status, headers, body.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn answer(status: u16, body: Value) -> Answer {
    Answer { status, headers: vec![("content-type", "application/json".into())], body: body.to_string().into_bytes() }
}

fn busy(status: u16, retry_after: Option<&str>) -> Answer {
    let mut answer = graph_error(status, "TooManyRequests", "Too many requests.");
    answer.headers.extend(retry_after.map(|seconds| ("retry-after", seconds.to_owned())));
    answer
}

fn graph_error(status: u16, code: &str, message: &str) -> Answer {
    let body = json!({"error": {"code": code, "message": message, "innerError": {"date": "2026-03-02T09:30:00", "request-id": "r-1", "client-request-id": "c-1"}}});
    answer(status, body)
}

#[derive(Default)]
struct Stand {
    script: Mutex<VecDeque<Answer>>,
    seen: Mutex<Vec<Seen>>,
    token_hits: AtomicUsize,
    refuse_tokens: AtomicBool,
}

struct Graph {
    base: Url,
    /// The Graph URL the client is given: `{base}/graph/`.
    graph: Url,
    stand: Arc<Stand>,
    client: GraphClient,
}

/// Short waits, so the retry tests take about a second.
fn quick() -> RetryPolicy {
    RetryPolicy { max_retries: 3, max_wait: Duration::from_secs(2), budget: Duration::from_secs(3), base_backoff: Duration::from_millis(10) }
}

impl Graph {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let stand = Arc::new(Stand::default());
        let app = Router::new().route("/{tenant}/oauth2/v2.0/token", post(token)).fallback(graph).with_state(stand.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let tokens = AppTokenSource::new(entra_token_url(&base, TENANT).unwrap(), BROKER_CLIENT_ID, GraphCredential::Secret("not-a-real-secret".to_owned().into()));
        let graph = base.join("graph/").unwrap();
        let client = GraphClient::new(graph.clone(), tokens, reqwest::Client::new()).with_retry(quick());
        Self { base, graph, stand, client }
    }

    fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.stand.script.lock().unwrap().extend(answers);
    }

    fn seen(&self) -> Vec<Seen> {
        self.stand.seen.lock().unwrap().clone()
    }

    fn token_hits(&self) -> usize {
        self.stand.token_hits.load(Ordering::SeqCst)
    }

    /// `/graph/v1.0/users/{OID}/authentication/fido2Methods{rest}`.
    fn path(&self, rest: &str) -> String {
        format!("/graph/v1.0/users/{OID}/authentication/fido2Methods{rest}")
    }
}

fn user() -> Uuid {
    OID.parse().unwrap()
}

async fn token(State(stand): State<Arc<Stand>>) -> Response {
    let hit = stand.token_hits.fetch_add(1, Ordering::SeqCst) + 1;
    if stand.refuse_tokens.load(Ordering::SeqCst) {
        let body = json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x", "error_codes": [7000215]});
        return (HttpStatus::UNAUTHORIZED, Json(body)).into_response();
    }
    Json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": format!("app-token-{hit}")})).into_response()
}

async fn graph(State(stand): State<Arc<Stand>>, method: HttpMethod, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let target = uri.path_and_query().map(ToString::to_string).unwrap_or_default();
    stand.seen.lock().unwrap().push(Seen { method: method.to_string(), target, headers, body: body.to_vec(), at: Instant::now() });
    let Some(answer) = stand.script.lock().unwrap().pop_front() else {
        return (HttpStatus::IM_A_TEAPOT, "unscripted request").into_response();
    };
    let mut response = (HttpStatus::from_u16(answer.status).unwrap(), answer.body).into_response();
    for (name, value) in answer.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

fn assert_common_headers(seen: &Seen, token: &str) {
    assert_eq!(seen.header("authorization"), format!("Bearer {token}"));
    assert_eq!(seen.header("accept"), "application/json");
    assert!(Uuid::parse_str(seen.header("client-request-id")).is_ok(), "client-request-id {:?}", seen.header("client-request-id"));
}

fn options() -> Value {
    json!({
        "challengeTimeoutDateTime": "2026-03-02T09:35:00Z",
        "publicKey": {"rp": {"id": "login.microsoft.com", "name": "Microsoft"}, "challenge": "Y2hhbGxlbmdl", "futureField": {"x": 1}},
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.webauthnCredentialCreationOptions",
    })
}

#[tokio::test]
async fn creation_options_and_register_send_what_graph_expects() {
    let graph = Graph::start().await;
    let method = json!({"id": "m-1", "displayName": "Work key", "aaGuid": "cb69481e-8ff7-4039-93ec-0a2729a154a8", "attestationLevel": "attested"});
    graph.script([answer(200, options()), answer(201, method.clone())]);

    assert_eq!(graph.client.creation_options(user()).await.unwrap(), options(), "every field kept");
    let body = json!({"displayName": "Work key", "publicKeyCredential": {"id": "abc", "response": {"clientDataJSON": "x", "attestationObject": "y"}, "clientExtensionResults": {}}});
    assert_eq!(graph.client.register(user(), &body).await.unwrap(), method);

    let seen = graph.seen();
    assert_eq!((seen[0].method.as_str(), seen[0].target.as_str()), ("GET", graph.path("/creationOptions").as_str()));
    assert_eq!((seen[1].method.as_str(), seen[1].target.as_str()), ("POST", graph.path("").as_str()));
    for request in &seen {
        assert_common_headers(request, "app-token-1");
    }
    assert_eq!(seen[1].header("content-type"), "application/json");
    assert_eq!(serde_json::from_slice::<Value>(&seen[1].body).unwrap(), body);
    assert_ne!(seen[0].header("client-request-id"), seen[1].header("client-request-id"), "a fresh id per request");
    assert_eq!(graph.token_hits(), 1, "the token is cached");
}

#[tokio::test]
async fn delete_encodes_the_id_as_one_segment() {
    let graph = Graph::start().await;
    graph.script([answer(204, Value::Null), graph_error(404, "itemNotFound", "Not found.")]);
    graph.client.delete(user(), "aB-_c+d/e==").await.unwrap();
    assert_eq!(graph.client.delete(user(), "gone").await, Err(UpstreamError::NotFound));
    for id in ["", ".", ".."] {
        assert_eq!(graph.client.delete(user(), id).await, Err(UpstreamError::NotFound), "{id:?}");
    }

    let seen = graph.seen();
    assert_eq!(seen.len(), 2, "no request for an id that cannot be one");
    assert_eq!((seen[0].method.as_str(), seen[0].target.as_str()), ("DELETE", graph.path("/aB-_c+d%2Fe==").as_str()));
    assert_common_headers(&seen[0], "app-token-1");
    assert_eq!(seen[1].target, graph.path("/gone"));
}

#[tokio::test]
async fn throttled_waits_for_retry_after_then_retries() {
    let graph = Graph::start().await;
    graph.script([busy(429, Some("1")), answer(200, options())]);
    assert_eq!(graph.client.creation_options(user()).await.unwrap(), options());
    let seen = graph.seen();
    assert_eq!(seen.len(), 2);
    // A lower bound only: the client slept at least what Graph asked for.
    assert!(seen[1].at.duration_since(seen[0].at) >= Duration::from_secs(1));
    assert_ne!(seen[0].header("client-request-id"), seen[1].header("client-request-id"));
}

#[tokio::test]
async fn unavailable_without_retry_after_backs_off_then_retries() {
    let graph = Graph::start().await;
    graph.script([busy(503, None), busy(502, None), answer(200, options())]);
    assert_eq!(graph.client.creation_options(user()).await.unwrap(), options());
    assert_eq!(graph.seen().len(), 3);
}

#[tokio::test]
async fn retry_after_beyond_the_policy_is_passed_on_at_once() {
    let graph = Graph::start().await;
    graph.script([busy(429, Some("120"))]);
    let error = graph.client.creation_options(user()).await.unwrap_err();
    assert_eq!(error, UpstreamError::Unavailable { retry_after: Some(Duration::from_secs(120)) });
    assert_eq!(graph.seen().len(), 1);
    assert_eq!(error.to_graph_error().retry_after, Some(Duration::from_secs(120)));
}

#[tokio::test]
async fn retries_run_out() {
    let graph = Graph::start().await;
    graph.script((0..4).map(|_| busy(503, None)));
    graph.script([answer(200, options())]);
    assert_eq!(graph.client.creation_options(user()).await, Err(UpstreamError::Unavailable { retry_after: None }));
    assert_eq!(graph.seen().len(), 4, "the first try and three retries");
}

#[tokio::test]
async fn a_refused_token_is_fetched_again_once() {
    let graph = Graph::start().await;
    graph.script([graph_error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."), answer(200, options())]);
    assert_eq!(graph.client.creation_options(user()).await.unwrap(), options());
    let seen = graph.seen();
    assert_common_headers(&seen[0], "app-token-1");
    assert_common_headers(&seen[1], "app-token-2");
    assert_eq!(graph.token_hits(), 2);
}

#[tokio::test]
async fn a_token_refused_twice_is_unauthorized() {
    let graph = Graph::start().await;
    let expired = "Access token has expired or is not yet valid.";
    graph.script([graph_error(401, "InvalidAuthenticationToken", expired), graph_error(401, "InvalidAuthenticationToken", expired)]);
    let error = graph.client.creation_options(user()).await.unwrap_err();
    assert_eq!(error, UpstreamError::Unauthorized { message: expired.into() });
    assert_eq!(error.to_graph_error().status, HttpStatus::SERVICE_UNAVAILABLE, "not the person's 401");
    assert_eq!((graph.token_hits(), graph.seen().len()), (2, 2));
}

#[tokio::test]
async fn refusals_keep_graphs_code_and_words() {
    let graph = Graph::start().await;
    graph.script([
        graph_error(403, "accessDenied", "Request Authorization failed."),
        graph_error(400, "invalidRequest", "The security key model is not allowed by your organization."),
        graph_error(404, "itemNotFound", "User not found."),
        graph_error(405, "methodNotAllowed", "The method is not supported for this URL."),
        graph_error(409, "conflict", "Already there."),
    ]);
    let call = || graph.client.creation_options(user());
    assert_eq!(call().await, Err(UpstreamError::Forbidden { code: "accessDenied".into(), message: "Request Authorization failed.".into() }));
    assert_eq!(call().await, Err(UpstreamError::BadRequest { code: "invalidRequest".into(), message: "The security key model is not allowed by your organization.".into() }));
    assert_eq!(call().await, Err(UpstreamError::NotFound));
    assert_eq!(call().await, Err(UpstreamError::MethodNotAllowed));
    assert_eq!(call().await, Err(UpstreamError::Other { status: 409, code: "conflict".into(), message: "Already there.".into() }));
    assert_eq!(graph.seen().len(), 5, "none retried");
}

#[tokio::test]
async fn list_follows_next_links_on_the_graph_host() {
    let graph = Graph::start().await;
    let next = |token: &str| format!("{}v1.0/users/{OID}/authentication/fido2Methods?$skiptoken={token}", graph.graph);
    graph.script([
        answer(200, json!({"value": [{"id": "a"}, {"id": "b"}], "@odata.nextLink": next("p2")})),
        answer(200, json!({"value": [{"id": "c"}], "@odata.nextLink": next("p3")})),
        answer(200, json!({"value": [{"id": "d"}]})),
    ]);
    let methods = graph.client.list(user()).await.unwrap();
    assert_eq!(methods.iter().map(|m| m["id"].as_str().unwrap()).collect::<Vec<_>>(), ["a", "b", "c", "d"]);
    let seen = graph.seen();
    assert_eq!(seen.iter().map(|s| s.target.as_str()).collect::<Vec<_>>(), [graph.path(""), graph.path("?$skiptoken=p2"), graph.path("?$skiptoken=p3")]);
    for request in &seen {
        assert_common_headers(request, "app-token-1");
    }
}

#[tokio::test]
async fn list_refuses_a_next_link_elsewhere() {
    let graph = Graph::start().await;
    let port = graph.base.port().unwrap();
    for elsewhere in [
        format!("http://localhost:{port}/graph/v1.0/users/{OID}/authentication/fido2Methods?$skiptoken=x"),
        format!("http://127.0.0.1:{port}/other/v1.0/users/{OID}/authentication/fido2Methods"),
        "https://graph.example/graph/v1.0/next".to_owned(),
        "not a url".to_owned(),
    ] {
        graph.script([answer(200, json!({"value": [{"id": "a"}], "@odata.nextLink": elsewhere}))]);
        assert!(matches!(graph.client.list(user()).await, Err(UpstreamError::Protocol(_))), "{elsewhere}");
    }
    assert_eq!(graph.seen().len(), 4, "no link followed");
}

#[tokio::test]
async fn answers_that_are_not_graphs() {
    let graph = Graph::start().await;
    graph.script([
        Answer { status: 200, headers: vec![("content-type", "text/html".into())], body: b"<html>proxy login</html>".to_vec() },
        answer(200, json!({"values": []})),
        Answer { status: 200, headers: vec![], body: vec![b' '; MAX_RESPONSE + 1] },
    ]);
    assert!(matches!(graph.client.creation_options(user()).await, Err(UpstreamError::Protocol(_))));
    assert!(matches!(graph.client.list(user()).await, Err(UpstreamError::Protocol(_))));
    assert!(matches!(graph.client.creation_options(user()).await, Err(UpstreamError::Protocol(_))));
}

#[tokio::test]
async fn the_brokers_own_sign_in_failing() {
    let graph = Graph::start().await;
    graph.stand.refuse_tokens.store(true, Ordering::SeqCst);
    let error = graph.client.creation_options(user()).await.unwrap_err();
    assert!(matches!(&error, UpstreamError::AppCredentialsRefused(refused) if refused.aadsts_code() == Some(7000215)), "{error:?}");
    assert!(error.to_graph_error().message.contains("(AADSTS7000215)"));
    assert!(graph.seen().is_empty(), "Graph never asked");
}

#[tokio::test]
async fn no_connection_is_unavailable() {
    // A port that was free a moment ago: nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let graph = Graph::start().await;
    let client = GraphClient::new(Url::parse(&format!("http://{closed}/")).unwrap(), AppTokenSource::new(entra_token_url(&graph.base, TENANT).unwrap(), BROKER_CLIENT_ID, GraphCredential::Secret("s".to_owned().into())), reqwest::Client::new())
        .with_retry(quick());
    assert_eq!(client.creation_options(user()).await, Err(UpstreamError::Unavailable { retry_after: None }));

    // The token endpoint unreachable is an outage too, not IT's credential problem.
    let tokens = AppTokenSource::new(entra_token_url(&Url::parse(&format!("http://{closed}/")).unwrap(), TENANT).unwrap(), BROKER_CLIENT_ID, GraphCredential::Secret("s".to_owned().into()));
    let client = GraphClient::new(graph.graph.clone(), tokens, reqwest::Client::new()).with_retry(quick());
    assert_eq!(client.creation_options(user()).await, Err(UpstreamError::Unavailable { retry_after: None }));
}
