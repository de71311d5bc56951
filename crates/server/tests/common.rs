//! A demo directory on a random loopback port over a real SQLite file, and a client that
//! walks the sign-in the way the desktop app will.

#![allow(dead_code)]

use std::path::PathBuf;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use tap2key_server::{Clock, DESKTOP_CLIENT_ID, Server, ServerConfig, store::User};
use time::{Duration, OffsetDateTime, macros::datetime};

pub const REDIRECT: &str = "http://localhost:53117/callback";
pub const NOW: OffsetDateTime = datetime!(2026-11-22 09:00 UTC);

pub struct Directory {
    pub server: Server,
    pub clock: Clock,
    pub http: reqwest::Client,
    db: PathBuf,
}

impl Directory {
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, |_| {}).await
    }

    /// A directory whose demo configuration `configure` adjusts first.
    pub async fn start_with(name: &str, configure: impl FnOnce(&mut ServerConfig)) -> Self {
        let db = std::env::temp_dir().join(format!("tap2key-{name}-{}-{}.sqlite3", std::process::id(), rand::random::<u32>()));
        let clock = Clock::manual(NOW);
        let mut config = ServerConfig::demo(db.clone());
        configure(&mut config);
        let server = Server::start(config, clock.clone()).await.unwrap();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { server, clock, http, db }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/demo{path}", self.server.base_url())
    }

    pub async fn user_with_tap(&self, upn: &str, one_time: bool) -> (User, String) {
        let store = &self.server.state.store;
        let user = store.create_user(upn, "Ada Lovelace", NOW).await.unwrap();
        let tap = store.issue_tap(user.id, NOW, Duration::hours(1), one_time, NOW).await.unwrap();
        (user, tap.pass.to_string())
    }

    pub fn scope(&self) -> String {
        format!("openid profile {}", self.server.state.config.full_scope())
    }

    /// The authorize parameters a well-behaved client sends, with its PKCE verifier.
    pub fn authorize_params(&self, upn: &str) -> (Vec<(&'static str, String)>, String) {
        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let params = vec![
            ("client_id", DESKTOP_CLIENT_ID.to_owned()),
            ("response_type", "code".into()),
            ("redirect_uri", REDIRECT.into()),
            ("scope", self.scope()),
            ("state", "s-123".into()),
            ("nonce", "n-456".into()),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256".into()),
            ("login_hint", upn.into()),
            ("prompt", "login".into()),
        ];
        (params, verifier)
    }

    /// Posts the sign-in form as a person would after the page loaded.
    pub async fn submit(&self, params: &[(&'static str, String)], username: &str, pass: &str) -> reqwest::Response {
        let mut form = params.to_vec();
        form.push(("username", username.into()));
        form.push(("pass", pass.into()));
        self.http.post(self.url("/oauth2/v2.0/authorize")).form(&form).send().await.unwrap()
    }

    pub async fn redeem(&self, code: &str, verifier: &str) -> reqwest::Response {
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", DESKTOP_CLIENT_ID),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ];
        self.http.post(self.url("/oauth2/v2.0/token")).form(&form).send().await.unwrap()
    }
}

impl Drop for Directory {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.db.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The query parameters of a redirect's Location.
pub fn redirect_query(response: &reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), 302, "expected a redirect");
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

pub fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}
