//! The Graph side over real HTTP with an app token: a whole registration with the virtual
//! key through the real directory client, creationOptions' quirks, paging, the body
//! shapes Graph refuses, the policy, faults, tokens Graph refuses, and `/me`.

mod common;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use common::{Broker, SecurityKey};
use serde_json::{Value, json};
use tap2key_directory::{AccessToken, CreationOptions, DirectoryConfig, DirectoryError, Graph};
use tap2key_entra_stand_in::{
    Enforcement, Fault, Fido2Policy, KeyRestrictions, Route, StandInConfig,
};
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig};
use time::Duration;
use uuid::Uuid;

fn graph_for(broker: &Broker, token: &str, user: &str) -> Graph {
    let mut config = DirectoryConfig::demo(broker.stand_in.authority().as_str());
    config.graph = url::Url::parse(&format!("{}v1.0", broker.stand_in.graph())).unwrap();
    Graph::user(&config, broker.http.clone(), AccessToken::new(token), user)
}

fn virtual_key_aaguid() -> Uuid {
    Uuid::from_bytes(
        VirtualKey::new(VirtualKeyConfig::default())
            .unwrap()
            .model()
            .aaguid,
    )
}

/// Registers a fresh virtual key for `upn`; returns the key and the registration's JSON body.
async fn register(
    broker: &Broker,
    graph: &Graph,
    name: &str,
) -> (SecurityKey, tap2key_directory::Fido2Method) {
    let mut key = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let credential = key.make_credential(&options).unwrap();
    let method = graph.register(name, &options, &credential).await.unwrap();
    assert!(
        broker.stand_in.violations().is_empty(),
        "{:?}",
        broker.stand_in.violations()
    );
    (key, method)
}

#[tokio::test]
async fn a_registration_with_the_virtual_key_list_and_delete() {
    let broker = Broker::start().await;
    let ada = broker.stand_in.add_user("ada@contoso.test", "Ada Lovelace");
    let token = broker.app_token().await;
    let graph = graph_for(&broker, &token, "ada@contoso.test");

    let options = graph.creation_options().await.unwrap();
    assert_eq!(options.rp_id, "login.microsoft.com");
    assert_eq!(options.rp_name.as_deref(), Some("Microsoft"));
    assert_eq!(options.user_id.len(), 51);
    assert_eq!(options.algorithms, [-7, -257]);
    assert!(options.resident_key && options.hmac_secret);
    assert_eq!(options.cred_protect, Some(1));
    let mut key = SecurityKey::new();
    let credential = key.make_credential(&options).unwrap();
    let method = graph
        .register("Ada's key", &options, &credential)
        .await
        .unwrap();
    assert_eq!(method.display_name, "Ada's key");
    assert_eq!(method.model.as_deref(), Some("tap2key Virtual Key"));
    assert_eq!(method.aa_guid, Some(virtual_key_aaguid().to_string()));
    assert_eq!(method.attestation_level.as_deref(), Some("notAttested"));
    assert!(
        method.id.parse::<Uuid>().is_err(),
        "Entra's method ids are not GUIDs"
    );

    let held = broker.stand_in.fido2_methods(ada);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["passkeyType"], "deviceBound");
    assert_eq!(
        held[0]["attestationCertificates"].as_array().unwrap().len(),
        1
    );
    assert_eq!(graph.list().await.unwrap(), std::slice::from_ref(&method));

    // The same credential again, and the spent challenge.
    let error = graph
        .register("Ada's key", &options, &credential)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            DirectoryError::Refused { status: 400, .. }
                | DirectoryError::AlreadyRegistered { .. }
                | DirectoryError::ChallengeExpired
        ),
        "{error:?}"
    );
    let second = SecurityKey::new().make_credential(&options).unwrap();
    assert_eq!(
        graph.register("Spare", &options, &second).await,
        Err(DirectoryError::ChallengeExpired)
    );

    // A late answer.
    let options = graph.creation_options().await.unwrap();
    let late = SecurityKey::new().make_credential(&options).unwrap();
    broker.stand_in.clock().advance(Duration::minutes(6));
    assert_eq!(
        graph.register("Late", &options, &late).await,
        Err(DirectoryError::ChallengeExpired),
        "the client reads Graph's message as an expired challenge"
    );

    let token = broker.app_token().await;
    let graph = graph_for(&broker, &token, &ada.to_string());
    graph.delete(&method.id).await.unwrap();
    assert_eq!(graph.list().await.unwrap(), []);
    assert_eq!(
        graph.delete(&method.id).await,
        Err(DirectoryError::NotFound)
    );
    let requests = broker.stand_in.requests();
    assert!(
        requests
            .iter()
            .filter(|r| r.path.starts_with("/graph/"))
            .all(|r| r
                .headers
                .iter()
                .any(|(k, v)| k == "authorization" && v == "Bearer <app-token>"))
    );
    assert!(
        broker.stand_in.violations().is_empty(),
        "{:?}",
        broker.stand_in.violations()
    );
}

#[tokio::test]
async fn exclude_credentials_rotate_through_the_three_encodings_and_lists_page() {
    let broker = Broker::start_with(StandInConfig {
        graph_page_size: 2,
        ..StandInConfig::default()
    })
    .await;
    let ada = broker.stand_in.add_user("ada@contoso.test", "Ada Lovelace");
    let token = broker.app_token().await;
    let graph = graph_for(&broker, &token, "ada@contoso.test");
    let mut registered = Vec::new();
    for n in 0..3 {
        let (_, method) = register(&broker, &graph, &format!("Key {n}")).await;
        registered.push(method);
    }
    let (status, headers, options) = broker
        .graph_get(
            &token,
            "/users/ada@contoso.test/authentication/fido2Methods/creationOptions",
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json;odata.metadata=minimal")
    );
    assert!(headers.contains_key("request-id"));
    assert!(
        options["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#microsoft.graph.webauthnCredentialCreationOptions")
    );
    let public_key = &options["publicKey"];
    assert_eq!(public_key["timeout"], 0);
    assert_eq!(public_key["attestation"], "direct");
    assert!(public_key["challenge"].as_str().unwrap().len() > 1400);
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(public_key["user"]["id"].as_str().unwrap())
            .unwrap()
            .len(),
        51
    );
    let ids: Vec<&str> = public_key["excludeCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        (ids.len(), broker.stand_in.fido2_methods(ada).len()),
        (3, 3)
    );
    // 0: base64url without padding; 1: standard base64 (padded); 2: base64url + padding digit.
    let raw0 = URL_SAFE_NO_PAD.decode(ids[0]).unwrap();
    let raw1 = STANDARD.decode(ids[1]).unwrap();
    assert_eq!(ids[1], STANDARD.encode(&raw1));
    let (body2, digit) = ids[2].split_at(ids[2].len() - 1);
    let raw2 = URL_SAFE_NO_PAD.decode(body2).unwrap();
    assert_eq!(digit.parse::<usize>().unwrap(), (4 - body2.len() % 4) % 4);
    assert_eq!(ids[2], format!("{}{digit}", URL_SAFE_NO_PAD.encode(&raw2)));
    assert!(raw0 != raw1 && raw1 != raw2);
    // The client reads all three.
    let parsed = CreationOptions::from_json(&options).unwrap();
    for raw in [&raw0, &raw1, &raw2] {
        assert!(parsed.exclude_credentials.contains(raw));
    }

    // Paging: 2 + 1, with an absolute nextLink on the same host.
    let (_, _, first) = broker
        .graph_get(
            &token,
            "/users/ada@contoso.test/authentication/fido2Methods",
        )
        .await;
    assert_eq!(first["value"].as_array().unwrap().len(), 2);
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.starts_with(broker.stand_in.graph().as_str()) && next.contains("$skiptoken="),
        "{next}"
    );
    let answer: Value = broker
        .http
        .get(next)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["value"].as_array().unwrap().len(), 1);
    assert!(answer.get("@odata.nextLink").is_none());
    assert_eq!(graph.list().await.unwrap(), registered);
    let (status, _, _) = broker
        .graph_get(
            &token,
            "/users/ada@contoso.test/authentication/fido2Methods?$skiptoken=made-up",
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(broker.stand_in.violations().len(), 1);
}

fn body_from(options: &CreationOptions, credential: &tap2key_keys::NewCredential) -> Value {
    json!({
        "displayName": "Ada's key",
        "publicKeyCredential": {
            "id": URL_SAFE_NO_PAD.encode(&credential.credential_id),
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(options.client_data_json()),
                "attestationObject": URL_SAFE_NO_PAD.encode(&credential.attestation_object),
            },
            "clientExtensionResults": {},
        },
    })
}

#[tokio::test]
async fn body_shapes_graph_refuses_are_400_and_violations() {
    let broker = Broker::start().await;
    broker.stand_in.add_user("ada@contoso.test", "Ada Lovelace");
    let token = broker.app_token().await;
    let graph = graph_for(&broker, &token, "ada@contoso.test");
    let options = graph.creation_options().await.unwrap();
    let credential = SecurityKey::new().make_credential(&options).unwrap();
    let good = body_from(&options, &credential);
    let path = "/users/ada@contoso.test/authentication/fido2Methods";

    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut with = |what, edit: &dyn Fn(&mut Value)| {
        let mut body = good.clone();
        edit(&mut body);
        cases.push((what, body));
    };
    with("type", &|b| {
        b["publicKeyCredential"]["type"] = json!("public-key")
    });
    with("rawId", &|b| {
        b["publicKeyCredential"]["rawId"] = b["publicKeyCredential"]["id"].clone()
    });
    with("@odata.type", &|b| {
        b["@odata.type"] = json!("#microsoft.graph.fido2AuthenticationMethod")
    });
    with("unknown property", &|b| {
        b["aaGuid"] = json!("00000000-0000-0000-0000-000000000000")
    });
    with("empty displayName", &|b| b["displayName"] = json!(""));
    with("long displayName", &|b| {
        b["displayName"] = json!("x".repeat(31))
    });
    with("padded base64", &|b| {
        let padded = STANDARD.encode(
            URL_SAFE_NO_PAD
                .decode(
                    b["publicKeyCredential"]["response"]["clientDataJSON"]
                        .as_str()
                        .unwrap(),
                )
                .unwrap(),
        );
        b["publicKeyCredential"]["response"]["clientDataJSON"] = json!(padded);
    });
    for (what, body) in &cases {
        broker.stand_in.clear_journal();
        let (status, answer) = broker.graph_post(&token, path, body).await;
        assert_eq!(status, 400, "{what}: {answer}");
        assert!(
            answer["error"]["message"].is_string()
                && answer["error"]["innerError"]["request-id"].is_string(),
            "{answer}"
        );
        assert_eq!(broker.stand_in.violations().len(), 1, "{what}");
    }
    broker.stand_in.clear_journal();
    let answer = broker
        .http
        .post(broker.graph_url(path))
        .bearer_auth(&token)
        .body(good.to_string())
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 415);
    let answer = broker
        .http
        .post(broker.graph_url(&format!("{path}?x=1")))
        .bearer_auth(&token)
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let answer = broker
        .http
        .get(broker.graph_url("/users//authentication/fido2Methods"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert_eq!(
        broker.stand_in.violations().len(),
        3,
        "{:?}",
        broker.stand_in.violations()
    );

    // The untouched body still registers: the refusals did not spend the challenge.
    broker.stand_in.clear_journal();
    let (status, answer) = broker.graph_post(&token, path, &good).await;
    assert_eq!(status, 201, "{answer}");
    assert!(
        answer["@odata.context"]
            .as_str()
            .unwrap()
            .contains("fido2Methods/$entity")
    );
    assert!(broker.stand_in.violations().is_empty());
}

#[tokio::test]
async fn the_fido2_policy_self_service_attestation_and_key_restrictions() {
    let broker = Broker::start().await;
    broker.stand_in.add_user("ada@contoso.test", "Ada Lovelace");
    let token = broker.app_token().await;
    let graph = graph_for(&broker, &token, "ada@contoso.test");

    broker.stand_in.set_fido2_policy(Fido2Policy {
        is_self_service_registration_allowed: false,
        ..Fido2Policy::default()
    });
    let (status, _, body) = broker
        .graph_get(
            &token,
            "/users/ada@contoso.test/authentication/fido2Methods/creationOptions",
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("self-service"),
        "{body}"
    );

    let root = VirtualKey::new(VirtualKeyConfig::default())
        .unwrap()
        .attestation_root_der()
        .to_vec();
    let aaguid = virtual_key_aaguid();
    broker.stand_in.set_fido2_policy(Fido2Policy {
        is_attestation_enforced: true,
        attestation_roots: vec![root.clone()],
        ..Fido2Policy::default()
    });
    let (_, method) = register(&broker, &graph, "Attested").await;
    assert_eq!(method.attestation_level.as_deref(), Some("attested"));

    broker.stand_in.set_fido2_policy(Fido2Policy {
        key_restrictions: Some(KeyRestrictions {
            enforcement_type: Enforcement::Block,
            aa_guids: vec![aaguid],
        }),
        ..Fido2Policy::default()
    });
    let options = graph.creation_options().await.unwrap();
    let credential = SecurityKey::new().make_credential(&options).unwrap();
    let error = graph
        .register("Blocked", &options, &credential)
        .await
        .unwrap_err();
    assert!(
        format!("{error:?}").contains(&aaguid.to_string()),
        "{error:?}"
    );

    broker.stand_in.set_fido2_policy(Fido2Policy {
        key_restrictions: Some(KeyRestrictions {
            enforcement_type: Enforcement::Allow,
            aa_guids: vec![aaguid],
        }),
        ..Fido2Policy::default()
    });
    register(&broker, &graph, "Allowed").await;
    broker.stand_in.set_fido2_policy(Fido2Policy {
        is_attestation_enforced: true,
        attestation_roots: vec![common::pem_der(include_str!("../keys/other_cert.pem"))],
        ..Fido2Policy::default()
    });
    let options = graph.creation_options().await.unwrap();
    let credential = SecurityKey::new().make_credential(&options).unwrap();
    let error = graph
        .register("Untrusted", &options, &credential)
        .await
        .unwrap_err();
    assert!(format!("{error:?}").contains("attestation"), "{error:?}");
}

#[tokio::test]
async fn faults_come_first_and_in_graphs_shapes() {
    let broker = Broker::start().await;
    broker.stand_in.add_user("ada@contoso.test", "Ada Lovelace");
    let token = broker.app_token().await;
    let path = "/users/ada@contoso.test/authentication/fido2Methods";
    let url = broker.graph_url(path);
    let cases = [
        (
            Fault::TooManyRequests {
                retry_after_seconds: 7,
            },
            429,
            "TooManyRequests",
            Some("7"),
        ),
        (
            Fault::ServiceUnavailable {
                retry_after_seconds: Some(3),
            },
            503,
            "serviceNotAvailable",
            Some("3"),
        ),
        (
            Fault::ServiceUnavailable {
                retry_after_seconds: None,
            },
            503,
            "serviceNotAvailable",
            None,
        ),
        (Fault::ExpiredToken, 401, "InvalidAuthenticationToken", None),
        (Fault::InternalServerError, 500, "generalException", None),
    ];
    for (fault, status, code, retry_after) in cases {
        broker.stand_in.fail_next(Route::List, 1, fault);
        let answer = broker
            .http
            .get(&url)
            .bearer_auth(&token)
            .header("client-request-id", "c-123")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status);
        assert_eq!(
            answer
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap()),
            retry_after
        );
        assert_eq!(answer.headers()["client-request-id"], "c-123");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], code);
        assert_eq!(body["error"]["innerError"]["client-request-id"], "c-123");
        assert_eq!(
            broker
                .http
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status(),
            200,
            "one time only"
        );
    }
    // Faults apply before the token is even looked at, per route.
    broker.stand_in.fail_next(
        Route::CreationOptions,
        2,
        Fault::TooManyRequests {
            retry_after_seconds: 1,
        },
    );
    for _ in 0..2 {
        let answer = broker
            .http
            .get(broker.graph_url(&format!("{path}/creationOptions")))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 429);
    }
    assert_eq!(
        broker.graph_get(&token, path).await.0,
        200,
        "other routes are untouched"
    );
    broker.stand_in.fail_next(
        Route::Token,
        1,
        Fault::ServiceUnavailable {
            retry_after_seconds: Some(2),
        },
    );
    let (status, body) = broker.with_assertion(&broker.assertion()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    broker.app_token().await;
}

#[tokio::test]
async fn tokens_graph_refuses_and_the_me_endpoint() {
    let broker = Broker::start().await;
    broker.stand_in.add_user("ada@contoso.test", "Ada Lovelace");
    let path = "/users/ada@contoso.test/authentication/fido2Methods";
    let token = broker.app_token().await;

    let answer = broker
        .http
        .get(broker.graph_url(path))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    assert!(
        answer.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(
        answer.json::<Value>().await.unwrap()["error"]["message"],
        "Access token is empty."
    );
    assert_eq!(broker.graph_get("not-a-jwt", path).await.0, 401);

    broker.stand_in.expire_app_tokens();
    let (status, _, body) = broker.graph_get(&token, path).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );
    let fresh = broker.app_token().await;
    assert_eq!(broker.graph_get(&fresh, path).await.0, 200);
    broker.stand_in.clock().advance(Duration::minutes(61));
    let (status, _, body) = broker.graph_get(&fresh, path).await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (401, Some("Access token has expired or is not yet valid."))
    );

    broker.stand_in.grant_graph_permission(false);
    let unconsented = broker.app_token().await;
    let (status, _, body) = broker.graph_get(&unconsented, path).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("Authorization_RequestDenied"))
    );
    broker.stand_in.grant_graph_permission(true);

    let token = broker.app_token().await;
    let (status, _, body) = broker
        .graph_get(
            &token,
            "/users/nobody@contoso.test/authentication/fido2Methods/creationOptions",
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("Request_ResourceNotFound"))
    );
    assert_eq!(
        body["error"]["message"],
        "Resource 'nobody@contoso.test' does not exist or one of its queried reference-property objects are not present."
    );
    assert!(broker.stand_in.violations().is_empty());

    let (status, _, _) = broker
        .graph_get(&token, "/me/authentication/fido2Methods/creationOptions")
        .await;
    assert_eq!(status, 400, "/me needs a signed-in user");
    assert_eq!(broker.stand_in.violations().len(), 1);
}

#[tokio::test]
async fn me_with_a_delegated_graph_token_is_405() {
    let broker = Broker::start().await;
    let ada = broker.stand_in.add_user("ada@contoso.test", "Ada Lovelace");
    let pass = broker.stand_in.issue_tap(ada, Duration::hours(1), false);
    let mut config = DirectoryConfig::demo(broker.stand_in.authority().as_str());
    config.tenant = broker.stand_in.config().tenant_id.to_string();
    config.client_id = broker.stand_in.config().desktop_client_id.to_string();
    config.scopes = [
        "openid",
        "profile",
        "https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite",
    ]
    .map(str::to_owned)
    .to_vec();
    config.graph = url::Url::parse(&format!("{}v1.0", broker.stand_in.graph())).unwrap();
    let sign_in = tap2key_directory::SignIn::begin(&config, &broker.http, "ada@contoso.test")
        .await
        .unwrap();
    let url = sign_in.authorize_url().clone();
    let (typed, tokens) = tokio::join!(
        tap2key_directory::testing::type_tap(&broker.http, &url, "ada@contoso.test", &pass),
        sign_in.finish()
    );
    typed.unwrap();
    let token = tokens.unwrap().access_token;
    let (status, _, body) = broker
        .graph_get(
            token.secret(),
            "/me/authentication/fido2Methods/creationOptions",
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (405, Some("methodNotAllowed"))
    );
    assert_eq!(
        body["error"]["message"],
        "The method is not supported for this URL."
    );
    let (status, _, _) = broker
        .graph_get(
            token.secret(),
            "/users/ada@contoso.test/authentication/fido2Methods",
        )
        .await;
    assert_eq!(status, 403, "a delegated user without an admin role");
    assert!(
        broker
            .stand_in
            .requests()
            .iter()
            .any(|r| r.headers.iter().any(|(_, v)| v == "Bearer <user-token>"))
    );
}

#[tokio::test]
async fn beta_takes_a_challenge_timeout_and_v1_does_not() {
    let broker = Broker::start().await;
    broker.stand_in.add_user("ada@contoso.test", "Ada Lovelace");
    let token = broker.app_token().await;
    let base = broker.stand_in.graph();
    let get = |version: &str, minutes: i64| {
        let url = format!(
            "{base}{version}/users/ada@contoso.test/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes={minutes})"
        );
        broker.http.get(url).bearer_auth(&token).send()
    };
    let answer = get("beta", 10).await.unwrap();
    assert_eq!(answer.status(), 200);
    let options: Value = answer.json().await.unwrap();
    let expires = time::OffsetDateTime::parse(
        options["challengeTimeoutDateTime"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(
        expires,
        broker.stand_in.clock().now() + Duration::minutes(10)
    );
    assert!(
        options["@odata.context"]
            .as_str()
            .unwrap()
            .contains("/beta/$metadata#")
    );
    for (version, minutes) in [("beta", 4), ("beta", 43_201), ("v1.0", 10)] {
        assert_eq!(
            get(version, minutes).await.unwrap().status(),
            400,
            "{version} {minutes}"
        );
    }
}
