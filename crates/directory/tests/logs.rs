//! No secret in the logs: a whole sign-in and registration with every log line captured
//! (every crate, every level), then a search for the pass, the code, the access token and
//! the challenge; and direct mode's test sign-in, made in the app, for its challenge.

mod common;

use std::{
    io,
    sync::{Arc, Mutex},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use common::{Demo, SecurityKey};
use tap2key_directory::{Graph, SignIn};
use tracing::Level;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A current-thread runtime: every task (the directory's too) logs to this test's subscriber.
#[tokio::test(flavor = "current_thread")]
async fn a_sign_in_and_a_registration_log_no_secret() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt().with_max_level(Level::TRACE).with_ansi(false).with_writer(move || writer.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let demo = Demo::start("logs").await;
    let (_, pass) = demo.user_with_tap("ada@contoso.com", true).await;

    // The person, by hand, so the test sees the code on its way.
    let sign_in = SignIn::begin(&demo.config, &demo.http, "ada@contoso.com").await.unwrap();
    let url = sign_in.authorize_url().clone();
    let person = async {
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        form.push(("username".into(), "ada@contoso.com".into()));
        form.push(("pass".into(), pass.clone()));
        let mut action = url.clone();
        action.set_query(None);
        let answer = browser.post(action).form(&form).send().await.unwrap();
        let location = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
        let code = location.query_pairs().find(|(name, _)| name == "code").unwrap().1.into_owned();
        let back = format!("http://127.0.0.1:{}/?{}", location.port().unwrap(), location.query().unwrap());
        browser.get(back).send().await.unwrap().text().await.unwrap();
        code
    };
    let (code, tokens) = tokio::join!(person, sign_in.finish());
    let tokens = tokens.unwrap();

    let graph = Graph::me(&demo.config, demo.http.clone(), tokens.access_token.clone());
    let options = graph.creation_options().await.unwrap();
    let mut key = SecurityKey::new();
    let credential = key.make_credential(&options).unwrap();
    let method = graph.register("Ada's key", &options, &credential).await.unwrap();
    let test = graph.begin_test_sign_in(&method.id).await.unwrap();
    graph.finish_test_sign_in(&method.id, &test, &key.get_assertion(&test)).await.unwrap();

    let log = capture.text();
    assert!(log.contains("directory answered") && log.contains("/v1.0/me/authentication/fido2Methods"), "the capture works:\n{log}");
    let client_data: serde_json::Value = serde_json::from_slice(&options.client_data_json()).unwrap();
    let challenge = client_data["challenge"].as_str().unwrap();
    for (name, secret) in [("pass", pass.as_str()), ("code", code.as_str()), ("access token", tokens.access_token.secret()), ("challenge", challenge)] {
        assert!(secret.len() >= 8, "{name} is long enough to search for");
        assert!(!log.contains(secret), "the {name} is in the log:\n{log}");
    }
}

/// Direct mode: the challenge is made here, and stays here.
#[tokio::test(flavor = "current_thread")]
async fn the_local_challenge_stays_out_of_logs_and_debug() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt().with_max_level(Level::TRACE).with_ansi(false).with_writer(move || writer.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let demo = Demo::start("direct-logs").await;
    let graph = demo.ada_direct().await;
    let mut key = SecurityKey::new();
    let options = graph.creation_options().await.unwrap();
    let method = graph.register("Ada's key", &options, &key.make_credential(&options).unwrap()).await.unwrap();
    let test = graph.begin_test_sign_in(&method.id).await.unwrap();
    let mut answer = key.get_assertion(&test);
    answer.signature[10] ^= 0x01;
    graph.finish_test_sign_in(&method.id, &test, &answer).await.unwrap_err();

    let client_data: serde_json::Value = serde_json::from_slice(&test.client_data_json()).unwrap();
    let challenge = client_data["challenge"].as_str().unwrap().to_owned();
    assert_eq!(URL_SAFE_NO_PAD.decode(&challenge).unwrap().len(), 32);
    let log = capture.text();
    assert!(log.contains("directory answered"), "the capture works");
    assert!(!log.contains(&challenge), "the challenge was logged");
    for debug in [format!("{test:?}"), format!("{graph:?}")] {
        assert!(!debug.contains(&challenge), "{debug}");
    }
}
