//! The settings file, as people write it. Every field is optional (a file sets what it
//! wants to change); an unknown one is an error, because a misspelt `kiosk` silently
//! ignored is a kiosk that never resets.

use serde::Deserialize;

/// ```toml
/// language = "en"
///
/// [directory]
/// # A tap2key onboarding service (or the demo directory):
/// service = "https://onboarding.contoso.com"
/// # ...or each part, for Entra ID:
/// authority = "https://login.microsoftonline.com"
/// tenant = "contoso.onmicrosoft.com"
/// client_id = "00000000-0000-0000-0000-000000000000"
/// scopes = ["openid", "profile", "api://tap2key-onboarding/Passkeys.Register"]
/// graph = "https://onboarding.contoso.com/v1.0"
///
/// [kiosk]
/// enabled = true
/// idle_timeout_seconds = 180
///
/// [pin]
/// min_length = 6
/// refuse_obvious = true
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsFile {
    pub language: Option<String>,
    #[serde(default)]
    pub directory: DirectoryFile,
    #[serde(default)]
    pub kiosk: KioskFile,
    #[serde(default)]
    pub pin: PinFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryFile {
    pub service: Option<String>,
    pub authority: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub graph: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskFile {
    pub enabled: Option<bool>,
    pub idle_timeout_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinFile {
    pub min_length: Option<usize>,
    pub refuse_obvious: Option<bool>,
}
