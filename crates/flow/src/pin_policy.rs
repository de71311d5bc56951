//! The PIN rules a new PIN must meet: the key's own minimum length and the organisation's.
//!
//! Checked here before the key sees anything, so the person gets a precise answer while
//! typing, and the key (which would only say "policy violation") is never tried with a PIN
//! it will refuse.

use serde::{Deserialize, Serialize};
use tap2key_keys::{Pin, PinFormatError};
use ts_rs::TS;

/// The organisation's rules for new PINs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PinPolicy {
    /// At least this many characters (the key's own minimum may be higher).
    pub min_length: usize,
    /// Refuse PINs anyone would guess first: one repeated character ("0000") or a run
    /// ("123456", "987654").
    pub refuse_obvious: bool,
}

impl Default for PinPolicy {
    fn default() -> Self {
        Self { min_length: 6, refuse_obvious: true }
    }
}

/// The rules in force for one key, as the PIN screen shows them while the person types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PinRules {
    pub min_length: usize,
    /// In bytes of UTF-8 (what the key stores); for digits and Latin letters, characters.
    pub max_length: usize,
    pub refuse_obvious: bool,
}

/// Why a PIN was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum PinProblem {
    Empty,
    TooShort { min: usize },
    TooLong { max: usize },
    /// One repeated character or a run of consecutive digits or letters.
    TooObvious,
    /// The two entries of a new PIN differ.
    Mismatch,
    /// A changed PIN must differ from the current one.
    SameAsCurrent,
    /// The key refused the PIN; `retries_left` tries remain.
    Wrong { retries_left: u8 },
    /// The key refused the new PIN under its own rules.
    RefusedByKey,
}

impl PinPolicy {
    /// The rules for a key whose own minimum is `key_min_length`.
    pub fn rules(&self, key_min_length: usize) -> PinRules {
        PinRules {
            min_length: self.min_length.max(key_min_length).max(Pin::MIN_CODE_POINTS),
            max_length: Pin::MAX_BYTES,
            refuse_obvious: self.refuse_obvious,
        }
    }
}

impl PinRules {
    /// A new PIN, typed twice.
    pub fn check_new(&self, typed: &str, again: &str) -> Result<Pin, PinProblem> {
        let pin = self.check_format(typed)?;
        if self.refuse_obvious && is_obvious(pin.as_str()) {
            return Err(PinProblem::TooObvious);
        }
        if typed != again {
            return Err(PinProblem::Mismatch);
        }
        Ok(pin)
    }

    fn check_format(&self, typed: &str) -> Result<Pin, PinProblem> {
        Pin::new(typed, self.min_length).map_err(|error| match error {
            PinFormatError::Empty => PinProblem::Empty,
            PinFormatError::TooShort { min } => PinProblem::TooShort { min },
            PinFormatError::TooLong => PinProblem::TooLong { max: self.max_length },
            // NUL cannot be typed on a keyboard; treat a pasted one like any unusable PIN.
            PinFormatError::ContainsNul => PinProblem::TooObvious,
        })
    }
}

/// An existing PIN: only what any key would refuse is caught here; the key judges the rest.
pub fn check_existing(typed: &str) -> Result<Pin, PinProblem> {
    Pin::new(typed, Pin::MIN_CODE_POINTS).map_err(|error| match error {
        PinFormatError::Empty => PinProblem::Empty,
        PinFormatError::TooShort { min } => PinProblem::TooShort { min },
        PinFormatError::TooLong | PinFormatError::ContainsNul => PinProblem::TooLong { max: Pin::MAX_BYTES },
    })
}

fn is_obvious(pin: &str) -> bool {
    let chars: Vec<char> = pin.chars().collect();
    let Some(&first) = chars.first() else { return true };
    if chars.iter().all(|&c| c == first) {
        return true;
    }
    let steps: Vec<i64> = chars.windows(2).map(|w| w[1] as i64 - w[0] as i64).collect();
    let alphanumeric = chars.iter().all(char::is_ascii_alphanumeric);
    alphanumeric && (steps.iter().all(|&s| s == 1) || steps.iter().all(|&s| s == -1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rules() -> PinRules {
        PinPolicy::default().rules(4)
    }

    #[test]
    fn the_stricter_minimum_wins() {
        assert_eq!(PinPolicy { min_length: 6, refuse_obvious: false }.rules(8).min_length, 8);
        assert_eq!(PinPolicy { min_length: 6, refuse_obvious: false }.rules(4).min_length, 6);
        assert_eq!(PinPolicy { min_length: 0, refuse_obvious: false }.rules(0).min_length, 4);
    }

    #[test]
    fn new_pins() {
        assert!(rules().check_new("205813", "205813").is_ok());
        assert_eq!(rules().check_new("", "").unwrap_err(), PinProblem::Empty);
        assert_eq!(rules().check_new("2058", "2058").unwrap_err(), PinProblem::TooShort { min: 6 });
        assert_eq!(rules().check_new("111111", "111111").unwrap_err(), PinProblem::TooObvious);
        assert_eq!(rules().check_new("123456", "123456").unwrap_err(), PinProblem::TooObvious);
        assert_eq!(rules().check_new("987654", "987654").unwrap_err(), PinProblem::TooObvious);
        assert_eq!(rules().check_new("abcdef", "abcdef").unwrap_err(), PinProblem::TooObvious);
        assert_eq!(rules().check_new("205813", "205814").unwrap_err(), PinProblem::Mismatch);
        assert_eq!(rules().check_new(&"7".repeat(64), "").unwrap_err(), PinProblem::TooLong { max: 63 });
        assert_eq!(rules().check_new(&"71".repeat(32), "").unwrap_err(), PinProblem::TooLong { max: 63 });
    }

    #[test]
    fn obvious_pins_are_allowed_when_the_policy_allows_them() {
        let lenient = PinPolicy { min_length: 4, refuse_obvious: false }.rules(4);
        assert!(lenient.check_new("1234", "1234").is_ok());
    }

    proptest! {
        #[test]
        fn an_accepted_pin_meets_every_rule(typed in "\\PC{0,20}") {
            if let Ok(pin) = rules().check_new(&typed, &typed) {
                prop_assert!(pin.code_points() >= 6);
                prop_assert!(pin.as_str().len() <= 63);
                prop_assert!(!is_obvious(pin.as_str()));
            }
        }
    }
}
