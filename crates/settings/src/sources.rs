//! Merging the sources in order, and checking every value where it was given.

use std::{collections::HashMap, path::PathBuf, time::Duration};

use tap2key_directory::DirectoryConfig;
use url::Url;

use crate::{
    Language, MAX_IDLE_TIMEOUT, MIN_IDLE_TIMEOUT, Settings, SettingsError,
    file::{DirectoryFile, SettingsFile},
};

/// Values given on the command line (each `None` when not given).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub service: Option<String>,
    /// `--broker`: Entra ID through tap2key's onboarding service at this address.
    pub broker: Option<String>,
    /// `--broker-scope`: the broker's scope in this tenant.
    pub broker_scope: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub kiosk: Option<bool>,
    pub idle_timeout_seconds: Option<u64>,
    pub language: Option<String>,
}

/// Where settings come from. `Sources::system()` is the real system; tests build their own.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub files: Vec<PathBuf>,
    pub env: HashMap<String, String>,
    pub flags: Overrides,
}

/// The environment variables read, in the order documented.
pub const ENV: [&str; 9] = [
    "TAP2KEY_SERVICE",
    "TAP2KEY_BROKER",
    "TAP2KEY_BROKER_SCOPE",
    "TAP2KEY_TENANT",
    "TAP2KEY_CLIENT_ID",
    "TAP2KEY_KIOSK",
    "TAP2KEY_IDLE_TIMEOUT_SECONDS",
    "TAP2KEY_PIN_MIN_LENGTH",
    "TAP2KEY_LANGUAGE",
];

impl Sources {
    /// The system-wide file, the per-user file, this process's environment, and `flags`.
    pub fn system(flags: Overrides) -> Self {
        let files = std::iter::once(crate::system_file()).chain(crate::user_file()).collect();
        let env = ENV.iter().filter_map(|name| std::env::var(name).ok().map(|value| (name.to_string(), value))).collect();
        Self { files, env, flags }
    }

    pub(crate) fn load(&self) -> Result<Settings, SettingsError> {
        let mut merged = Merged::default();
        for path in &self.files {
            let Some(file) = read(path)? else { continue };
            merged.apply_file(file, &path.display().to_string())?;
        }
        merged.apply_env(&self.env)?;
        merged.apply_flags(&self.flags)?;
        merged.finish()
    }
}

fn read(path: &PathBuf) -> Result<Option<SettingsFile>, SettingsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(SettingsError { origin: path.display().to_string(), problem: format!("cannot be read: {error}") }),
    };
    toml::from_str(&text).map(Some).map_err(|error| SettingsError {
        origin: path.display().to_string(),
        // toml's message names the line and the key; trimmed to its first paragraph.
        problem: error.to_string().trim().replace('\n', " "),
    })
}

/// The directory values the environment and flags can set.
#[derive(Clone, Copy)]
enum Field {
    Service,
    Broker,
    BrokerScope,
    Tenant,
    ClientId,
}

const DIRECTORY_ENV: [(&str, Field); 5] = [
    ("TAP2KEY_SERVICE", Field::Service),
    ("TAP2KEY_BROKER", Field::Broker),
    ("TAP2KEY_BROKER_SCOPE", Field::BrokerScope),
    ("TAP2KEY_TENANT", Field::Tenant),
    ("TAP2KEY_CLIENT_ID", Field::ClientId),
];

const BOTH_SERVICE_AND_BROKER: &str =
    "give either service (tap2key's own service, which signs people in itself) or broker (Entra ID through tap2key's onboarding service), not both";

/// Settings as the sources leave them, each value with where it came from.
#[derive(Default)]
struct Merged {
    directory: DirectoryFile,
    directory_origin: String,
    settings: Settings,
}

impl Merged {
    fn apply_file(&mut self, file: SettingsFile, origin: &str) -> Result<(), SettingsError> {
        let d = file.directory;
        if d.service.is_some() && d.broker.is_some() {
            return Err(error(origin, BOTH_SERVICE_AND_BROKER));
        }
        let touched = d.service.is_some()
            || d.broker.is_some()
            || d.broker_scope.is_some()
            || d.authority.is_some()
            || d.tenant.is_some()
            || d.client_id.is_some()
            || d.scopes.is_some()
            || d.graph.is_some();
        if touched {
            self.directory_origin = origin.to_owned();
        }
        for (field, value) in [(Field::Service, d.service), (Field::Broker, d.broker), (Field::BrokerScope, d.broker_scope)] {
            if let Some(value) = value {
                self.set_directory(field, value, origin);
            }
        }
        macro_rules! take {
            ($($field:ident),*) => { $( if d.$field.is_some() { self.directory.$field = d.$field; } )* };
        }
        take!(authority, tenant, client_id, scopes, graph);
        if let Some(enabled) = file.kiosk.enabled {
            self.settings.kiosk = enabled;
        }
        if let Some(seconds) = file.kiosk.idle_timeout_seconds {
            self.settings.idle_timeout = idle_timeout(seconds, &format!("{origin}: kiosk.idle_timeout_seconds"))?;
        }
        if let Some(min) = file.pin.min_length {
            self.settings.pin_policy.min_length = pin_min_length(min, &format!("{origin}: pin.min_length"))?;
        }
        if let Some(refuse) = file.pin.refuse_obvious {
            self.settings.pin_policy.refuse_obvious = refuse;
        }
        if let Some(language) = file.language {
            self.settings.language = language_of(&language, &format!("{origin}: language"))?;
        }
        Ok(())
    }

    fn apply_env(&mut self, env: &HashMap<String, String>) -> Result<(), SettingsError> {
        let get = |name: &str| env.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if get("TAP2KEY_SERVICE").is_some() && get("TAP2KEY_BROKER").is_some() {
            return Err(error("TAP2KEY_SERVICE and TAP2KEY_BROKER", BOTH_SERVICE_AND_BROKER));
        }
        for (name, field) in DIRECTORY_ENV {
            if let Some(value) = get(name) {
                self.set_directory(field, value, name);
            }
        }
        if let Some(value) = get("TAP2KEY_KIOSK") {
            self.settings.kiosk = boolean(&value, "TAP2KEY_KIOSK")?;
        }
        if let Some(value) = get("TAP2KEY_IDLE_TIMEOUT_SECONDS") {
            let seconds = value.parse().map_err(|_| error("TAP2KEY_IDLE_TIMEOUT_SECONDS", format!("{value:?} is not a whole number of seconds")))?;
            self.settings.idle_timeout = idle_timeout(seconds, "TAP2KEY_IDLE_TIMEOUT_SECONDS")?;
        }
        if let Some(value) = get("TAP2KEY_PIN_MIN_LENGTH") {
            let min = value.parse().map_err(|_| error("TAP2KEY_PIN_MIN_LENGTH", format!("{value:?} is not a whole number")))?;
            self.settings.pin_policy.min_length = pin_min_length(min, "TAP2KEY_PIN_MIN_LENGTH")?;
        }
        if let Some(value) = get("TAP2KEY_LANGUAGE") {
            self.settings.language = language_of(&value, "TAP2KEY_LANGUAGE")?;
        }
        Ok(())
    }

    fn apply_flags(&mut self, flags: &Overrides) -> Result<(), SettingsError> {
        if flags.service.is_some() && flags.broker.is_some() {
            return Err(error("--service and --broker", BOTH_SERVICE_AND_BROKER));
        }
        let given = [
            (Field::Service, &flags.service, "--service"),
            (Field::Broker, &flags.broker, "--broker"),
            (Field::BrokerScope, &flags.broker_scope, "--broker-scope"),
            (Field::Tenant, &flags.tenant, "--tenant"),
            (Field::ClientId, &flags.client_id, "--client-id"),
        ];
        for (field, value, flag) in given {
            if let Some(value) = value {
                self.set_directory(field, value.clone(), flag);
            }
        }
        if let Some(kiosk) = flags.kiosk {
            self.settings.kiosk = kiosk;
        }
        if let Some(seconds) = flags.idle_timeout_seconds {
            self.settings.idle_timeout = idle_timeout(seconds, "--idle-timeout")?;
        }
        if let Some(language) = &flags.language {
            self.settings.language = language_of(language, "--language")?;
        }
        Ok(())
    }

    /// One directory value from `origin`. Choosing tap2key's own service drops a broker an
    /// earlier source chose, and the other way round: the later source says which directory.
    fn set_directory(&mut self, field: Field, value: String, origin: &str) {
        self.directory_origin = origin.to_owned();
        let d = &mut self.directory;
        match field {
            Field::Service => {
                d.service = Some(value);
                d.broker = None;
                d.broker_scope = None;
            }
            Field::Broker => {
                d.broker = Some(value);
                d.service = None;
            }
            Field::BrokerScope => d.broker_scope = Some(value),
            Field::Tenant => d.tenant = Some(value),
            Field::ClientId => d.client_id = Some(value),
        }
    }

    fn finish(mut self) -> Result<Settings, SettingsError> {
        self.settings.directory = directory(self.directory, &self.directory_origin)?;
        Ok(self.settings)
    }
}

/// Which of the three kinds of directory the merged values describe:
///
/// - `service`: tap2key's own service (its own sign-in, tenant and client; the demo
///   directory's layout), tenant, client id, scopes and graph overriding its defaults;
/// - `broker` (+ `broker_scope`, `tenant`, `client_id`, optional `authority`): Entra ID
///   through the onboarding broker, whose passkey API is `{broker}/v1.0`;
/// - `authority`/`tenant`/`client_id` alone: Entra ID with Microsoft Graph called directly
///   (`graph` and `scopes` optional).
fn directory(file: DirectoryFile, origin: &str) -> Result<Option<DirectoryConfig>, SettingsError> {
    let url = |text: &str, what: &str| -> Result<Url, SettingsError> {
        let url = Url::parse(text.trim()).map_err(|e| error(origin, format!("{what} {text:?} is not a web address ({e})")))?;
        let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(error(origin, format!("{what} {text:?} must start with https:// (plain http only for this computer)")));
        }
        Ok(url)
    };
    let tenant = || file.tenant.clone().ok_or_else(|| error(origin, "a directory needs a tenant (your organisation's domain or tenant id)"));
    let client_id = || file.client_id.clone().ok_or_else(|| error(origin, "a directory needs the client id of tap2key's app registration"));
    let authority = || match &file.authority {
        Some(authority) => url(authority, "the sign-in authority"),
        None => Ok(DirectoryConfig::public_cloud_authority()),
    };
    if file.broker_scope.is_some() && file.broker.is_none() {
        return Err(error(origin, "broker_scope goes with broker, the address of tap2key's onboarding service"));
    }
    let mut config = match (&file.service, &file.broker) {
        (Some(_), Some(_)) => return Err(error(origin, BOTH_SERVICE_AND_BROKER)),
        (Some(service), None) => {
            let base = url(service, "the service address")?;
            let mut config = DirectoryConfig::demo(base.as_str());
            if let Some(graph) = &file.graph {
                config.graph = url(graph, "the Graph address")?;
            }
            config.tenant = file.tenant.clone().unwrap_or(config.tenant);
            config.client_id = file.client_id.clone().unwrap_or(config.client_id);
            config
        }
        (None, Some(broker)) => {
            let broker = url(broker, "the broker address")?;
            let scope = file.broker_scope.as_deref().map(str::trim).filter(|scope| !scope.is_empty()).ok_or_else(|| {
                error(origin, "broker needs broker_scope, the onboarding service's scope in your tenant, like api://tap2key-onboarding/Passkeys.Register")
            })?;
            if file.graph.is_some() {
                return Err(error(origin, format!("graph is not used with broker: the passkey API is the broker's own, {}/v1.0", broker.as_str().trim_end_matches('/'))));
            }
            DirectoryConfig::entra_broker(authority()?, tenant()?, client_id()?, broker, scope)
        }
        (None, None) => {
            let parts = [file.authority.is_some(), file.tenant.is_some(), file.client_id.is_some(), file.graph.is_some(), file.scopes.is_some()];
            if !parts.contains(&true) {
                return Ok(None);
            }
            let graph = match &file.graph {
                Some(graph) => url(graph, "the Graph address")?,
                None => DirectoryConfig::graph_v1(),
            };
            DirectoryConfig::entra_direct(authority()?, tenant()?, client_id()?, graph)
        }
    };
    if let Some(scopes) = file.scopes {
        config.scopes = scopes;
    }
    Ok(Some(config))
}

fn idle_timeout(seconds: u64, origin: &str) -> Result<Duration, SettingsError> {
    let timeout = Duration::from_secs(seconds);
    if (MIN_IDLE_TIMEOUT..=MAX_IDLE_TIMEOUT).contains(&timeout) {
        Ok(timeout)
    } else {
        Err(error(origin, format!("{seconds} seconds is out of range: use {} to {}", MIN_IDLE_TIMEOUT.as_secs(), MAX_IDLE_TIMEOUT.as_secs())))
    }
}

fn pin_min_length(min: usize, origin: &str) -> Result<usize, SettingsError> {
    if (4..=63).contains(&min) { Ok(min) } else { Err(error(origin, format!("{min} is out of range: a PIN is 4 to 63 characters"))) }
}

fn language_of(text: &str, origin: &str) -> Result<Language, SettingsError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "en" | "en-us" | "en-gb" | "english" => Ok(Language::English),
        other => Err(error(origin, format!("{other:?} is not available; tap2key speaks English (en) for now"))),
    }
}

fn boolean(text: &str, origin: &str) -> Result<bool, SettingsError> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(error(origin, format!("{text:?} is not true or false"))),
    }
}

fn error(origin: &str, problem: impl Into<String>) -> SettingsError {
    SettingsError { origin: origin.to_owned(), problem: problem.into() }
}

#[cfg(test)]
#[path = "sources_tests.rs"]
mod tests;
