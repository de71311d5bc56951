//! Base64 as Entra and browsers actually write it.
//!
//! WebAuthn says base64url without padding, and that is what this service writes. What it
//! reads is more forgiving, because Entra itself hands out credential ids in three
//! encodings (FACTS: "Passkey (FIDO2) provisioning API"), and clients echo them back:
//!
//! - base64url without padding (`-`, `_`, no `=`), as documented;
//! - standard base64 with `+`, `/` and `=` padding;
//! - base64url with a padding-number suffix: the padding removed and its length appended
//!   as one digit, `0`, `1` or `2` (ASP.NET's `UrlTokenEncode`).
//!
//! The last two overlap with the first: `…Q1` may be unpadded base64url ending in `1`, or
//! `…Q` plus one `=`. So [`decodings`] gives every reading, and a caller that knows what
//! the bytes should be (a credential id) asks [`matches`]; [`decode`] takes the first
//! reading for values where only one can make sense (clientDataJSON, signatures).

use base64::{
    Engine,
    alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};

/// base64url without padding; decoding refuses padding and non-zero trailing bits.
const URL_NO_PAD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Either alphabet's characters are checked separately; these accept padding or not.
const URL_ANY_PAD: GeneralPurpose =
    GeneralPurpose::new(&alphabet::URL_SAFE, GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent));
const STANDARD_ANY_PAD: GeneralPurpose =
    GeneralPurpose::new(&alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent));

/// base64url without padding: what this service writes everywhere.
pub fn b64url(bytes: &[u8]) -> String {
    URL_NO_PAD.encode(bytes)
}

/// Every way `text` reads as one of the three encodings, most likely first; empty if it
/// is none of them (or empty).
pub fn decodings(text: &str) -> Vec<Vec<u8>> {
    if text.is_empty() {
        return Vec::new();
    }
    let standard_only = text.contains(['+', '/']);
    let url_only = text.contains(['-', '_']);
    if standard_only && url_only {
        return Vec::new(); // two alphabets mixed: not something any encoder writes
    }
    if standard_only || text.contains('=') {
        let engine = if standard_only { &STANDARD_ANY_PAD } else { &URL_ANY_PAD };
        return engine.decode(text).map(|bytes| vec![bytes]).unwrap_or_default();
    }
    let mut readings = Vec::with_capacity(2);
    if let Ok(bytes) = URL_NO_PAD.decode(text) {
        readings.push(bytes);
    }
    if let Some(digit @ b'0'..=b'2') = text.bytes().last() {
        let rest = &text[..text.len() - 1];
        let padding = usize::from(digit - b'0');
        if !rest.is_empty()
            && (rest.len() + padding).is_multiple_of(4)
            && let Ok(bytes) = URL_NO_PAD.decode(rest)
            && !readings.contains(&bytes)
        {
            readings.push(bytes);
        }
    }
    readings
}

/// The most likely reading of `text`, if it has one.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    decodings(text).into_iter().next()
}

/// Whether some reading of `text` is exactly `expected`.
pub fn matches(text: &str, expected: &[u8]) -> bool {
    decodings(text).iter().any(|bytes| bytes == expected)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};

    use super::*;

    /// The padding-number form, written the way ASP.NET writes it.
    fn url_token(bytes: &[u8]) -> String {
        let padded = URL_SAFE.encode(bytes);
        let trimmed = padded.trim_end_matches('=');
        format!("{trimmed}{}", padded.len() - trimmed.len())
    }

    #[test]
    fn all_three_encodings_of_every_length_read_back() {
        for len in 1..=70_usize {
            // Bytes that make `+`/`/` and `-`/`_` appear.
            let bytes: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(37).wrapping_add(0xf8)).collect();
            let encodings = [b64url(&bytes), STANDARD.encode(&bytes), url_token(&bytes)];
            for text in &encodings {
                assert!(matches(text, &bytes), "length {len}: {text}");
            }
            assert_eq!(decode(&encodings[0]), Some(bytes.clone()), "base64url is the first reading");
            assert_eq!(decode(&encodings[1]), Some(bytes.clone()), "standard base64 has one reading");
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode("+/8="), Some(vec![0xfb, 0xff]));
        assert_eq!(decode("+/8"), Some(vec![0xfb, 0xff]), "standard base64 with its padding left off");
        assert_eq!(decode("-_8="), Some(vec![0xfb, 0xff]), "padded base64url");
        // "-_81": base64url of 3 bytes, or "-_8" + one "=": both readings are offered.
        assert_eq!(decodings("-_81"), [vec![0xfb, 0xff, 0x35], vec![0xfb, 0xff]]);
        // 4k+1 characters is never plain base64: only the suffix reading is left.
        assert_eq!(decodings("AAAA0"), [vec![0, 0, 0]]);
        assert_eq!(decodings("AA2"), [vec![0]], "one byte, two '=' removed");
        assert_eq!(decodings("AAA1"), [vec![0, 0, 0x35], vec![0, 0]]);
    }

    #[test]
    fn what_is_not_base64_has_no_reading() {
        for text in [
            "",
            "A",            // one character is never whole
            "AB==A",        // padding in the middle
            "ab+c-d",       // two alphabets mixed
            "ab cd",        // whitespace
            "abc!",         // not in either alphabet
            "AB3",          // '3' leaves non-zero trailing bits, and 3 is no padding count
            "AAAAA",        // 4k+1 not ending in 0
            "AAAA1",        // suffix 1 needs 4k-1 characters before it
            "AAAA==",       // too much padding
        ] {
            assert_eq!(decodings(text), Vec::<Vec<u8>>::new(), "{text:?}");
            assert_eq!(decode(text), None, "{text:?}");
        }
    }
}
