//! The settings file, as people write it. Every field is optional (a file sets what it
//! wants to change); an unknown one is an error, because a misspelt `kiosk` silently
//! ignored is a kiosk that never resets.

use serde::Deserialize;

/// ```toml
/// language = "en"
///
/// [directory]
/// # One of three kinds of directory.
/// #
/// # 1. Entra ID through tap2key's onboarding service (broker mode): people sign in at
/// #    Entra for the service's scope, and the service registers their key.
/// broker = "https://onboarding.contoso.com"
/// broker_scope = "api://tap2key-onboarding/Passkeys.Register"
/// tenant = "contoso.onmicrosoft.com"
/// client_id = "00000000-0000-0000-0000-000000000000"
/// # authority = "https://login.microsoftonline.com"   # the default
/// #
/// # 2. Entra ID with Microsoft Graph called directly (no broker): tenant and client_id
/// #    (and optionally authority, graph, scopes). Microsoft refuses this today (405), and
/// #    tap2key says so; it is here for the day Microsoft allows it.
/// #
/// # 3. tap2key's own service (the demo directory, or tap2key-server), which signs people
/// #    in itself:
/// # service = "https://onboarding.contoso.com"
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
    /// tap2key's own service: signs in and serves the passkey API.
    pub service: Option<String>,
    /// tap2key's onboarding service in front of Entra ID (broker mode): the passkey API is
    /// `{broker}/v1.0`; sign-in is at `authority` for `broker_scope`.
    pub broker: Option<String>,
    /// The broker's scope in this tenant, e.g. `api://tap2key-onboarding/Passkeys.Register`.
    pub broker_scope: Option<String>,
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
