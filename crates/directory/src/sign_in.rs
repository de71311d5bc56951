//! Signing in with a Temporary Access Pass: OAuth 2.0 authorization code + PKCE (S256)
//! with a loopback redirect (RFC 8252), the way Entra wants a desktop app to do it. The
//! person types the pass into the directory's own page; the app never sees it.
//!
//! oauth2 builds the authorize URL and redeems the code (through our reqwest client, see
//! `http::send_oauth`); this module adds what oauth2 leaves to the caller: the
//! listener, the `state` check, OAuth error redirects in the flow's terms, and the ID
//! token (nonce) check.

use std::{fmt, time::SystemTime};

use oauth2::{
    AuthUrl, AuthorizationCode, Client, ClientId, CsrfToken, EndpointNotSet, EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
    basic::{BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType},
};
use serde::{Deserialize, Serialize};
use url::Url;
use zeroize::Zeroizing;

use crate::{
    AccessToken, DirectoryConfig, DirectoryError, SignInProblem, Tokens, callback_page,
    http::send_oauth,
    id_token::{self, Discovery, Expected, SigningKeys},
    loopback::{Loopback, RedirectQuery},
};

/// The token endpoint's answer: the standard fields plus the ID token.
type TokenAnswer = StandardTokenResponse<IdTokenField, BasicTokenType>;

type OAuthClient = Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

#[derive(Clone, Deserialize, Serialize)]
struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdTokenField(…)")
    }
}

impl ExtraTokenFields for IdTokenField {}

/// One sign-in in progress: the listener waiting for the browser, and the secrets that
/// tie the answer to this request (zeroized when done).
pub struct SignIn {
    loopback: Loopback,
    authorize_url: Url,
    oauth: OAuthClient,
    http: reqwest::Client,
    discovery: Discovery,
    client_id: String,
    wants_id_token: bool,
    state: Zeroizing<String>,
    nonce: Zeroizing<String>,
    /// The PKCE verifier. (oauth2 copies it briefly into the token request.)
    verifier: Zeroizing<String>,
}

impl fmt::Debug for SignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignIn").field("port", &self.loopback.port()).finish_non_exhaustive()
    }
}

impl SignIn {
    /// Binds the loopback listener the sign-in comes back to (`http://localhost:<port>/`:
    /// Entra matches `http://localhost` on any port), and builds the authorize URL with a
    /// fresh PKCE verifier, `state` and `nonce`, `login_hint` (the page opens on the right
    /// account) and `prompt=login` (a pass is asked for even if the browser has a session).
    ///
    /// It also reads the directory's openid-configuration, so a directory that cannot be
    /// reached fails here, before a browser window opens on a page that will not load.
    pub async fn begin(config: &DirectoryConfig, http: &reqwest::Client, login_hint: &str) -> Result<SignIn, DirectoryError> {
        let discovery = Discovery::fetch(http, config).await?;
        let loopback = Loopback::bind().await.map_err(|_| DirectoryError::Protocol("no loopback port is free for the sign-in to come back to".into()))?;
        let redirect = format!("http://localhost:{}/", loopback.port());
        let oauth = Client::new(ClientId::new(config.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(config.tenant_url("/oauth2/v2.0/authorize")?))
            .set_token_uri(TokenUrl::from_url(config.tenant_url("/oauth2/v2.0/token")?))
            .set_redirect_uri(RedirectUrl::new(redirect).map_err(|_| DirectoryError::Protocol("the redirect URI is not a URL".into()))?);

        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let verifier = Zeroizing::new(verifier.into_secret());
        let nonce = Zeroizing::new(CsrfToken::new_random().into_secret());
        let (authorize_url, state) = oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(config.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge)
            .add_extra_param("nonce", nonce.as_str())
            .add_extra_param("login_hint", login_hint)
            .add_extra_param("prompt", "login")
            .url();
        tracing::debug!(port = loopback.port(), "sign-in: waiting for the browser");
        Ok(SignIn {
            loopback,
            authorize_url,
            oauth,
            http: http.clone(),
            discovery,
            client_id: config.client_id.clone(),
            wants_id_token: config.scopes.iter().any(|scope| scope == "openid"),
            state: Zeroizing::new(state.into_secret()),
            nonce,
            verifier,
        })
    }

    /// Where to send the browser. It carries state, nonce and the PKCE challenge (none of
    /// them a secret on their own), so it is not logged either.
    pub fn authorize_url(&self) -> &Url {
        &self.authorize_url
    }

    /// Waits for the browser to come back to the redirect (other requests, such as a
    /// favicon, get a 404 and the wait goes on), checks `state`, turns an OAuth error into
    /// a [`SignInProblem`], redeems the code with the PKCE verifier and checks the id token
    /// (nonce, issuer, audience, expiry, and its signature against the directory's JWKS).
    /// The browser is answered with a page in plain words once the outcome is known.
    ///
    /// It waits as long as the person needs; drop the future to give up (the listener
    /// closes with it).
    pub async fn finish(self) -> Result<Tokens, DirectoryError> {
        let redirect = self.loopback.redirect().await;
        // The browser gets its page once the outcome is known: "signed in" only if it is so.
        let outcome = self.complete(&redirect.query).await;
        redirect.answer(&callback_page::page(&outcome)).await;
        match &outcome {
            Ok(_) => tracing::debug!("sign-in: signed in"),
            Err(error) => tracing::debug!(%error, "sign-in: not signed in"),
        }
        outcome
    }

    async fn complete(&self, query: &RedirectQuery) -> Result<Tokens, DirectoryError> {
        if query.state.as_deref() != Some(self.state.as_str()) {
            return Err(DirectoryError::SignInTampered);
        }
        if let Some(error) = &query.error {
            return Err(redirect_error(error, query.error_subcode.as_deref(), query.error_description.as_deref()));
        }
        let code = query.code.as_ref().ok_or_else(|| DirectoryError::Protocol("the sign-in came back without a code".into()))?;
        let answer = self.redeem(code).await?;
        let access_token = AccessToken::new(answer.access_token().secret().as_str());
        let expires_at = answer.expires_in().map(|lifetime| SystemTime::now() + lifetime);
        let account = match &answer.extra_fields().id_token {
            Some(id_token) => {
                let keys = SigningKeys::fetch(&self.http, &self.discovery.jwks_uri).await?;
                let expected = Expected { issuer: &self.discovery.issuer, client_id: &self.client_id, nonce: &self.nonce };
                id_token::verify(id_token, &keys, &expected, SystemTime::now())?.preferred_username
            }
            // Asked for and left out: nothing ties this token to our nonce.
            None if self.wants_id_token => return Err(DirectoryError::SignInTampered),
            None => None,
        };
        Ok(Tokens { access_token, expires_at, account })
    }

    /// The code and the PKCE verifier for tokens, through oauth2.
    async fn redeem(&self, code: &str) -> Result<TokenAnswer, DirectoryError> {
        let http = self.http.clone();
        let send = move |request| send_oauth(http.clone(), request);
        self.oauth
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(self.verifier.to_string()))
            .request_async(&send)
            .await
            .map_err(token_error)
    }
}

/// An OAuth error on the redirect: the pass problems the flow explains, the service being
/// down, or a request the directory would not take (a configuration problem, described
/// in the directory's words: AADSTS codes and reasons, nothing secret).
fn redirect_error(error: &str, subcode: Option<&str>, description: Option<&str>) -> DirectoryError {
    match error {
        "access_denied" => DirectoryError::SignIn(SignInProblem::from_subcode(subcode)),
        "temporarily_unavailable" | "server_error" => DirectoryError::Unavailable { retry_after_seconds: None },
        other => {
            let message = description.filter(|text| !text.is_empty()).unwrap_or("the directory did not accept the sign-in request");
            DirectoryError::Refused { status: 400, code: other.to_owned(), message: message.chars().take(600).collect() }
        }
    }
}

fn token_error(error: RequestTokenError<DirectoryError, BasicErrorResponse>) -> DirectoryError {
    match error {
        RequestTokenError::Request(error) => error,
        RequestTokenError::ServerResponse(answer) => {
            let status = if *answer.error() == BasicErrorResponseType::InvalidClient { 401 } else { 400 };
            // Entra's descriptions name AADSTS codes and reasons, never the code itself.
            let message = answer.error_description().cloned().unwrap_or_else(|| "the directory did not accept the sign-in code".into());
            DirectoryError::Refused { status, code: answer.error().to_string(), message }
        }
        RequestTokenError::Parse(..) | RequestTokenError::Other(_) => DirectoryError::Protocol("the token endpoint's answer is not OAuth JSON".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_errors_on_the_redirect() {
        assert_eq!(redirect_error("access_denied", Some("tap_expired"), Some("AADSTS: expired")), DirectoryError::SignIn(SignInProblem::TapExpired));
        assert_eq!(redirect_error("access_denied", None, None), DirectoryError::SignIn(SignInProblem::Denied));
        assert_eq!(redirect_error("temporarily_unavailable", None, None), DirectoryError::Unavailable { retry_after_seconds: None });
        let scope = "AADSTS70011: The requested scope is not valid.";
        assert_eq!(
            redirect_error("invalid_scope", None, Some(scope)),
            DirectoryError::Refused { status: 400, code: "invalid_scope".into(), message: scope.into() }
        );
    }

    #[test]
    fn sign_in_futures_can_move_between_threads() {
        fn send<T: Send>(_: &T) {}
        let config = DirectoryConfig::demo("http://127.0.0.1:9");
        let http = reqwest::Client::new();
        send(&SignIn::begin(&config, &http, "ada@contoso.com"));
        let finish = |sign_in: SignIn| async move { sign_in.finish().await };
        fn send_fn<F: Fn(SignIn) -> Fut, Fut: Future + Send>(_: &F) {}
        send_fn(&finish);
    }
}
