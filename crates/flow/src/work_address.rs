//! The work address (UPN) a person signs in with.
//!
//! Checked here, before any network call, so that a typo gets a precise, friendly answer
//! instead of a generic "user not found" from the directory's sign-in page. The rules are
//! Entra ID's for user principal names: at most 64 characters before the `@`, 48 after,
//! a restricted character set, and a domain with at least two labels.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use ts_rs::TS;

const MAX_NAME_LEN: usize = 64;
const MAX_DOMAIN_LEN: usize = 48;
const MAX_LABEL_LEN: usize = 63;

/// A syntactically valid work address, with its domain in lower case.
///
/// The part before the `@` keeps the case the person typed: directories match it without
/// regard to case, and people recognise their name better the way they wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, TS)]
#[ts(type = "string")]
pub struct WorkAddress {
    text: String,
    at: usize,
}

/// Why a typed address cannot be a work address. The UI turns each into plain words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum AddressProblem {
    /// Nothing was typed.
    Empty,
    /// No `@` at all: usually just the name was typed.
    MissingAt,
    /// More than one `@`.
    MoreThanOneAt,
    /// Nothing before the `@`.
    MissingName,
    /// Nothing after the `@`.
    MissingDomain,
    /// The domain has a single label, such as `contoso` instead of `contoso.com`.
    IncompleteDomain,
    /// A character that work addresses cannot contain, such as a space or a comma.
    InvalidCharacter { character: char },
    /// A dot at the start or end of the name, or two dots in a row.
    MisplacedDot,
    /// A domain label that is empty, starts or ends with `-`, or is too long.
    InvalidDomain,
    /// Longer than a directory accepts on either side of the `@`.
    TooLong,
}

impl WorkAddress {
    /// Reads what a person typed. Surrounding whitespace is ignored: it comes from copying
    /// the address out of an email or a letter from IT, never from the address itself.
    pub fn parse(typed: &str) -> Result<Self, AddressProblem> {
        let typed = typed.trim();
        if typed.is_empty() {
            return Err(AddressProblem::Empty);
        }
        if let Some(character) = typed.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(AddressProblem::InvalidCharacter { character });
        }
        let mut parts = typed.split('@');
        let (name, domain) = match (parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(domain), None) => (name, domain),
            (_, None, _) => return Err(AddressProblem::MissingAt),
            _ => return Err(AddressProblem::MoreThanOneAt),
        };
        check_name(name)?;
        check_domain(domain)?;
        let text = format!("{name}@{}", domain.to_ascii_lowercase());
        Ok(Self { at: name.len(), text })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The part before the `@`.
    pub fn name(&self) -> &str {
        &self.text[..self.at]
    }

    /// The organisation's domain, in lower case.
    pub fn domain(&self) -> &str {
        &self.text[self.at + 1..]
    }
}

fn check_name(name: &str) -> Result<(), AddressProblem> {
    if name.is_empty() {
        return Err(AddressProblem::MissingName);
    }
    if let Some(character) = name.chars().find(|&c| !is_name_char(c)) {
        return Err(AddressProblem::InvalidCharacter { character });
    }
    if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        return Err(AddressProblem::MisplacedDot);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(AddressProblem::TooLong);
    }
    Ok(())
}

/// Entra ID accepts letters, digits and `' . - _ ! # ^ ~` before the `@`.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "'.-_!#^~".contains(c)
}

fn check_domain(domain: &str) -> Result<(), AddressProblem> {
    if domain.is_empty() {
        return Err(AddressProblem::MissingDomain);
    }
    if let Some(character) = domain.chars().find(|&c| !(c.is_ascii_alphanumeric() || c == '-' || c == '.')) {
        return Err(AddressProblem::InvalidCharacter { character });
    }
    if !domain.contains('.') {
        return Err(AddressProblem::IncompleteDomain);
    }
    let label_ok = |label: &str| {
        !label.is_empty() && label.len() <= MAX_LABEL_LEN && !label.starts_with('-') && !label.ends_with('-')
    };
    if !domain.split('.').all(label_ok) {
        return Err(AddressProblem::InvalidDomain);
    }
    if domain.rsplit('.').next().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        // An all-digit last label is an IP address, never a sign-in domain.
        return Err(AddressProblem::InvalidDomain);
    }
    if domain.len() > MAX_DOMAIN_LEN {
        return Err(AddressProblem::TooLong);
    }
    Ok(())
}

impl fmt::Display for WorkAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Crosses JSON as the plain address string.
impl Serialize for WorkAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// Checked on the way in: a deserialized `WorkAddress` is always a valid one.
impl<'de> Deserialize<'de> for WorkAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let typed = String::deserialize(deserializer)?;
        Self::parse(&typed).map_err(D::Error::custom)
    }
}

impl fmt::Display for AddressProblem {
    /// For logs and the CLI; the UI words each problem itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no address was given"),
            Self::MissingAt => f.write_str("the address has no @"),
            Self::MoreThanOneAt => f.write_str("the address has more than one @"),
            Self::MissingName => f.write_str("nothing comes before the @"),
            Self::MissingDomain => f.write_str("nothing comes after the @"),
            Self::IncompleteDomain => f.write_str("the domain needs a dot, like company.com"),
            Self::InvalidCharacter { character } => write!(f, "{character:?} cannot be part of a work address"),
            Self::MisplacedDot => f.write_str("a dot cannot start or end the name or follow another dot"),
            Self::InvalidDomain => f.write_str("the domain is not a valid domain name"),
            Self::TooLong => f.write_str("the address is longer than a directory accepts"),
        }
    }
}

impl std::error::Error for AddressProblem {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn problem(typed: &str) -> AddressProblem {
        WorkAddress::parse(typed).expect_err(typed)
    }

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_only_the_domain() {
        let address = WorkAddress::parse("  Ada.Lovelace@Contoso.COM\n").unwrap();
        assert_eq!(address.as_str(), "Ada.Lovelace@contoso.com");
        assert_eq!(address.name(), "Ada.Lovelace");
        assert_eq!(address.domain(), "contoso.com");
        for ok in ["a@b.co", "o'brien@x.onmicrosoft.com", "j_doe-1!#^~@sub.example-corp.org"] {
            assert!(WorkAddress::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn names_each_problem() {
        assert_eq!(problem("   "), AddressProblem::Empty);
        assert_eq!(problem("ada.lovelace"), AddressProblem::MissingAt);
        assert_eq!(problem("ada@@contoso.com"), AddressProblem::MoreThanOneAt);
        assert_eq!(problem("@contoso.com"), AddressProblem::MissingName);
        assert_eq!(problem("ada@"), AddressProblem::MissingDomain);
        assert_eq!(problem("ada@contoso"), AddressProblem::IncompleteDomain);
        assert_eq!(problem("ada lovelace@contoso.com"), AddressProblem::InvalidCharacter { character: ' ' });
        assert_eq!(problem("ada,l@contoso.com"), AddressProblem::InvalidCharacter { character: ',' });
        assert_eq!(problem("zoë@contoso.com"), AddressProblem::InvalidCharacter { character: 'ë' });
        assert_eq!(problem(".ada@contoso.com"), AddressProblem::MisplacedDot);
        assert_eq!(problem("ada.@contoso.com"), AddressProblem::MisplacedDot);
        assert_eq!(problem("a..da@contoso.com"), AddressProblem::MisplacedDot);
        assert_eq!(problem("ada@contoso..com"), AddressProblem::InvalidDomain);
        assert_eq!(problem("ada@-contoso.com"), AddressProblem::InvalidDomain);
        assert_eq!(problem("ada@10.0.0.1"), AddressProblem::InvalidDomain);
        assert_eq!(problem(&format!("{}@contoso.com", "a".repeat(65))), AddressProblem::TooLong);
        assert_eq!(problem(&format!("ada@{}.com", "c".repeat(45))), AddressProblem::TooLong);
    }

    #[test]
    fn limits_are_inclusive() {
        assert!(WorkAddress::parse(&format!("{}@contoso.com", "a".repeat(64))).is_ok());
        assert!(WorkAddress::parse(&format!("ada@{}.com", "c".repeat(44))).is_ok());
    }

    #[test]
    fn crosses_json_as_a_plain_string_and_is_checked_on_the_way_in() {
        let address = WorkAddress::parse("ada@contoso.com").unwrap();
        assert_eq!(serde_json::to_string(&address).unwrap(), r#""ada@contoso.com""#);
        assert_eq!(serde_json::from_str::<WorkAddress>(r#""ada@Contoso.com""#).unwrap(), address);
        assert!(serde_json::from_str::<WorkAddress>(r#""not an address""#).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_a_parsed_address_reparses_to_itself(typed in "\\PC{0,130}") {
            if let Ok(address) = WorkAddress::parse(&typed) {
                prop_assert_eq!(WorkAddress::parse(address.as_str()), Ok(address.clone()));
                prop_assert_eq!(address.as_str().len(), address.name().len() + 1 + address.domain().len());
            }
        }

        #[test]
        fn accepts_every_address_built_from_allowed_parts(
            name in "[A-Za-z0-9_'!#^~-]{1,20}(\\.[A-Za-z0-9_-]{1,10}){0,2}",
            labels in proptest::collection::vec("[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", 1..3),
            tld in "[a-z]{2,6}",
        ) {
            let typed = format!("{name}@{}.{tld}", labels.join("."));
            prop_assert!(WorkAddress::parse(&typed).is_ok(), "{}", typed);
        }
    }
}
