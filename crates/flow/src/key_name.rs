//! The name the person gives their key, as the directory lists it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Graph keeps `displayName` to 30 characters.
pub const MAX_NAME_LENGTH: usize = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum NameProblem {
    Empty,
    TooLong { max: usize },
}

/// The name offered by default: the model's, cut to fit.
pub fn suggested(model: &str) -> String {
    let name = model.trim();
    let name = if name.is_empty() { "Security key" } else { name };
    name.chars().take(MAX_NAME_LENGTH).collect::<String>().trim_end().to_owned()
}

/// The name as it will be registered: trimmed, inner whitespace collapsed.
pub fn check(typed: &str) -> Result<String, NameProblem> {
    let name = typed.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if name.chars().count() > MAX_NAME_LENGTH {
        return Err(NameProblem::TooLong { max: MAX_NAME_LENGTH });
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(check("  Ada's   key "), Ok("Ada's key".into()));
        assert_eq!(check(" \t"), Err(NameProblem::Empty));
        assert_eq!(check(&"é".repeat(30)), Ok("é".repeat(30)));
        assert_eq!(check(&"é".repeat(31)), Err(NameProblem::TooLong { max: 30 }));
        assert_eq!(suggested("tap2key Virtual Key"), "tap2key Virtual Key");
        assert_eq!(suggested(""), "Security key");
        assert_eq!(suggested("YubiKey 5 Series with NFC and a very long name"), "YubiKey 5 Series with NFC and");
        assert!(check(&suggested(&"x ".repeat(40))).is_ok());
    }
}
