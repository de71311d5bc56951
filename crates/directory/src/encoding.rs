//! Base64 as Entra really writes it. WebAuthn and Graph's documentation say base64url
//! without padding, and that is what this crate writes. Credential ids in
//! `excludeCredentials` arrive in three encodings in real responses (FACTS, "Passkey
//! (FIDO2) provisioning API"): base64url without padding, standard base64 with `+ / =`, and
//! base64url whose padding was replaced by its count (`0`, `1` or `2`, ASP.NET's
//! UrlTokenEncode). The last overlaps the first: `…Q1` may be plain base64url ending in
//! `1`, or `…Q` plus one `=`. So a credential id gets every plausible reading.

use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};

/// base64url without padding; decoding refuses `=` and non-zero trailing bits.
const URL_NO_PAD: GeneralPurpose =
    GeneralPurpose::new(&alphabet::URL_SAFE, GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::RequireNone));
const URL_ANY_PAD: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent));
const STANDARD_ANY_PAD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent));

/// base64url without padding: everything this crate sends.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_NO_PAD.encode(bytes)
}

/// Decodes a credential id in any of the three encodings Entra emits (base64url without padding, standard base64 with +/=,
/// base64url with a trailing padding-count digit 0/1/2). Returns every plausible decoding (a string ending in 0/1/2 may be
/// plain base64url too): all of them go into the exclude list; a key ignores ids that are not its own.
///
/// Empty when `text` is none of them; the most likely reading comes first.
pub fn credential_id_decodings(text: &str) -> Vec<Vec<u8>> {
    let standard = text.contains(['+', '/']);
    if text.is_empty() || (standard && text.contains(['-', '_'])) {
        return Vec::new(); // nothing, or two alphabets mixed: no encoder writes that
    }
    if standard || text.contains('=') {
        let engine = if standard { &STANDARD_ANY_PAD } else { &URL_ANY_PAD };
        return engine.decode(text).into_iter().collect();
    }
    let mut readings: Vec<Vec<u8>> = URL_NO_PAD.decode(text).into_iter().collect();
    if let Some((rest, digit @ ('0' | '1' | '2'))) = text.char_indices().last().map(|(at, c)| (&text[..at], c)) {
        let padding = usize::from(digit as u8 - b'0');
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

/// The one reading of a value that can only mean one thing (a challenge, a user handle).
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    credential_id_decodings(text).into_iter().next()
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};

    use super::*;

    /// A 64-byte credential id as a YubiKey 5 makes them (resident, so short and random).
    const ID: [u8; 64] = [
        0x6a, 0xfb, 0x1c, 0x3e, 0xff, 0x02, 0x9d, 0x44, 0xbe, 0x7f, 0x10, 0xe3, 0x58, 0x6c, 0xa1, 0xfe, 0x3b, 0x90, 0x0d, 0x71, 0xc8, 0xf4, 0x25, 0x6e,
        0x9b, 0x0f, 0xfa, 0x33, 0x81, 0x5c, 0xe7, 0x12, 0xd6, 0x4a, 0xbf, 0x08, 0x97, 0x3c, 0xff, 0x60, 0x2d, 0xe9, 0x75, 0x1b, 0xa4, 0xc0, 0x3f, 0x88,
        0x56, 0x0e, 0xfd, 0x27, 0x9a, 0x61, 0xb3, 0x4d, 0xee, 0x05, 0x7c, 0xd8, 0x39, 0xf3, 0x1a, 0x62,
    ];

    #[test]
    fn base64url_without_padding() {
        let text = "avscPv8CnUS-fxDjWGyh_juQDXHI9CVumw_6M4Fc5xLWSr8Ilzz_YC3pdRukwD-IVg79J5phs03uBXzYOfMaYg";
        assert_eq!(text, b64url(&ID));
        assert_eq!(credential_id_decodings(text), [ID.to_vec()]);
    }

    #[test]
    fn standard_base64_with_plus_slash_and_padding() {
        let text = "avscPv8CnUS+fxDjWGyh/juQDXHI9CVumw/6M4Fc5xLWSr8Ilzz/YC3pdRukwD+IVg79J5phs03uBXzYOfMaYg==";
        assert_eq!(text, STANDARD.encode(ID));
        assert_eq!(credential_id_decodings(text), [ID.to_vec()]);
    }

    #[test]
    fn base64url_with_a_padding_count() {
        // 64 bytes need two '=': ASP.NET writes the count instead.
        let text = "avscPv8CnUS-fxDjWGyh_juQDXHI9CVumw_6M4Fc5xLWSr8Ilzz_YC3pdRukwD-IVg79J5phs03uBXzYOfMaYg2";
        assert_eq!(credential_id_decodings(text), [ID.to_vec()]);
        // 65 bytes need one: "…Q1" is also plain base64url of other bytes, so both readings.
        let mut longer = ID.to_vec();
        longer.push(0x41);
        let padded = URL_SAFE.encode(&longer);
        let text = format!("{}1", padded.trim_end_matches('='));
        let readings = credential_id_decodings(&text);
        assert!(readings.contains(&longer), "{text}");
        // 66 bytes need none: a trailing "0".
        longer.push(0x42);
        let text = format!("{}0", URL_SAFE.encode(&longer));
        assert!(credential_id_decodings(&text).contains(&longer), "{text}");
    }

    #[test]
    fn every_length_in_every_encoding() {
        for len in 1..=80_usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(53).wrapping_add(0xf9)).collect();
            let padded = URL_SAFE.encode(&bytes);
            let trimmed = padded.trim_end_matches('=');
            let counted = format!("{trimmed}{}", padded.len() - trimmed.len());
            for text in [b64url(&bytes), STANDARD.encode(&bytes), counted] {
                assert!(credential_id_decodings(&text).contains(&bytes), "length {len}: {text}");
            }
            assert_eq!(decode(&b64url(&bytes)), Some(bytes.clone()), "plain base64url reads first");
        }
    }

    #[test]
    fn what_is_not_base64_has_no_reading() {
        for text in ["", "A", "ab+c-d", "ab cd", "abc!", "AB3", "AAAAA", "AAAA1", "AB==A", "AAAA===", "ñAAA"] {
            assert_eq!(credential_id_decodings(text), Vec::<Vec<u8>>::new(), "{text:?}");
        }
    }
}
