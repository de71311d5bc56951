//! What a sign-in yields: the bearer token for Graph (kept zeroized, never printed) and
//! who signed in.

use std::{fmt, time::SystemTime};

use zeroize::Zeroizing;

/// A bearer access token, zeroized on drop; Debug prints "AccessToken(…)" never the value.
#[derive(Clone)]
pub struct AccessToken(Zeroizing<String>);

impl AccessToken {
    pub fn new(text: impl Into<String>) -> Self {
        Self(Zeroizing::new(text.into()))
    }

    /// The token itself, for an `Authorization: Bearer` header and nothing else.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(…)")
    }
}

#[derive(Clone, Debug)]
pub struct Tokens {
    pub access_token: AccessToken,
    /// When the access token stops working (from `expires_in`), if the directory said.
    pub expires_at: Option<SystemTime>,
    /// preferred_username from the id token
    pub account: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let token = AccessToken::new("eyJhbGciOiJFUzI1NiJ9.secret.sig");
        assert_eq!(format!("{token:?}"), "AccessToken(…)");
        let tokens = Tokens { access_token: token.clone(), expires_at: None, account: Some("ada@contoso.com".into()) };
        assert!(!format!("{tokens:?}").contains("secret"));
        assert_eq!(token.secret(), "eyJhbGciOiJFUzI1NiJ9.secret.sig");
    }
}
