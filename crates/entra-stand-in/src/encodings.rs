//! Binary values in JSON.
//!
//! Graph documents base64url without padding for everything in the passkey API
//! (creationOptions page: "All binary data in the response follows Base64URL encoding as
//! defined in RFC 4648 Section 5"), and that is what the POST must carry. Real
//! creationOptions responses nevertheless write `excludeCredentials[].id` in three ways
//! (FACTS.md): base64url without padding, standard base64 with `+ / =`, and base64url
//! with a trailing digit that counts the `=` left out (the beta page mentions this
//! "padding number suffix"). The stand-in writes them in rotation, so a client that reads
//! only one of them breaks here as it breaks against Graph.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};

pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url without padding: `None` for anything else (padding, `+`, `/`, spaces).
pub(crate) fn strict_b64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// The `index`-th credential's id in the rotation of Graph's three encodings.
pub(crate) fn rotating(bytes: &[u8], index: usize) -> String {
    match index % 3 {
        0 => URL_SAFE_NO_PAD.encode(bytes),
        1 => STANDARD.encode(bytes),
        _ => {
            let text = URL_SAFE_NO_PAD.encode(bytes);
            let padding = (4 - text.len() % 4) % 4;
            format!("{text}{padding}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_encodings() {
        let bytes = [0xfb, 0xff, 0xbf, 0x01];
        assert_eq!(rotating(&bytes, 0), "-_-_AQ");
        assert_eq!(rotating(&bytes, 1), "+/+/AQ==");
        assert_eq!(rotating(&bytes, 2), "-_-_AQ2");
        assert_eq!(rotating(&bytes, 3), "-_-_AQ");
        assert_eq!(rotating(&[1, 2, 3], 2), "AQID0");
        assert!(strict_b64url("-_-_AQ").is_some());
        assert!(strict_b64url("-_-_AQ==").is_none());
        assert!(strict_b64url("+/+/AQ").is_none());
    }
}
