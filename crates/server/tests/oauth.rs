//! Signing in with a Temporary Access Pass, over real HTTP on loopback against a real
//! SQLite file: the whole code + PKCE exchange, and every way it can be refused.

mod common;

use common::{Directory, NOW, REDIRECT, param, redirect_query};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tap2key_server::tokens::{AccessClaims, IdClaims};
use time::Duration;

#[tokio::test]
async fn a_tap_signs_the_user_in_and_the_token_says_so() {
    let directory = Directory::start("oauth-happy").await;
    let (user, pass) = directory.user_with_tap("Ada@Contoso.com", true).await;
    let (params, verifier) = directory.authorize_params("ada@contoso.com");

    let page = directory.http.get(directory.url("/oauth2/v2.0/authorize")).query(&params).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"value="ada@contoso.com""#) && html.contains("Temporary Access Pass"));

    let redirect = directory.submit(&params, "ada@contoso.com", &pass).await;
    let query = redirect_query(&redirect);
    assert_eq!(param(&query, "state"), Some("s-123"));
    let code = param(&query, "code").expect("a code").to_owned();

    let token = directory.redeem(&code, &verifier).await;
    assert_eq!(token.status(), 200);
    assert_eq!(token.headers()["cache-control"], "no-store");
    let body: Value = token.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);

    // Verify with nothing but what the service publishes: discovery, then JWKS.
    let discovery: Value = directory.http.get(directory.url("/v2.0/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    let jwks: Value = directory.http.get(discovery["jwks_uri"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
    let key = &jwks["keys"][0];
    let decoding = DecodingKey::from_ec_components(key["x"].as_str().unwrap(), key["y"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&["api://tap2key-onboarding"]);
    validation.set_issuer(&[discovery["issuer"].as_str().unwrap()]);
    validation.validate_exp = false; // the service runs on a test clock
    let access = jsonwebtoken::decode::<AccessClaims>(body["access_token"].as_str().unwrap(), &decoding, &validation).unwrap().claims;
    assert_eq!(access.oid, user.id);
    assert_eq!(access.upn, "Ada@Contoso.com");
    assert_eq!(access.amr, ["tap", "mfa"]);
    assert_eq!(access.scp, "Passkeys.Register");
    assert_eq!(access.auth_time, NOW.unix_timestamp());
    assert_eq!(access.exp - access.iat, 3600);

    validation.set_audience(&[tap2key_server::DESKTOP_CLIENT_ID]);
    let id = jsonwebtoken::decode::<IdClaims>(body["id_token"].as_str().unwrap(), &decoding, &validation).unwrap().claims;
    assert_eq!(id.nonce.as_deref(), Some("n-456"));

    // A code is good once.
    let again = directory.redeem(&code, &verifier).await;
    assert_eq!(again.status(), 400);
    let error: Value = again.json().await.unwrap();
    assert_eq!(error["error"], "invalid_grant");
    assert_eq!(error["error_codes"][0], 70008);
}

#[tokio::test]
async fn a_code_needs_the_verifier_it_was_issued_for() {
    let directory = Directory::start("oauth-pkce").await;
    let (_, pass) = directory.user_with_tap("ada@contoso.com", false).await;
    let (params, _verifier) = directory.authorize_params("ada@contoso.com");
    let code = param(&redirect_query(&directory.submit(&params, "ada@contoso.com", &pass).await), "code").unwrap().to_owned();
    let (_, other_verifier) = directory.authorize_params("ada@contoso.com");
    let response = directory.redeem(&code, &other_verifier).await;
    let error: Value = response.json().await.unwrap();
    assert_eq!((error["error"].as_str(), error["error_codes"][0].as_u64()), (Some("invalid_grant"), Some(501481)));
}

#[tokio::test]
async fn a_one_time_pass_works_once_and_says_so_the_second_time() {
    let directory = Directory::start("oauth-used").await;
    let (_, pass) = directory.user_with_tap("ada@contoso.com", true).await;
    let (params, _) = directory.authorize_params("ada@contoso.com");
    assert!(param(&redirect_query(&directory.submit(&params, "ada@contoso.com", &pass).await), "code").is_some());
    let second = redirect_query(&directory.submit(&params, "ada@contoso.com", &pass).await);
    assert_eq!(param(&second, "error"), Some("access_denied"));
    assert_eq!(param(&second, "error_subcode"), Some("tap_used"));
    assert_eq!(param(&second, "state"), Some("s-123"));
    assert!(param(&second, "code").is_none());
}

#[tokio::test]
async fn two_sign_ins_racing_with_one_one_time_pass_get_exactly_one_code() {
    let directory = Directory::start("oauth-race").await;
    let (_, pass) = directory.user_with_tap("ada@contoso.com", true).await;
    let (params, _) = directory.authorize_params("ada@contoso.com");
    let attempts = (0..6).map(|_| directory.submit(&params, "ada@contoso.com", &pass));
    let responses = futures_join_all(attempts).await;
    let codes = responses.iter().filter(|r| param(&redirect_query(r), "code").is_some()).count();
    let used = responses.iter().filter(|r| param(&redirect_query(r), "error_subcode") == Some("tap_used")).count();
    assert_eq!((codes, used), (1, 5));
}

async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(|f| Box::pin(f)).collect();
    let mut outputs = Vec::new();
    // Polled together on one task: the requests are in flight at the same time.
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for slot in pending.iter_mut() {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => {
                        outputs.push(output);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    outputs
}

#[tokio::test]
async fn expired_and_not_yet_valid_passes_each_get_their_own_error() {
    let directory = Directory::start("oauth-window").await;
    let store = &directory.server.state.store;
    let early = store.create_user("early@contoso.com", "Early", NOW).await.unwrap();
    let early_pass = store.issue_tap(early.id, NOW + Duration::hours(2), Duration::hours(1), false, NOW).await.unwrap();
    let (_, late_pass) = directory.user_with_tap("late@contoso.com", false).await;

    let (params, _) = directory.authorize_params("early@contoso.com");
    let query = redirect_query(&directory.submit(&params, "early@contoso.com", &early_pass.pass).await);
    assert_eq!(param(&query, "error_subcode"), Some("tap_not_yet_valid"));

    directory.clock.advance(Duration::minutes(61));
    let (params, _) = directory.authorize_params("late@contoso.com");
    let query = redirect_query(&directory.submit(&params, "late@contoso.com", &late_pass).await);
    assert_eq!(param(&query, "error_subcode"), Some("tap_expired"));
}

#[tokio::test]
async fn a_wrong_pass_can_be_retyped_until_too_many_lock_the_account() {
    let directory = Directory::start("oauth-wrong").await;
    let (_, pass) = directory.user_with_tap("ada@contoso.com", false).await;
    let (params, _) = directory.authorize_params("ada@contoso.com");
    for _ in 0..4 {
        let page = directory.submit(&params, "ada@contoso.com", "WRONGPASS123").await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains(r#"data-error="tap_wrong""#));
        assert!(html.contains(r#"role="alert""#));
        assert!(!html.contains("WRONGPASS123"), "the typed pass is never echoed");
    }
    let fifth = redirect_query(&directory.submit(&params, "ada@contoso.com", "WRONGPASS123").await);
    assert_eq!(param(&fifth, "error_subcode"), Some("locked"));
    // Locked even with the right pass, until the window passes.
    let right = redirect_query(&directory.submit(&params, "ada@contoso.com", &pass).await);
    assert_eq!(param(&right, "error_subcode"), Some("locked"));
    directory.clock.advance(Duration::minutes(16));
    assert!(param(&redirect_query(&directory.submit(&params, "ada@contoso.com", &pass).await), "code").is_some());
}

#[tokio::test]
async fn an_unknown_address_is_shown_on_the_page_to_correct() {
    let directory = Directory::start("oauth-unknown").await;
    let (params, _) = directory.authorize_params("nobody@contoso.com");
    let page = directory.submit(&params, "nobody@contoso.com", "ANYTHING").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(r#"data-error="user_not_found""#));
}

#[tokio::test]
async fn bad_requests_never_reach_an_unregistered_redirect() {
    let directory = Directory::start("oauth-bad").await;
    let (params, _) = directory.authorize_params("ada@contoso.com");
    let with = |name: &str, value: &str| -> Vec<(&'static str, String)> {
        params.iter().map(|(k, v)| (*k, if *k == name { value.to_owned() } else { v.clone() })).collect()
    };
    for (name, value) in [("client_id", "someone-else"), ("redirect_uri", "https://evil.example/cb"), ("redirect_uri", "http://localhost.evil.example/")] {
        let response = directory.http.get(directory.url("/oauth2/v2.0/authorize")).query(&with(name, value)).send().await.unwrap();
        assert_eq!(response.status(), 400, "{name}={value}");
        assert!(response.headers().get("location").is_none());
    }
    let plain = directory.http.get(directory.url("/oauth2/v2.0/authorize")).query(&with("code_challenge_method", "plain")).send().await.unwrap();
    assert_eq!(param(&redirect_query(&plain), "error"), Some("invalid_request"));
    let implicit = directory.http.get(directory.url("/oauth2/v2.0/authorize")).query(&with("response_type", "token")).send().await.unwrap();
    assert_eq!(param(&redirect_query(&implicit), "error"), Some("unsupported_response_type"));

    let grant = directory.http.post(directory.url("/oauth2/v2.0/token")).form(&[("grant_type", "password"), ("client_id", tap2key_server::DESKTOP_CLIENT_ID)]).send().await.unwrap();
    assert_eq!(grant.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");
    let garbage = directory.http.post(directory.url("/oauth2/v2.0/token")).header("content-type", "application/json").body("{").send().await.unwrap();
    assert!(garbage.status().is_client_error());
    let huge = directory.http.post(directory.url("/oauth2/v2.0/token")).form(&[("code", "x".repeat(200_000))]).send().await.unwrap();
    assert_eq!(huge.status(), 413);
    assert!(REDIRECT.starts_with("http://localhost"));
}

#[tokio::test]
async fn the_pass_and_the_code_are_never_stored_or_audited() {
    let directory = Directory::start("oauth-secrets").await;
    let (user, pass) = directory.user_with_tap("ada@contoso.com", false).await;
    let (params, _) = directory.authorize_params("ada@contoso.com");
    let code = param(&redirect_query(&directory.submit(&params, "ada@contoso.com", &pass).await), "code").unwrap().to_owned();
    directory.submit(&params, "ada@contoso.com", "WRONGPASS123").await;
    let trail = directory.server.state.store.audit_trail(Some(user.id), 10).await.unwrap();
    assert_eq!(trail.iter().map(|e| e.outcome.as_str()).collect::<Vec<_>>(), ["tap_wrong", "success"]);
    let rendered = format!("{trail:?}");
    for secret in [pass.as_str(), code.as_str(), "WRONGPASS123"] {
        assert!(!rendered.contains(secret));
    }
    let db = std::fs::read(&directory.server.state.config.database).unwrap();
    let wal = std::fs::read(directory.server.state.config.database.with_extension("sqlite3-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&pass) && !text.contains(&code));
    }
}

#[tokio::test]
async fn wrong_passes_sent_in_parallel_are_counted_one_by_one() {
    let directory = Directory::start("oauth-parallel-wrong").await;
    let (user, pass) = directory.user_with_tap("ada@contoso.com", false).await;
    let (params, _) = directory.authorize_params("ada@contoso.com");
    let guesses = (0..12).map(|_| directory.submit(&params, "ada@contoso.com", "WRONGPASS123"));
    futures_join_all(guesses).await;
    // Five guesses were checked and counted; every later one found the account locked.
    let trail = directory.server.state.store.audit_trail(Some(user.id), 50).await.unwrap();
    let checked = trail.iter().filter(|e| e.outcome == "tap_wrong").count();
    let refused = trail.iter().filter(|e| e.outcome == "locked").count();
    assert_eq!((checked, refused), (5, 7));
    let right = redirect_query(&directory.submit(&params, "ada@contoso.com", &pass).await);
    assert_eq!(param(&right, "error_subcode"), Some("locked"));
}

#[tokio::test]
async fn a_pass_typed_into_the_address_field_is_not_audited() {
    let directory = Directory::start("oauth-pass-as-name").await;
    let (_, pass) = directory.user_with_tap("ada@contoso.com", false).await;
    let (params, _) = directory.authorize_params("ada@contoso.com");
    directory.submit(&params, &pass, &pass).await;
    directory.submit(&params, "nobody@contoso.com", "x").await;
    let trail = directory.server.state.store.audit_trail(None, 10).await.unwrap();
    assert!(!format!("{trail:?}").contains(&pass));
    assert_eq!(trail.iter().filter_map(|e| e.upn.as_deref()).collect::<Vec<_>>(), ["nobody@contoso.com"]);
}

#[tokio::test]
async fn a_redirect_uri_with_control_characters_is_refused_before_the_pass_is_spent() {
    let directory = Directory::start("oauth-control-redirect").await;
    let (user, pass) = directory.user_with_tap("ada@contoso.com", true).await;
    let (params, _) = directory.authorize_params("ada@contoso.com");
    let bad: Vec<(&'static str, String)> =
        params.iter().map(|(k, v)| (*k, if *k == "redirect_uri" { "http://localhost/\n".to_owned() } else { v.clone() })).collect();
    let response = directory.submit(&bad, "ada@contoso.com", &pass).await;
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    let tap = directory.server.state.store.tap_of(user.id).await.unwrap().unwrap();
    assert!(!tap.used, "the one-time pass is still good");
}
