//! Signing in with a Temporary Access Pass against the demo directory over real HTTP:
//! the authorize URL, the loopback redirect, the code + PKCE exchange, the ID token, and
//! every way the sign-in page can send the person back.

mod common;

use std::{
    net::{Ipv4Addr, Ipv6Addr, SocketAddr},
    time::{Duration as StdDuration, SystemTime},
};

use common::Demo;
use tap2key_directory::{DirectoryConfig, DirectoryError, Graph, SignIn, SignInProblem, testing::type_tap};
use time::Duration;

fn query(url: &url::Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_tap_sign_in_gives_a_token_that_works_on_graph() {
    let demo = Demo::start("sign-in-happy").await;
    let (_, pass) = demo.user_with_tap("ada@contoso.com", true).await;
    let tokens = demo.sign_in("ada@contoso.com", &pass).await;
    assert_eq!(tokens.account.as_deref(), Some("ada@contoso.com"));
    let expires = tokens.expires_at.expect("the directory says when the token expires");
    let lifetime = expires.duration_since(SystemTime::now()).unwrap();
    assert!(lifetime > StdDuration::from_secs(3500) && lifetime <= StdDuration::from_secs(3600), "{lifetime:?}");

    let graph = Graph::me(&demo.config, demo.http.clone(), tokens.access_token);
    assert_eq!(graph.list().await.unwrap(), []);
}

#[tokio::test]
async fn the_authorize_url_asks_for_code_pkce_s256_and_a_fresh_login() {
    let demo = Demo::start("sign-in-url").await;
    let sign_in = SignIn::begin(&demo.config, &demo.http, "ada@contoso.com").await.unwrap();
    let url = sign_in.authorize_url();
    assert_eq!(url.path(), "/demo/oauth2/v2.0/authorize");
    assert!(url.as_str().starts_with(demo.server.base_url()));
    let pairs = query(url);
    assert_eq!(param(&pairs, "response_type"), Some("code"));
    assert_eq!(param(&pairs, "client_id"), Some("tap2key-desktop"));
    assert_eq!(param(&pairs, "login_hint"), Some("ada@contoso.com"));
    assert_eq!(param(&pairs, "prompt"), Some("login"));
    assert_eq!(param(&pairs, "code_challenge_method"), Some("S256"));
    assert_eq!(param(&pairs, "code_challenge").map(str::len), Some(43));
    assert_eq!(param(&pairs, "scope"), Some("openid profile api://tap2key-onboarding/Passkeys.Register"));
    let redirect = param(&pairs, "redirect_uri").unwrap();
    let port: u16 = redirect.strip_prefix("http://localhost:").and_then(|rest| rest.strip_suffix('/')).unwrap().parse().unwrap();
    assert_ne!(port, 0);
    let (state, nonce) = (param(&pairs, "state").unwrap(), param(&pairs, "nonce").unwrap());
    assert!(state.len() >= 16 && nonce.len() >= 16 && state != nonce);

    // A second sign-in has its own port, state, nonce and challenge.
    let other = SignIn::begin(&demo.config, &demo.http, "ada@contoso.com").await.unwrap();
    let other_pairs = query(other.authorize_url());
    for name in ["redirect_uri", "state", "nonce", "code_challenge"] {
        assert_ne!(param(&pairs, name), param(&other_pairs, name), "{name}");
    }
}

#[tokio::test]
async fn a_redirect_with_another_state_is_tampering() {
    let demo = Demo::start("sign-in-state").await;
    let sign_in = SignIn::begin(&demo.config, &demo.http, "ada@contoso.com").await.unwrap();
    let port = port_of(&sign_in);
    let attacker = async {
        let url = format!("http://127.0.0.1:{port}/?code=stolen-or-planted&state=not-yours");
        reqwest::get(url).await.unwrap().text().await.unwrap()
    };
    let (page, outcome) = tokio::join!(attacker, sign_in.finish());
    assert_eq!(outcome.unwrap_err(), DirectoryError::SignInTampered);
    assert!(page.contains("to keep your account safe"), "{page}");
    assert!(!page.contains("stolen-or-planted"), "nothing from the request is echoed");
}

#[tokio::test]
async fn other_requests_are_ignored_until_the_browser_comes_back() {
    let demo = Demo::start("sign-in-favicon").await;
    let (_, pass) = demo.user_with_tap("ada@contoso.com", false).await;
    let sign_in = SignIn::begin(&demo.config, &demo.http, "ada@contoso.com").await.unwrap();
    let port = port_of(&sign_in);
    let url = sign_in.authorize_url().clone();
    let browser = async {
        for path in ["/favicon.ico", "/", "/?state=only"] {
            let answer = reqwest::get(format!("http://127.0.0.1:{port}{path}")).await.unwrap();
            assert_eq!(answer.status(), 404, "{path}");
        }
        // A wrong pass shows the page again, and the app keeps waiting.
        assert_eq!(type_tap(&demo.http, &url, "ada@contoso.com", "not-the-pass").await, Err("tap_wrong".into()));
        assert_eq!(type_tap(&demo.http, &url, "nobody@contoso.com", &pass).await, Err("user_not_found".into()));
        type_tap(&demo.http, &url, "ada@contoso.com", &pass).await
    };
    let (typed, outcome) = tokio::join!(browser, sign_in.finish());
    typed.unwrap();
    assert_eq!(outcome.unwrap().account.as_deref(), Some("ada@contoso.com"));
}

#[tokio::test]
async fn the_redirect_is_taken_on_ipv6_loopback_too() {
    let demo = Demo::start("sign-in-ipv6").await;
    let sign_in = SignIn::begin(&demo.config, &demo.http, "ada@contoso.com").await.unwrap();
    let port = port_of(&sign_in);
    let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
    if tokio::net::TcpStream::connect(v6).await.is_err() {
        eprintln!("no [::1] here: skipped");
        return;
    }
    let browser = async { reqwest::get(format!("http://[::1]:{port}/?error=access_denied&state=x")).await.unwrap().status() };
    let (status, outcome) = tokio::join!(browser, sign_in.finish());
    assert_eq!(status, 200);
    assert_eq!(outcome.unwrap_err(), DirectoryError::SignInTampered, "the answer was read, and its state checked");
}

/// Signs Ada in with `pass` and returns why the sign-in was refused (the browser must
/// have got back to the app).
async fn refused(demo: &Demo, pass: &str) -> DirectoryError {
    let (typed, outcome) = demo.sign_in_typing("ada@contoso.com", pass).await;
    typed.expect("the browser went back to the app");
    outcome.unwrap_err()
}

#[tokio::test]
async fn an_expired_pass() {
    let demo = Demo::start("sign-in-expired").await;
    let (_, pass) = demo.user_with_tap("ada@contoso.com", false).await;
    demo.clock.advance(Duration::minutes(61));
    assert_eq!(refused(&demo, &pass).await, DirectoryError::SignIn(SignInProblem::TapExpired));
}

#[tokio::test]
async fn a_pass_not_valid_yet() {
    let demo = Demo::start("sign-in-not-yet").await;
    let store = &demo.server.state.store;
    let user = store.create_user("ada@contoso.com", "Ada Lovelace", demo.start).await.unwrap();
    let tap = store.issue_tap(user.id, demo.start + Duration::hours(2), Duration::hours(1), false, demo.start).await.unwrap();
    assert_eq!(refused(&demo, &tap.pass).await, DirectoryError::SignIn(SignInProblem::TapNotYetValid));
}

#[tokio::test]
async fn a_one_time_pass_used_already() {
    let demo = Demo::start("sign-in-used").await;
    let (_, pass) = demo.user_with_tap("ada@contoso.com", true).await;
    demo.sign_in("ada@contoso.com", &pass).await;
    assert_eq!(refused(&demo, &pass).await, DirectoryError::SignIn(SignInProblem::TapUsed));
}

#[tokio::test]
async fn no_pass_at_all() {
    let demo = Demo::start("sign-in-missing").await;
    demo.server.state.store.create_user("ada@contoso.com", "Ada Lovelace", demo.start).await.unwrap();
    assert_eq!(refused(&demo, "ABCD-EFGH").await, DirectoryError::SignIn(SignInProblem::TapMissing));
}

#[tokio::test]
async fn too_many_wrong_passes_lock_the_sign_in() {
    let demo = Demo::start("sign-in-locked").await;
    let (_, pass) = demo.user_with_tap("ada@contoso.com", false).await;
    let sign_in = SignIn::begin(&demo.config, &demo.http, "ada@contoso.com").await.unwrap();
    let url = sign_in.authorize_url().clone();
    let person = async {
        for _ in 0..4 {
            assert_eq!(type_tap(&demo.http, &url, "ada@contoso.com", "wrong").await, Err("tap_wrong".into()));
        }
        type_tap(&demo.http, &url, "ada@contoso.com", "wrong").await
    };
    let (typed, outcome) = tokio::join!(person, sign_in.finish());
    typed.unwrap();
    assert_eq!(outcome.unwrap_err(), DirectoryError::SignIn(SignInProblem::Locked));
    // Even the right pass is refused now.
    assert_eq!(refused(&demo, &pass).await, DirectoryError::SignIn(SignInProblem::Locked));
}

#[tokio::test]
async fn a_directory_that_is_not_there_fails_before_the_browser_opens() {
    let port = {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = DirectoryConfig::demo(&format!("http://127.0.0.1:{port}"));
    let error = SignIn::begin(&config, &reqwest::Client::new(), "ada@contoso.com").await.unwrap_err();
    assert_eq!(error, DirectoryError::Unreachable);
}

#[tokio::test]
async fn an_unknown_tenant_is_refused() {
    let demo = Demo::start("sign-in-tenant").await;
    let config = DirectoryConfig { tenant: "contoso".into(), ..demo.config.clone() };
    let error = SignIn::begin(&config, &demo.http, "ada@contoso.com").await.unwrap_err();
    assert!(matches!(error, DirectoryError::Refused { status: 404, .. }), "{error:?}");
}

fn port_of(sign_in: &SignIn) -> u16 {
    let pairs = query(sign_in.authorize_url());
    let redirect = param(&pairs, "redirect_uri").unwrap();
    redirect.trim_start_matches("http://localhost:").trim_end_matches('/').parse().unwrap()
}
