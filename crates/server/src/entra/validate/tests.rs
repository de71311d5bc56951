use std::sync::Arc;

use axum::http::StatusCode;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use super::*;
use crate::{
    entra::{
        REFETCH_INTERVAL,
        test_support::{BROKER_APP_ID_URI, BROKER_CLIENT_ID, DESKTOP_CLIENT_ID, KeyServer, OID, Signer, TENANT, entra_claims, t0},
    },
    graph_error::GraphError,
    tokens::{AccessClaims, TokenKeys},
};

fn rules() -> EntraTokenRules {
    EntraTokenRules::for_tenant(TENANT, vec![BROKER_APP_ID_URI.into(), BROKER_CLIENT_ID.into()], "Passkeys.Register", vec![DESKTOP_CLIENT_ID.into()])
}

/// A tenant publishing one RSA key (Entra's kind), and the broker's cache of its keys.
struct Tenant {
    server: KeyServer,
    jwks: JwksCache,
    signer: Signer,
}

impl Tenant {
    async fn new() -> Self {
        let signer = Signer::rsa("kid-1");
        let server = KeyServer::start(vec![signer.jwk()]).await;
        Self { jwks: JwksCache::new(server.url()), server, signer }
    }

    /// Signs `claims` with the tenant's key and checks the token with the default rules at t0.
    async fn check(&self, claims: &Value) -> Result<EntraUser, TokenRejection> {
        self.check_token(&self.signer.sign(claims)).await
    }

    async fn check_token(&self, token: &str) -> Result<EntraUser, TokenRejection> {
        rules().validate(token, &self.jwks, t0()).await
    }
}

/// The good claims with `changes` applied (`null` removes a claim).
fn claims_with(changes: Value) -> Value {
    let mut claims = entra_claims(t0());
    for (name, value) in changes.as_object().unwrap() {
        match value {
            Value::Null => claims.as_object_mut().unwrap().remove(name),
            value => claims.as_object_mut().unwrap().insert(name.clone(), value.clone()),
        };
    }
    claims
}

fn at(offset: Duration) -> i64 {
    (t0() + offset).unix_timestamp()
}

#[tokio::test]
async fn a_good_entra_token_yields_the_user_and_unknown_claims_are_ignored() {
    let tenant = Tenant::new().await;
    // Beyond entra_claims' own extras: claims of every shape Entra may add.
    let claims = claims_with(json!({
        "xms_cc": ["CP1"], "wids": ["b79fbf4d-3ef9-4689-8143-76b194e85509"], "groups": [],
        "acrs": ["c1"], "xms_tcdt": 1_600_000_000, "ctry": "GB", "idtyp": "user", "unknown": {"nested": [1, 2.5, null]},
    }));
    let user = tenant.check(&claims).await.unwrap();
    assert_eq!(
        user,
        EntraUser { object_id: OID.parse().unwrap(), tenant_id: TENANT.into(), upn: Some("ada@contoso.com".into()), auth_time: t0(), amr: vec![] }
    );
    assert_eq!(tenant.server.hits(), 1);
}

#[tokio::test]
async fn the_demo_directorys_own_es256_token_passes_as_a_stand_in() {
    let keys = TokenKeys::generate();
    let server = KeyServer::start(keys.jwks()["keys"].as_array().unwrap().clone()).await;
    let jwks = JwksCache::new(server.url());
    let now = t0().unix_timestamp();
    let oid = uuid::Uuid::new_v4();
    let token = keys.sign(&AccessClaims {
        iss: "http://127.0.0.1:8400/demo/v2.0".into(),
        aud: "api://tap2key-onboarding".into(),
        sub: oid.to_string(),
        oid,
        tid: "demo".into(),
        upn: "ada@tap2key.test".into(),
        name: "Ada".into(),
        azp: crate::DESKTOP_CLIENT_ID.into(),
        scp: "Passkeys.Register".into(),
        amr: vec!["tap".into(), "mfa".into()],
        auth_time: now - 60,
        iat: now,
        nbf: now,
        exp: now + 3600,
        roles: vec![],
        ver: "2.0".into(),
    });
    let demo = EntraTokenRules {
        issuer: "http://127.0.0.1:8400/demo/v2.0".into(),
        audiences: vec!["api://tap2key-onboarding".into()],
        tenant_id: "demo".into(),
        accepted_client_ids: vec![crate::DESKTOP_CLIENT_ID.into()],
        freshness: Freshness { required_amr: Some(vec!["tap".into()]), ..Freshness::default() },
        ..rules()
    };
    let user = demo.validate(&token, &jwks, t0()).await.unwrap();
    assert_eq!((user.object_id, user.upn.as_deref(), user.amr), (oid, Some("ada@tap2key.test"), vec!["tap".into(), "mfa".into()]));
    assert_eq!(user.auth_time, t0() - Duration::minutes(1));
}

#[tokio::test]
async fn both_forms_of_the_brokers_audience_are_accepted_and_nothing_else() {
    let tenant = Tenant::new().await;
    for aud in [json!(BROKER_CLIENT_ID), json!(BROKER_APP_ID_URI), json!(["https://graph.microsoft.com", BROKER_CLIENT_ID])] {
        assert!(tenant.check(&claims_with(json!({"aud": aud}))).await.is_ok(), "{aud}");
    }
    for aud in [json!("https://graph.microsoft.com"), json!("00000003-0000-0000-c000-000000000000"), json!("api://tap2key-broker/"), json!([])] {
        assert_eq!(tenant.check(&claims_with(json!({"aud": aud}))).await, Err(TokenRejection::WrongAudience), "{aud}");
    }
    assert_eq!(tenant.check(&claims_with(json!({"aud": null}))).await, Err(TokenRejection::MissingClaim("aud")));
}

#[tokio::test]
async fn expiry_is_checked_with_the_leeway() {
    let tenant = Tenant::new().await;
    let expired = |seconds_ago: i64| claims_with(json!({"exp": at(-Duration::seconds(seconds_ago)), "iat": at(-Duration::minutes(5)), "nbf": at(-Duration::minutes(5))}));
    assert_eq!(tenant.check(&expired(121)).await, Err(TokenRejection::Expired), "beyond the leeway");
    assert!(tenant.check(&expired(120)).await.is_ok(), "at the edge of the leeway");
    assert!(tenant.check(&expired(1)).await.is_ok(), "within the leeway");
    assert_eq!(tenant.check(&claims_with(json!({"exp": null}))).await, Err(TokenRejection::MissingClaim("exp")));
}

#[tokio::test]
async fn a_token_not_yet_valid_is_refused() {
    let tenant = Tenant::new().await;
    assert_eq!(tenant.check(&claims_with(json!({"nbf": at(Duration::seconds(121))}))).await, Err(TokenRejection::NotYetValid));
    assert!(tenant.check(&claims_with(json!({"nbf": at(Duration::seconds(120))}))).await.is_ok(), "within the leeway");
    assert_eq!(tenant.check(&claims_with(json!({"iat": at(Duration::minutes(10))}))).await, Err(TokenRejection::NotYetValid), "issued in the future");
    assert_eq!(tenant.check(&claims_with(json!({"auth_time": at(Duration::minutes(10))}))).await, Err(TokenRejection::NotYetValid), "signed in in the future");
    // Fractional seconds are valid JWT numeric dates.
    assert!(tenant.check(&claims_with(json!({"nbf": at(Duration::ZERO) as f64 + 0.5}))).await.is_ok());
}

#[tokio::test]
async fn the_issuer_must_be_exactly_the_tenants() {
    let tenant = Tenant::new().await;
    for iss in [
        format!("https://sts.windows.net/{TENANT}/"),
        format!("https://login.microsoftonline.com/{TENANT}/v2.0/"),
        "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0".into(),
        "https://login.microsoftonline.com/{tenantid}/v2.0".into(),
    ] {
        assert_eq!(tenant.check(&claims_with(json!({"iss": iss}))).await, Err(TokenRejection::WrongIssuer), "{iss}");
    }
    assert_eq!(tenant.check(&claims_with(json!({"iss": null}))).await, Err(TokenRejection::MissingClaim("iss")));
}

#[tokio::test]
async fn the_tenant_must_be_the_brokers() {
    let tenant = Tenant::new().await;
    let other = "00000000-0000-0000-0000-000000000001";
    assert_eq!(tenant.check(&claims_with(json!({"tid": other}))).await, Err(TokenRejection::WrongTenant));
    assert_eq!(tenant.check(&claims_with(json!({"tid": null}))).await, Err(TokenRejection::MissingClaim("tid")));
    assert!(tenant.check(&claims_with(json!({"tid": TENANT.to_uppercase()}))).await.is_ok(), "a GUID's case does not matter");
}

#[tokio::test]
async fn the_scope_must_be_granted_exactly() {
    let tenant = Tenant::new().await;
    for scp in [json!("User.Read"), json!("Passkeys.RegisterAll User.Read"), json!("passkeys.register"), json!(""), Value::Null] {
        let refused = tenant.check(&claims_with(json!({"scp": scp}))).await.unwrap_err();
        assert_eq!(refused, TokenRejection::MissingScope("Passkeys.Register".into()), "{scp}");
        assert_eq!((refused.status(), refused.code()), (StatusCode::FORBIDDEN, "accessDenied"));
    }
    // An app-only token: roles, no scp.
    let app_only = claims_with(json!({"scp": null, "roles": ["Passkeys.Register"], "idtyp": "app"}));
    assert_eq!(tenant.check(&app_only).await, Err(TokenRejection::MissingScope("Passkeys.Register".into())));
    assert!(tenant.check(&claims_with(json!({"scp": "Passkeys.Register"}))).await.is_ok());
}

#[tokio::test]
async fn only_accepted_client_applications() {
    let tenant = Tenant::new().await;
    let refused = tenant.check(&claims_with(json!({"azp": "11111111-2222-3333-4444-555555555555"}))).await.unwrap_err();
    assert_eq!((refused.clone(), refused.status()), (TokenRejection::ClientNotAccepted, StatusCode::FORBIDDEN));
    assert_eq!(tenant.check(&claims_with(json!({"azp": null}))).await, Err(TokenRejection::ClientNotAccepted), "no client named");
    assert!(tenant.check(&claims_with(json!({"azp": DESKTOP_CLIENT_ID.to_uppercase()}))).await.is_ok());
    // azp wins over appid: an accepted appid does not rescue another azp.
    let both = claims_with(json!({"azp": "11111111-2222-3333-4444-555555555555", "appid": DESKTOP_CLIENT_ID}));
    assert_eq!(tenant.check(&both).await, Err(TokenRejection::ClientNotAccepted));
}

#[tokio::test]
async fn a_v1_token_names_its_client_in_appid_and_its_user_in_upn() {
    let tenant = Tenant::new().await;
    let v1 = claims_with(json!({
        "azp": null, "appid": DESKTOP_CLIENT_ID, "appidacr": "0", "ver": "1.0",
        "preferred_username": null, "upn": "ada@contoso.com", "unique_name": "ada@contoso.com", "amr": ["pwd", "mfa"],
    }));
    let user = tenant.check(&v1).await.unwrap();
    assert_eq!((user.upn.as_deref(), user.amr), (Some("ada@contoso.com"), vec!["pwd".into(), "mfa".into()]));
    let other = claims_with(json!({"azp": null, "appid": "11111111-2222-3333-4444-555555555555"}));
    assert_eq!(tenant.check(&other).await, Err(TokenRejection::ClientNotAccepted));
}

#[tokio::test]
async fn alg_none_is_refused_before_any_key_is_fetched() {
    let tenant = Tenant::new().await;
    let claims = URL_SAFE_NO_PAD.encode(entra_claims(t0()).to_string());
    for header in [json!({"alg": "none", "typ": "JWT"}), json!({"alg": "none", "kid": "kid-1"}), json!({"alg": "None", "kid": "kid-1"})] {
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        for signature in ["", "AAAA"] {
            assert_eq!(tenant.check_token(&format!("{header}.{claims}.{signature}")).await, Err(TokenRejection::UnsupportedAlgorithm));
        }
    }
    assert_eq!(tenant.server.hits(), 0);
}

#[tokio::test]
async fn hmac_tokens_are_refused_even_keyed_with_the_published_key() {
    let signer = Signer::rsa("kid-1");
    // A key list that also publishes a symmetric key under the token's kid.
    let oct = json!({"kty": "oct", "kid": "kid-1", "k": URL_SAFE_NO_PAD.encode(b"secret")});
    let server = KeyServer::start(vec![oct, signer.jwk()]).await;
    let jwks = JwksCache::new(server.url());
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("kid-1".into());
    let n = signer.jwk()["n"].as_str().unwrap().to_owned();
    for secret in [b"secret".to_vec(), n.into_bytes(), serde_json::to_vec(&signer.jwk()).unwrap()] {
        let token = jsonwebtoken::encode(&header, &entra_claims(t0()), &EncodingKey::from_secret(&secret)).unwrap();
        assert_eq!(rules().validate(&token, &jwks, t0()).await, Err(TokenRejection::UnsupportedAlgorithm));
    }
    for alg in [Algorithm::HS384, Algorithm::HS512, Algorithm::PS256, Algorithm::RS512, Algorithm::ES384] {
        let token = format!("{}.{}.AAAA", URL_SAFE_NO_PAD.encode(json!({"alg": format!("{alg:?}"), "kid": "kid-1"}).to_string()), URL_SAFE_NO_PAD.encode("{}"));
        assert_eq!(rules().validate(&token, &jwks, t0()).await, Err(TokenRejection::UnsupportedAlgorithm), "{alg:?}");
    }
}

#[tokio::test]
async fn a_token_without_a_kid_is_refused() {
    let tenant = Tenant::new().await;
    let token = tenant.signer.sign_with(&Header::new(Algorithm::RS256), &entra_claims(t0()));
    assert_eq!(tenant.check_token(&token).await, Err(TokenRejection::MissingKeyId));
    let mut empty = Header::new(Algorithm::RS256);
    empty.kid = Some(String::new());
    assert_eq!(tenant.check_token(&tenant.signer.sign_with(&empty, &entra_claims(t0()))).await, Err(TokenRejection::MissingKeyId));
}

#[tokio::test]
async fn signatures_are_verified_with_the_named_key_and_its_own_algorithm() {
    let tenant = Tenant::new().await;
    let token = tenant.signer.sign(&entra_claims(t0()));
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let (header, _) = signed.split_once('.').unwrap();
    let forged_claims = URL_SAFE_NO_PAD.encode(claims_with(json!({"oid": "00000000-0000-0000-0000-000000000666"})).to_string());
    assert_eq!(tenant.check_token(&format!("{header}.{forged_claims}.{signature}")).await, Err(TokenRejection::BadSignature), "changed claims");
    assert_eq!(tenant.check_token(&format!("{signed}.{}", URL_SAFE_NO_PAD.encode([7; 256]))).await, Err(TokenRejection::BadSignature), "another signature");

    // Another key claiming the published kid.
    let impostor = Signer::ec("kid-1");
    assert_eq!(tenant.check_token(&impostor.sign(&entra_claims(t0()))).await, Err(TokenRejection::BadSignature));
}

#[tokio::test]
async fn an_unknown_kid_triggers_one_refetch_and_then_succeeds_after_rotation() {
    let tenant = Tenant::new().await;
    tenant.check(&entra_claims(t0())).await.unwrap();
    assert_eq!(tenant.server.hits(), 1);

    let rotated = Signer::ec("kid-2");
    tenant.server.set_keys(vec![rotated.jwk(), tenant.signer.jwk()]);
    let token = rotated.sign(&entra_claims(t0()));
    assert!(tenant.check_token(&token).await.is_ok());
    assert_eq!(tenant.server.hits(), 2, "exactly one refetch");
    assert!(tenant.check_token(&token).await.is_ok());
    assert!(tenant.check(&entra_claims(t0())).await.is_ok(), "the old key is still published");
    assert_eq!(tenant.server.hits(), 2, "both keys now come from the cache");
}

#[tokio::test]
async fn an_unknown_kid_is_refused_after_the_refetch() {
    let tenant = Tenant::new().await;
    tenant.check(&entra_claims(t0())).await.unwrap();
    let stranger = Signer::ec("kid-unpublished");
    assert_eq!(tenant.check_token(&stranger.sign(&entra_claims(t0()))).await, Err(TokenRejection::UnknownKey));
    assert_eq!(tenant.server.hits(), 2);
}

#[tokio::test]
async fn the_first_fetch_is_not_repeated_for_an_unknown_kid() {
    let tenant = Tenant::new().await;
    let stranger = Signer::ec("kid-unpublished");
    assert_eq!(tenant.check_token(&stranger.sign(&entra_claims(t0()))).await, Err(TokenRejection::UnknownKey));
    assert_eq!(tenant.server.hits(), 1, "the keys were fetched a moment ago");
}

#[tokio::test]
async fn refetches_are_rate_limited_across_all_kids() {
    let tenant = Tenant::new().await;
    tenant.check(&entra_claims(t0())).await.unwrap();
    assert_eq!(tenant.check_token(&Signer::ec("kid-a").sign(&entra_claims(t0()))).await, Err(TokenRejection::UnknownKey));
    assert_eq!(tenant.server.hits(), 2);

    // Entra now publishes kid-b, but the last refetch was a minute ago (for another kid).
    let rotated = Signer::ec("kid-b");
    tenant.server.set_keys(vec![rotated.jwk(), tenant.signer.jwk()]);
    let validate_at = |offset: Duration| {
        let now = t0() + offset;
        let (token, jwks) = (rotated.sign(&entra_claims(now)), &tenant.jwks);
        async move { rules().validate(&token, jwks, now).await }
    };
    for offset in [Duration::minutes(1), REFETCH_INTERVAL - Duration::seconds(1)] {
        assert_eq!(validate_at(offset).await, Err(TokenRejection::UnknownKey));
    }
    assert_eq!(tenant.server.hits(), 2, "no refetch within the interval");
    assert!(validate_at(REFETCH_INTERVAL).await.is_ok());
    assert_eq!(tenant.server.hits(), 3);
}

#[tokio::test]
async fn concurrent_requests_with_a_new_kid_share_one_refetch() {
    let tenant = Arc::new(Tenant::new().await);
    tenant.check(&entra_claims(t0())).await.unwrap();
    let rotated = Signer::ec("kid-2");
    tenant.server.set_keys(vec![rotated.jwk()]);
    let token = rotated.sign(&entra_claims(t0()));
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (tenant, token) = (tenant.clone(), token.clone());
        requests.spawn(async move { tenant.check_token(&token).await });
    }
    while let Some(result) = requests.join_next().await {
        assert!(result.unwrap().is_ok());
    }
    assert_eq!(tenant.server.hits(), 2);
}

#[tokio::test]
async fn keys_that_cannot_be_fetched_are_a_service_problem() {
    let tenant = Tenant::new().await;
    tenant.server.set_failing(true);
    let refused = tenant.check(&entra_claims(t0())).await.unwrap_err();
    assert_eq!((refused.clone(), refused.status(), refused.code()), (TokenRejection::KeysUnavailable, StatusCode::SERVICE_UNAVAILABLE, "serviceNotAvailable"));
    assert!(refused.message().starts_with("The tenant's signing keys could not be fetched"));
}

#[tokio::test]
async fn a_sign_in_older_than_allowed_is_refused_with_its_own_code() {
    let tenant = Tenant::new().await;
    let refused = tenant.check(&claims_with(json!({"auth_time": at(-Duration::minutes(10) - Duration::seconds(1))}))).await.unwrap_err();
    assert_eq!((refused.clone(), refused.status(), refused.code()), (TokenRejection::SignInTooOld, StatusCode::UNAUTHORIZED, "signInTooOld"));
    assert_eq!(refused.message(), "The sign-in is too old to register a passkey; sign in again.");
    let user = tenant.check(&claims_with(json!({"auth_time": at(-Duration::minutes(10))}))).await.unwrap();
    assert_eq!(user.auth_time, t0() - Duration::minutes(10));

    // A token refreshed just now from an old sign-in: auth_time decides, not iat.
    assert_eq!(tenant.check(&claims_with(json!({"auth_time": at(-Duration::hours(3))}))).await, Err(TokenRejection::SignInTooOld));
}

#[tokio::test]
async fn without_auth_time_the_token_issue_time_stands_for_the_sign_in() {
    let tenant = Tenant::new().await;
    let issued = |ago: Duration| claims_with(json!({"auth_time": null, "iat": at(-ago), "nbf": at(-ago)}));
    assert_eq!(tenant.check(&issued(Duration::minutes(11))).await, Err(TokenRejection::SignInTooOld));
    assert_eq!(tenant.check(&issued(Duration::minutes(9))).await.unwrap().auth_time, t0() - Duration::minutes(9));
    assert_eq!(tenant.check(&claims_with(json!({"auth_time": null, "iat": null}))).await, Err(TokenRejection::MissingClaim("iat")));
}

#[tokio::test]
async fn the_amr_rule_applies_only_when_configured() {
    let tenant = Tenant::new().await;
    let mut strict = rules();
    strict.freshness.required_amr = Some(vec!["mfa".into(), "tap".into()]);
    let check = |amr: Value, rules: EntraTokenRules| {
        let (token, jwks) = (tenant.signer.sign(&claims_with(json!({"amr": amr}))), &tenant.jwks);
        async move { rules.validate(&token, jwks, t0()).await }
    };
    assert!(check(json!(["pwd", "mfa"]), strict.clone()).await.is_ok());
    assert!(check(json!(["tap"]), strict.clone()).await.is_ok());
    let refused = check(json!(["pwd"]), strict.clone()).await.unwrap_err();
    assert_eq!((refused.clone(), refused.status(), refused.code()), (TokenRejection::SignInMethodNotAccepted, StatusCode::UNAUTHORIZED, "signInMethodNotAccepted"));
    assert_eq!(check(Value::Null, strict.clone()).await, Err(TokenRejection::SignInMethodNotAccepted), "a v2 token has no amr");
    assert!(check(Value::Null, rules()).await.is_ok(), "no rule, no amr needed");
    assert!(check(json!(["pwd"]), rules()).await.is_ok());
}

#[tokio::test]
async fn the_user_must_be_named_by_a_guid_oid() {
    let tenant = Tenant::new().await;
    assert_eq!(tenant.check(&claims_with(json!({"oid": null}))).await, Err(TokenRejection::MissingClaim("oid")));
    assert_eq!(tenant.check(&claims_with(json!({"oid": "ada@contoso.com"}))).await, Err(TokenRejection::InvalidClaim("oid")));
}

#[tokio::test]
async fn malformed_tokens_are_refused() {
    let tenant = Tenant::new().await;
    let good = tenant.signer.sign(&entra_claims(t0()));
    let header = good.split('.').next().unwrap();
    let crit = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": "kid-1", "crit": ["exp"], "exp": 1}).to_string());
    let oversized = format!("{header}.{}.AAAA", "A".repeat(70 * 1024));
    for token in ["", "Bearer", "a.b", "a.b.c.d.e", "!!!.b.c", &format!("{}.e30.", URL_SAFE_NO_PAD.encode("not json")), &format!("{crit}.e30.AAAA"), &oversized] {
        assert_eq!(tenant.check_token(token).await, Err(TokenRejection::Malformed), "{token:.40}");
    }
    // Signed, but the claims are not an object (needs a kid to get that far).
    let mut with_kid = Header::new(Algorithm::RS256);
    with_kid.kid = Some("kid-1".into());
    assert_eq!(tenant.check_token(&tenant.signer.sign_with(&with_kid, &json!("x"))).await, Err(TokenRejection::Malformed));
    assert_eq!(tenant.check_token(&tenant.signer.sign_with(&with_kid, &claims_with(json!({"exp": "tomorrow"})))).await, Err(TokenRejection::Malformed));
    assert_eq!(tenant.check_token(&format!("  {good}\n")).await.map(|user| user.tenant_id), Ok(TENANT.into()), "surrounding space is trimmed");
}

#[tokio::test]
async fn refusals_name_no_claim_values_and_answer_in_graphs_envelope() {
    let tenant = Tenant::new().await;
    let claims = entra_claims(t0());
    let secrets: Vec<String> = ["preferred_username", "name", "sid", "sub", "azp", "aio", "uti", "scp", "aud"].iter().map(|c| claims[c].as_str().unwrap().to_owned()).collect();
    let cases = [
        json!({"aud": "https://graph.microsoft.com"}),
        json!({"iss": "https://evil.example/v2.0"}),
        json!({"tid": "00000000-0000-0000-0000-000000000001"}),
        json!({"exp": at(-Duration::hours(1))}),
        json!({"scp": "User.Read"}),
        json!({"azp": "11111111-2222-3333-4444-555555555555"}),
        json!({"auth_time": at(-Duration::hours(1))}),
        json!({"oid": "ada@contoso.com"}),
    ];
    for changes in cases {
        let token = tenant.signer.sign(&claims_with(changes.clone()));
        let refused = tenant.check_token(&token).await.unwrap_err();
        let shown = [refused.message(), format!("{refused:?}"), refused.to_string()];
        for text in &shown {
            assert!(!text.contains(&token) && !text.contains(token.split('.').nth(1).unwrap()), "{changes}: the token leaked");
            for secret in secrets.iter().chain([&"ada@contoso.com".to_owned()]) {
                assert!(!text.contains(secret.as_str()), "{changes}: {text} names a claim value");
            }
        }
        let graph = GraphError::from(refused.clone());
        assert_eq!((graph.status, graph.code, graph.message), (refused.status(), refused.code(), refused.message()));
    }
}
