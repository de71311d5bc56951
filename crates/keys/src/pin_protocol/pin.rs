//! The PIN as the platform must prepare it before any protocol step (CTAP 2.1 §6.5.1).

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// A PIN as typed by the user: NFC-normalised, checked, held zeroized. Never Debug-prints its content.
///
/// The authenticator only ever sees bytes, so the same PIN typed on two systems must become the same
/// bytes: CTAP 2.1 makes the platform apply Unicode NFC before hashing or encrypting it.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

/// Why a typed PIN cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinFormatError {
    #[error("the PIN is empty")]
    Empty,
    /// Fewer code points than the authenticator's minimum; `min` is the minimum that was applied.
    #[error("the PIN must be at least {min} characters long")]
    TooShort { min: usize },
    #[error("the PIN must be at most {} bytes long in UTF-8", Pin::MAX_BYTES)]
    TooLong,
    /// A NUL would be taken for the padding that ends the PIN inside newPinEnc.
    #[error("the PIN must not contain the NUL character")]
    ContainsNul,
}

impl Pin {
    /// CTAP's floor for the minimum PIN length, in code points; an authenticator's minPINLength
    /// (getInfo 0x0D) can only raise it.
    pub const MIN_CODE_POINTS: usize = 4;
    /// newPinEnc carries the PIN in 64 bytes, at least one of which must be the 0x00 padding.
    pub const MAX_BYTES: usize = 63;

    /// NFC-normalises; errors: empty, shorter than `min_code_points` (count Unicode code points after
    /// NFC; CTAP default 4), longer than 63 UTF-8 bytes, contains NUL.
    ///
    /// A `min_code_points` below [`Pin::MIN_CODE_POINTS`] is raised to it: no authenticator accepts a
    /// shorter PIN, so failing here gives the user a clearer message than the key's 0x37.
    pub fn new(typed: &str, min_code_points: usize) -> Result<Pin, PinFormatError> {
        let normalized = nfc(typed);
        check(&normalized, min_code_points.max(Self::MIN_CODE_POINTS))?;
        Ok(Pin(normalized))
    }

    /// The number of Unicode code points, which is what minPINLength counts (not bytes, not graphemes).
    pub fn code_points(&self) -> usize {
        self.0.chars().count()
    }

    /// The normalised PIN, for libraries that take a PIN as text (ctap-hid-fido2 does). Whatever
    /// copies it takes on the responsibility of not logging it and of zeroizing the copy.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The normalised PIN in UTF-8, as hashed into pinHashEnc and padded into newPinEnc.
    pub(super) fn utf8(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not even the length: it narrows down the PIN.
        f.write_str("Pin(<redacted>)")
    }
}

/// NFC into storage that is zeroized on drop. The capacity is reserved up front so the string is not
/// reallocated while growing, which would leave copies of the PIN in freed memory. NFC can expand
/// text, at most threefold in UTF-8 bytes (U+1D160, 4 bytes, becomes three 4-byte code points).
fn nfc(typed: &str) -> Zeroizing<String> {
    let mut normalized = Zeroizing::new(String::with_capacity(typed.len().saturating_mul(3)));
    normalized.extend(typed.nfc());
    normalized
}

fn check(pin: &str, min_code_points: usize) -> Result<(), PinFormatError> {
    if pin.is_empty() {
        return Err(PinFormatError::Empty);
    }
    if pin.contains('\0') {
        return Err(PinFormatError::ContainsNul);
    }
    if pin.len() > Pin::MAX_BYTES {
        return Err(PinFormatError::TooLong);
    }
    if pin.chars().count() < min_code_points {
        return Err(PinFormatError::TooShort { min: min_code_points });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfc_composes_e_and_combining_acute_into_one_code_point() {
        let decomposed = "caf\u{65}\u{301}";
        let pin = Pin::new(decomposed, 4).unwrap();
        assert_eq!(pin.code_points(), 4);
        assert_eq!(pin.as_str(), "caf\u{e9}");
        assert_eq!(pin.utf8(), "caf\u{e9}".as_bytes());
        // Typed either way, the authenticator sees the same bytes.
        assert_eq!(pin.utf8(), Pin::new("caf\u{e9}", 4).unwrap().utf8());
    }

    #[test]
    fn the_minimum_counts_code_points_after_nfc() {
        // Five code points typed, four after NFC: passes 4, fails 5.
        assert!(Pin::new("abc\u{65}\u{301}", 4).is_ok());
        assert_eq!(Pin::new("abc\u{65}\u{301}", 5).unwrap_err(), PinFormatError::TooShort { min: 5 });
    }

    #[test]
    fn four_emoji_are_four_code_points_and_enough() {
        let pin = Pin::new("🔑🔒🔓🗝", 4).unwrap();
        assert_eq!(pin.code_points(), 4);
        assert_eq!(pin.utf8().len(), 16);
        assert_eq!(Pin::new("🔑🔒🔓", 4).unwrap_err(), PinFormatError::TooShort { min: 4 });
    }

    #[test]
    fn the_minimum_never_drops_below_four() {
        assert_eq!(Pin::new("123", 0).unwrap_err(), PinFormatError::TooShort { min: 4 });
        assert_eq!(Pin::new("123", 3).unwrap_err(), PinFormatError::TooShort { min: 4 });
        assert_eq!(Pin::new("12345", 6).unwrap_err(), PinFormatError::TooShort { min: 6 });
        assert!(Pin::new("1234", 0).is_ok());
    }

    #[test]
    fn sixty_three_bytes_is_the_maximum() {
        assert!(Pin::new(&"a".repeat(63), 4).is_ok());
        assert_eq!(Pin::new(&"a".repeat(64), 4).unwrap_err(), PinFormatError::TooLong);
        // 21 three-byte characters are 63 bytes; one more byte is too many.
        assert!(Pin::new(&"€".repeat(21), 4).is_ok());
        assert_eq!(Pin::new(&format!("{}a", "€".repeat(21)), 4).unwrap_err(), PinFormatError::TooLong);
    }

    #[test]
    fn the_byte_limit_applies_after_nfc() {
        // 62 ASCII bytes + e + U+0301 is 65 bytes typed, 64 after NFC (é is 2 bytes): still too long.
        let typed = format!("{}e\u{301}", "a".repeat(62));
        assert_eq!(Pin::new(&typed, 4).unwrap_err(), PinFormatError::TooLong);
        // 61 + é is 63 bytes after NFC although 64 were typed.
        let typed = format!("{}e\u{301}", "a".repeat(61));
        assert_eq!(Pin::new(&typed, 4).unwrap().utf8().len(), 63);
    }

    #[test]
    fn empty_and_nul_are_rejected() {
        assert_eq!(Pin::new("", 4).unwrap_err(), PinFormatError::Empty);
        assert_eq!(Pin::new("12\u{0}34", 4).unwrap_err(), PinFormatError::ContainsNul);
        assert_eq!(Pin::new("1234\u{0}", 4).unwrap_err(), PinFormatError::ContainsNul);
    }

    #[test]
    fn debug_does_not_show_the_pin() {
        let pin = Pin::new("secret-pin-9876", 4).unwrap();
        let shown = format!("{pin:?} {pin:#?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(!shown.contains("9876"), "{shown}");
        assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(PinFormatError::TooShort { min: 6 }.to_string(), "the PIN must be at least 6 characters long");
        assert_eq!(PinFormatError::TooLong.to_string(), "the PIN must be at most 63 bytes long in UTF-8");
    }
}
