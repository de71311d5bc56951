//! The Graph passkey API (`…/authentication/fido2Methods`) for one user: options,
//! register, list, delete, and the test sign-in: our onboarding service's extension, or,
//! with Microsoft Graph itself (direct mode), checked in the app
//! ([`crate::local_test_sign_in`]). Bodies are exactly what Graph takes (FACTS: no `type`,
//! `rawId` or `@odata.type`; `displayName` at most 30 characters); answers are read
//! leniently (Entra adds fields).

use std::fmt;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use tap2key_keys::{Assertion, NewCredential};

use crate::{
    AccessToken, CreationOptions, DirectoryConfig, DirectoryError, LocalTestSignIn, PasskeyApi, TestSignInOptions,
    config::encode_segment,
    encoding::b64url,
    graph_error,
    http::{Answer, exchange},
    local_test_sign_in,
};

/// Graph keeps a method's `displayName` to 30 characters.
const MAX_DISPLAY_NAME: usize = 30;
/// What a key is called when the flow gives no name at all (Graph refuses an empty one).
const DEFAULT_DISPLAY_NAME: &str = "Security key";
/// List pages followed at most (Graph pages with `@odata.nextLink`; a person has a handful).
const MAX_PAGES: usize = 20;

/// One user's FIDO2 methods in Graph, with the token to reach them.
#[derive(Clone)]
pub struct Graph {
    http: reqwest::Client,
    /// `{graph}/me/authentication/fido2Methods` or `{graph}/users/{user}/authentication/fido2Methods`.
    methods: String,
    token: AccessToken,
    /// Direct mode (Graph has no test sign-in): the keys registered here, to test them
    /// against. `None` with an onboarding service, which tests them itself.
    local: Option<LocalTestSignIn>,
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may name a user: only whether it is /me.
        f.debug_struct("Graph").field("me", &self.methods.contains("/me/")).field("direct", &self.local.is_some()).finish_non_exhaustive()
    }
}

/// Graph's `fido2AuthenticationMethod`, the fields tap2key shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fido2Method {
    pub id: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub display_name: String,
    #[serde(default)]
    pub aa_guid: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<String>,
    #[serde(default)]
    pub attestation_level: Option<String>,
}

/// What the directory said about a test sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestSignInResult {
    pub verified: bool,
    #[serde(default)]
    pub sign_count: u32,
}

impl Graph {
    /// The signed-in user's own methods: {graph}/me/authentication/fido2Methods...
    pub fn me(config: &DirectoryConfig, http: reqwest::Client, token: AccessToken) -> Self {
        Self::new(config, http, token, config.graph_url("/me/authentication/fido2Methods"))
    }

    /// Another user's methods (IT staff): {graph}/users/{id-or-upn, percent-encoded}/authentication/fido2Methods...
    pub fn user(config: &DirectoryConfig, http: reqwest::Client, token: AccessToken, user: &str) -> Self {
        Self::new(config, http, token, config.graph_url(&format!("/users/{}/authentication/fido2Methods", encode_segment(user))))
    }

    fn new(config: &DirectoryConfig, http: reqwest::Client, token: AccessToken, methods: String) -> Self {
        let local = (config.api == PasskeyApi::GraphDirect).then(LocalTestSignIn::default);
        Self { http, methods, token, local }
    }

    /// Direct mode: remember registered keys in `memory` (shared with other `Graph`s of the
    /// same person, e.g. after signing in again) instead of in this one alone. No effect
    /// with an onboarding service.
    pub fn remembering_in(mut self, memory: &LocalTestSignIn) -> Self {
        if self.local.is_some() {
            self.local = Some(memory.clone());
        }
        self
    }

    /// Which passkey API this is.
    pub fn api(&self) -> PasskeyApi {
        if self.local.is_some() { PasskeyApi::GraphDirect } else { PasskeyApi::OnboardingService }
    }

    /// `GET …/creationOptions`: a fresh challenge (Entra: valid 5 minutes) and what the key
    /// must do.
    pub async fn creation_options(&self) -> Result<CreationOptions, DirectoryError> {
        let answer = self.call(Method::GET, "/creationOptions", None).await?;
        CreationOptions::from_json(&answer)
    }

    /// POST exactly `{"displayName", "publicKeyCredential": {"id", "response": {"clientDataJSON", "attestationObject"}, "clientExtensionResults": {}}}`
    /// (all base64url without padding). `type`, `rawId` and `@odata.type` are left out: Graph
    /// has been seen to answer them with 400. The name is trimmed and cut to Graph's 30
    /// characters (characters, not bytes).
    ///
    /// An empty name becomes "Security key" (Graph refuses an empty one).
    ///
    /// Direct mode: the attested public key is read first (a key whose answer could not be
    /// checked is not registered) and remembered under the method id Graph returns.
    pub async fn register(&self, display_name: &str, options: &CreationOptions, credential: &NewCredential) -> Result<Fido2Method, DirectoryError> {
        let attested = match &self.local {
            Some(_) => Some(local_test_sign_in::attested(&options.rp_id, credential)?),
            None => None,
        };
        let body = registration_body(display_name, options, credential);
        let answer = self.call(Method::POST, "", Some(&body)).await?;
        let method: Fido2Method = parse(answer, "the registered method")?;
        if let (Some(local), Some(attested)) = (&self.local, attested) {
            local.remember(&method.id, attested);
        }
        Ok(method)
    }

    /// `GET …/fido2Methods`, every page.
    pub async fn list(&self) -> Result<Vec<Fido2Method>, DirectoryError> {
        let mut methods = Vec::new();
        let mut answer = self.call(Method::GET, "", None).await?;
        for _ in 0..MAX_PAGES {
            let page: Vec<Fido2Method> = parse(answer["value"].take(), "the list of methods")?;
            methods.extend(page);
            let Some(next) = answer["@odata.nextLink"].as_str() else { break };
            if !self.same_origin(next) {
                return Err(DirectoryError::Protocol("Graph's next page is on another host".into()));
            }
            answer = self.call_url(Method::GET, next.to_owned(), None).await?;
        }
        Ok(methods)
    }

    /// `DELETE …/fido2Methods/{id}` (204).
    pub async fn delete(&self, method_id: &str) -> Result<(), DirectoryError> {
        self.call(Method::DELETE, &format!("/{}", encode_segment(method_id)), None).await?;
        if let Some(local) = &self.local {
            local.forget(method_id);
        }
        Ok(())
    }

    /// POST .../fido2Methods/{id}/testSignIn/begin (not in Graph; our service's extension).
    /// Direct mode: the options are made in the app, with no call at all.
    pub async fn begin_test_sign_in(&self, method_id: &str) -> Result<TestSignInOptions, DirectoryError> {
        if let Some(local) = &self.local {
            return local.begin(method_id);
        }
        let answer = self.call(Method::POST, &format!("/{}/testSignIn/begin", encode_segment(method_id)), Some(&json!({}))).await?;
        TestSignInOptions::from_json(&answer)
    }

    /// POST `.../{id}/testSignIn/finish` with `{"id","response":{"clientDataJSON","authenticatorData","signature","userHandle"}}` → signCount.
    /// Direct mode: verified in the app against the key's attested public key.
    pub async fn finish_test_sign_in(&self, method_id: &str, options: &TestSignInOptions, assertion: &Assertion) -> Result<TestSignInResult, DirectoryError> {
        if let Some(local) = &self.local {
            return local.finish(method_id, options, assertion);
        }
        let body = json!({
            "id": b64url(&assertion.credential_id),
            "response": {
                "clientDataJSON": b64url(&options.client_data_json()),
                "authenticatorData": b64url(&assertion.authenticator_data),
                "signature": b64url(&assertion.signature),
                "userHandle": assertion.user_handle.as_deref().map(b64url),
            },
        });
        let answer = self.call(Method::POST, &format!("/{}/testSignIn/finish", encode_segment(method_id)), Some(&body)).await?;
        parse(answer, "the test sign-in result")
    }

    /// Whether `url` is on Graph's own origin: the token goes nowhere else.
    fn same_origin(&self, url: &str) -> bool {
        let origin = |text: &str| url::Url::parse(text).ok().map(|url| url.origin());
        origin(url).is_some_and(|theirs| Some(theirs) == origin(&self.methods))
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, DirectoryError> {
        self.call_url(method, format!("{}{path}", self.methods), body).await
    }

    /// One request with the bearer token; a 2xx answer's JSON (`Null` when empty), or the
    /// error Graph's answer means.
    async fn call_url(&self, method: Method, url: String, body: Option<&Value>) -> Result<Value, DirectoryError> {
        let url = url::Url::parse(&url).map_err(|_| DirectoryError::Protocol("the Graph address is not a URL".into()))?;
        let mut request = self.http.request(method, url).bearer_auth(self.token.secret());
        if let Some(body) = body {
            request = request.json(body);
        }
        let request = request.build().map_err(|_| DirectoryError::Protocol("the Graph request could not be built".into()))?;
        let Answer { status, headers, body: bytes } = exchange(&self.http, request).await?;
        if !status.is_success() {
            return Err(graph_error::from_response(status, &headers, &bytes));
        }
        if bytes.is_empty() || status == StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|_| DirectoryError::Protocol("Graph's answer is not JSON".into()))
    }
}

/// The registration body, exactly as Graph takes it.
fn registration_body(display_name: &str, options: &CreationOptions, credential: &NewCredential) -> Value {
    json!({
        "displayName": display_name_for_graph(display_name),
        "publicKeyCredential": {
            "id": b64url(&credential.credential_id),
            "response": {
                "clientDataJSON": b64url(&options.client_data_json()),
                "attestationObject": b64url(&credential.attestation_object),
            },
            "clientExtensionResults": {},
        },
    })
}

/// Trimmed and cut to 30 characters (not bytes: "Ada's Schlüssel" is 15).
fn display_name_for_graph(name: &str) -> String {
    let name: String = name.trim().chars().take(MAX_DISPLAY_NAME).collect();
    match name.trim_end() {
        "" => DEFAULT_DISPLAY_NAME.to_owned(),
        name => name.to_owned(),
    }
}

fn parse<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T, DirectoryError> {
    serde_json::from_value(value).map_err(|_| DirectoryError::Protocol(format!("{what} is not in Graph's shape")))
}

fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_trimmed_and_cut_to_30_characters() {
        assert_eq!(display_name_for_graph("  Ada's YubiKey  "), "Ada's YubiKey");
        let long = "Ädä Lövelàce's ßecurity Key Nümber 2";
        let cut = display_name_for_graph(long);
        assert_eq!(cut.chars().count(), 30);
        assert!(long.starts_with(&cut));
        assert_eq!(display_name_for_graph("   "), "Security key");
        assert_eq!(display_name_for_graph(&format!("{}  x", "a".repeat(29))), "a".repeat(29), "no trailing space after the cut");
    }

    #[test]
    fn methods_read_graphs_shape_and_ignore_the_rest() {
        let method: Fido2Method = serde_json::from_value(json!({
            "id": "3f2c7a9e-0000-4000-8000-000000000000",
            "displayName": "Ada's key",
            "createdDateTime": "2026-11-22T09:00:00Z",
            "aaGuid": "74617032-6b65-792d-766b-65792d303031",
            "model": "tap2key Virtual Key",
            "attestationCertificates": ["0a1b"],
            "attestationLevel": "attested",
            "passkeyType": "deviceBound",
        }))
        .unwrap();
        assert_eq!(method.aa_guid.as_deref(), Some("74617032-6b65-792d-766b-65792d303031"));
        assert_eq!(method.attestation_level.as_deref(), Some("attested"));
        assert_eq!(serde_json::to_value(&method).unwrap()["displayName"], "Ada's key");
        let sparse: Fido2Method = serde_json::from_value(json!({"id": "x", "displayName": null})).unwrap();
        assert_eq!((sparse.display_name.as_str(), sparse.model), ("", None));
    }

    #[test]
    fn urls_for_me_and_for_another_user() {
        let config = DirectoryConfig::demo("http://127.0.0.1:8400");
        let token = AccessToken::new("t");
        let me = Graph::me(&config, reqwest::Client::new(), token.clone());
        assert_eq!(me.methods, "http://127.0.0.1:8400/v1.0/me/authentication/fido2Methods");
        let ada = Graph::user(&config, reqwest::Client::new(), token, "ada@contoso.com");
        assert_eq!(ada.methods, "http://127.0.0.1:8400/v1.0/users/ada%40contoso.com/authentication/fido2Methods");
        assert!(!format!("{ada:?}").contains("ada"));
    }

    #[test]
    fn direct_mode_keeps_its_memory_across_sign_ins() {
        let demo = DirectoryConfig::demo("http://127.0.0.1:8400");
        let memory = LocalTestSignIn::default();
        let service = Graph::me(&demo, reqwest::Client::new(), AccessToken::new("t")).remembering_in(&memory);
        assert_eq!((service.api(), service.local.is_none()), (PasskeyApi::OnboardingService, true));
        let direct = DirectoryConfig { api: PasskeyApi::GraphDirect, ..demo };
        let first = Graph::me(&direct, reqwest::Client::new(), AccessToken::new("t")).remembering_in(&memory);
        let again = Graph::me(&direct, reqwest::Client::new(), AccessToken::new("t2")).remembering_in(&memory);
        assert_eq!(first.api(), PasskeyApi::GraphDirect);
        assert!(first.local.as_ref().unwrap().same_memory(again.local.as_ref().unwrap()));
    }

    #[test]
    fn graph_futures_can_move_between_threads() {
        fn send<T: Send>(_: &T) {}
        let config = DirectoryConfig::demo("http://127.0.0.1:9");
        let graph = Graph::me(&config, reqwest::Client::new(), AccessToken::new("t"));
        send(&graph.list());
        send(&graph.creation_options());
        send(&graph.delete("x"));
    }
}
