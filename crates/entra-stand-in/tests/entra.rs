//! The Entra side over real HTTP: discovery and JWKS (and a key rotation), the broker's
//! client credentials grant (certificate and secret, and each refusal), and a TAP sign-in
//! of the desktop app for the broker's scope through the real directory client.

mod common;

use common::{Broker, SECRET};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde_json::Value;
use tap2key_directory::{DirectoryConfig, SignIn, testing::type_tap};
use time::Duration;

async fn jwks(broker: &Broker) -> JwkSet {
    broker
        .http
        .get(broker.stand_in.jwks_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Verifies `token` with the published JWKS and returns its claims (audience unchecked).
async fn verified(broker: &Broker, token: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let set = jwks(broker).await;
    let jwk = set
        .find(header.kid.as_deref().unwrap())
        .expect("the token's kid is in the JWKS");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn discovery_and_jwks_for_either_tenant_name_and_a_key_rotation() {
    let broker = Broker::start().await;
    let tid = broker.stand_in.config().tenant_id;
    for tenant in [tid.to_string(), "contoso.test".to_owned()] {
        let url = broker
            .stand_in
            .authority()
            .join(&format!("{tenant}/v2.0/.well-known/openid-configuration"))
            .unwrap();
        let document: Value = broker
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(document["issuer"], broker.stand_in.issuer());
        assert_eq!(
            document["token_endpoint"],
            broker.stand_in.token_url().as_str()
        );
        assert_eq!(document["jwks_uri"], broker.stand_in.jwks_url().as_str());
        assert!(
            document["authorization_endpoint"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{tid}/oauth2/v2.0/authorize"))
        );
    }
    assert_eq!(
        broker.stand_in.issuer(),
        format!("{}{tid}/v2.0", broker.stand_in.authority())
    );
    let unknown = broker
        .http
        .get(
            broker
                .stand_in
                .authority()
                .join("fabrikam.test/discovery/v2.0/keys")
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["error_codes"][0],
        90002
    );

    let raw: Value = broker
        .http
        .get(broker.stand_in.jwks_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &raw["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["use"].as_str()),
        (Some("RSA"), Some("sig"))
    );
    assert_eq!(key["kid"], key["x5t"]);
    assert_eq!(key["e"], "AQAB");
    assert_eq!(raw["keys"].as_array().unwrap().len(), 1);

    let before = broker.app_token().await;
    let first_kid = jsonwebtoken::decode_header(&before).unwrap().kid.unwrap();
    broker.stand_in.rotate_signing_key();
    let after = broker.app_token().await;
    let second_kid = jsonwebtoken::decode_header(&after).unwrap().kid.unwrap();
    assert_ne!(first_kid, second_kid);
    let set = jwks(&broker).await;
    assert!(
        set.find(&first_kid).is_some() && set.find(&second_kid).is_some(),
        "both keys listed after a rotation"
    );
    verified(&broker, &before).await;
    verified(&broker, &after).await;
}

#[tokio::test]
async fn client_credentials_with_a_certificate_gives_a_v1_graph_app_token() {
    let broker = Broker::start().await;
    for alg in [Algorithm::PS256, Algorithm::RS256] {
        let (status, body) = broker
            .with_assertion(&broker.assertion_with(alg, |_| {}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["ext_expires_in"], 3600);
        assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
        let claims = verified(&broker, body["access_token"].as_str().unwrap()).await;
        let config = broker.stand_in.config();
        assert_eq!(claims["aud"], "https://graph.microsoft.com");
        assert_eq!(
            claims["iss"],
            format!("https://sts.windows.net/{}/", config.tenant_id)
        );
        assert_eq!(claims["appid"], config.broker_client_id.to_string());
        assert_eq!(claims["idtyp"], "app");
        assert_eq!(claims["appidacr"], "2");
        assert_eq!(claims["ver"], "1.0");
        assert_eq!(
            claims["roles"],
            serde_json::json!(["UserAuthMethod-Passkey.ReadWrite.All"])
        );
    }
    let recorded = broker.stand_in.requests();
    let form = recorded[0].body.as_ref().unwrap();
    assert_eq!(
        form["client_assertion"], "<redacted>",
        "the journal never holds a credential"
    );
    assert_eq!(form["scope"], "https://graph.microsoft.com/.default");
    assert!(broker.stand_in.violations().is_empty());
}

#[tokio::test]
async fn client_credentials_with_a_secret_and_the_refusals() {
    let broker = Broker::start().await;
    let (status, body) = broker.token_request(&[("client_secret", SECRET)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        verified(&broker, body["access_token"].as_str().unwrap()).await["appidacr"],
        "1"
    );

    let (status, body) = broker.token_request(&[("client_secret", "wrong")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(body["error_codes"][0], 7_000_215);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215: ")
    );
    for field in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(body[field].is_string(), "{field}");
    }
    assert_eq!(
        broker.stand_in.requests()[1].body.as_ref().unwrap()["client_secret"],
        "<redacted>"
    );

    // A replayed assertion.
    let assertion = broker.assertion();
    assert_eq!(broker.with_assertion(&assertion).await.0, 200);
    let (status, body) = broker.with_assertion(&assertion).await;
    assert_eq!(
        (status, body["error_codes"][0].as_u64()),
        (401, Some(50_013)),
        "{body}"
    );

    // Claims Entra checks.
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit, u64); 4] = [
        (
            "audience",
            |c| c["aud"] = "https://login.microsoftonline.com/common/oauth2/v2.0/token".into(),
            700_023,
        ),
        ("issuer", |c| c["iss"] = "someone-else".into(), 700_021),
        (
            "expired",
            |c| c["exp"] = (c["nbf"].as_i64().unwrap() - 1).into(),
            700_024,
        ),
        (
            "no jti",
            |c| drop(c.as_object_mut().unwrap().remove("jti")),
            50_013,
        ),
    ];
    for (what, edit, code) in cases {
        let (status, body) = broker
            .with_assertion(&broker.assertion_with(Algorithm::PS256, edit))
            .await;
        assert_eq!(
            (status, body["error_codes"][0].as_u64()),
            (401, Some(code)),
            "{what}: {body}"
        );
    }
    assert_eq!(
        broker.stand_in.violations(),
        ["client assertion without a jti"]
    );
    broker.stand_in.clear_journal();

    // A certificate that is not registered, and a signature by another key.
    let mut stranger = Broker::start().await;
    stranger.cert_der = common::pem_der(include_str!("../keys/other_cert.pem"));
    stranger.key =
        jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!("../keys/other_key.pem")).unwrap();
    let (status, body) = broker
        .with_assertion(&stranger.assertion_with(Algorithm::PS256, |c| {
            c["aud"] = broker.stand_in.token_url().as_str().into()
        }))
        .await;
    assert_eq!(
        (status, body["error_codes"][0].as_u64()),
        (401, Some(700_027)),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("The key was not found")
    );
    let mut forged = broker.assertion();
    forged.push_str("AAAA");
    assert_eq!(
        broker.with_assertion(&forged).await.1["error_codes"][0],
        700_027
    );

    // Another app, and a scope without /.default.
    let answer = broker
        .http
        .post(broker.stand_in.token_url())
        .form(&[
            ("client_id", "11111111-2222-3333-4444-555555555555"),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.json::<Value>().await.unwrap()["error_codes"][0],
        700_016
    );
    let broker_id = broker.stand_in.config().broker_client_id.to_string();
    let answer = broker
        .http
        .post(broker.stand_in.token_url())
        .form(&[
            ("client_id", broker_id.as_str()),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/User.Read"),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.json::<Value>().await.unwrap()["error_codes"][0],
        1_002_012
    );
    assert_eq!(
        broker.stand_in.violations().len(),
        1,
        "the broker never asks for anything but .default"
    );
}

fn directory_config(broker: &Broker, tenant: &str, scope: &str) -> DirectoryConfig {
    let mut config = DirectoryConfig::demo(broker.stand_in.authority().as_str());
    config.tenant = tenant.to_owned();
    config.client_id = broker.stand_in.config().desktop_client_id.to_string();
    config.scopes = ["openid", "profile", "offline_access", scope]
        .map(str::to_owned)
        .to_vec();
    config.graph = url::Url::parse(&format!("{}v1.0", broker.stand_in.graph())).unwrap();
    config
}

#[tokio::test]
async fn a_tap_sign_in_for_the_broker_scope_gives_a_v2_token_for_the_broker() {
    let broker = Broker::start().await;
    let ada = broker.stand_in.add_user("ada@contoso.test", "Ada Lovelace");
    let pass = broker.stand_in.issue_tap(ada, Duration::minutes(60), true);
    let config = directory_config(
        &broker,
        "contoso.test",
        "api://tap2key-broker/Passkeys.Register",
    );

    let sign_in = SignIn::begin(&config, &broker.http, "ada@contoso.test")
        .await
        .unwrap();
    let url = sign_in.authorize_url().clone();
    let browser = async {
        assert_eq!(
            type_tap(&broker.http, &url, "ada@contoso.test", "not-the-pass").await,
            Err("tap_wrong".into())
        );
        assert_eq!(
            type_tap(&broker.http, &url, "grace@contoso.test", &pass).await,
            Err("user_not_found".into())
        );
        type_tap(&broker.http, &url, "ada@contoso.test", &pass).await
    };
    let (typed, tokens) = tokio::join!(browser, sign_in.finish());
    typed.unwrap();
    let tokens = tokens.unwrap();
    assert_eq!(tokens.account.as_deref(), Some("ada@contoso.test"));

    let claims = verified(&broker, tokens.access_token.secret()).await;
    let config = broker.stand_in.config();
    let now = broker.stand_in.clock().now().unix_timestamp();
    assert_eq!(
        claims["aud"],
        config.broker_client_id.to_string(),
        "v2 tokens carry the GUID"
    );
    assert_eq!(claims["iss"], broker.stand_in.issuer());
    assert_eq!(claims["tid"], config.tenant_id.to_string());
    assert_eq!(claims["oid"], ada.to_string());
    assert_ne!(claims["sub"], ada.to_string(), "sub is pairwise");
    assert_eq!(claims["azp"], config.desktop_client_id.to_string());
    assert_eq!(claims["azpacr"], "0");
    assert_eq!(claims["scp"], "Passkeys.Register");
    assert_eq!(claims["ver"], "2.0");
    assert_eq!(claims["preferred_username"], "ada@contoso.test");
    assert_eq!(claims["name"], "Ada Lovelace");
    assert_eq!(claims["auth_time"], now);
    assert_eq!(claims["exp"], now + 60 * 60, "never past the TAP's expiry");
    for opaque in ["uti", "rh", "aio"] {
        assert!(claims[opaque].is_string(), "{opaque}");
    }
    assert!(claims.get("amr").is_none(), "v2 tokens carry no amr");

    // The one-time pass is spent.
    let again = SignIn::begin(
        &directory_config(
            &broker,
            &config.tenant_id.to_string(),
            "api://tap2key-broker/Passkeys.Register",
        ),
        &broker.http,
        "ada@contoso.test",
    )
    .await
    .unwrap();
    assert_eq!(
        type_tap(
            &broker.http,
            again.authorize_url(),
            "ada@contoso.test",
            &pass
        )
        .await,
        Err("tap_used".into())
    );
    // An expired pass.
    let pass = broker.stand_in.issue_tap(ada, Duration::minutes(10), false);
    broker.stand_in.clock().advance(Duration::minutes(11));
    assert_eq!(
        type_tap(
            &broker.http,
            again.authorize_url(),
            "ada@contoso.test",
            &pass
        )
        .await,
        Err("tap_expired".into())
    );
    assert!(
        broker.stand_in.violations().is_empty(),
        "{:?}",
        broker.stand_in.violations()
    );
}

#[tokio::test]
async fn the_authorize_endpoint_refuses_like_entra() {
    let broker = Broker::start().await;
    let config = broker.stand_in.config().clone();
    let authorize = |pairs: &[(&str, &str)]| {
        let mut url = broker
            .stand_in
            .authority()
            .join(&format!("{}/oauth2/v2.0/authorize", config.tenant_id))
            .unwrap();
        url.query_pairs_mut().extend_pairs(pairs);
        url
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let desktop = config.desktop_client_id.to_string();
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let good = [
        ("client_id", desktop.as_str()),
        ("response_type", "code"),
        ("redirect_uri", "http://localhost:53117/"),
        ("scope", "openid api://tap2key-broker/Passkeys.Register"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("state", "s1"),
    ];
    assert_eq!(
        client.get(authorize(&good)).send().await.unwrap().status(),
        200
    );

    for redirect in [
        "http://127.0.0.1:53117/",
        "http://[::1]:53117/",
        "https://example.com/",
    ] {
        let mut pairs = good.to_vec();
        pairs[2].1 = redirect;
        let answer = client.get(authorize(&pairs)).send().await.unwrap();
        assert_eq!(
            answer.status(),
            400,
            "{redirect}: an error page, not a redirect"
        );
        assert!(answer.text().await.unwrap().contains("AADSTS50011"));
    }
    for (method, challenge) in [("plain", challenge), ("S256", "")] {
        let mut pairs = good.to_vec();
        pairs[5].1 = method;
        pairs[4].1 = challenge;
        let pairs: Vec<_> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let answer = client.get(authorize(&pairs)).send().await.unwrap();
        assert_eq!(answer.status(), 302);
        let location = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
        let query: Vec<(String, String)> = location.query_pairs().into_owned().collect();
        assert_eq!(query[0], ("error".into(), "invalid_request".into()));
        assert!(query[1].1.starts_with("AADSTS"), "{query:?}");
        assert_eq!(query[2], ("state".into(), "s1".into()));
    }
    let mut pairs = good.to_vec();
    pairs[3].1 =
        "openid api://tap2key-broker/Passkeys.Register https://graph.microsoft.com/User.Read";
    let answer = client.get(authorize(&pairs)).send().await.unwrap();
    assert!(
        answer.headers()["location"]
            .to_str()
            .unwrap()
            .contains("AADSTS28000"),
        "one resource per request"
    );
}
