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
pub const ENV: [&str; 7] = [
    "TAP2KEY_SERVICE",
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
        let touched = d.service.is_some() || d.authority.is_some() || d.tenant.is_some() || d.client_id.is_some() || d.scopes.is_some() || d.graph.is_some();
        if touched {
            self.directory_origin = origin.to_owned();
        }
        macro_rules! take {
            ($($field:ident),*) => { $( if d.$field.is_some() { self.directory.$field = d.$field; } )* };
        }
        take!(service, authority, tenant, client_id, scopes, graph);
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
        for (name, field) in [("TAP2KEY_SERVICE", 0), ("TAP2KEY_TENANT", 1), ("TAP2KEY_CLIENT_ID", 2)] {
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
        for (field, value, flag) in [(0, &flags.service, "--service"), (1, &flags.tenant, "--tenant"), (2, &flags.client_id, "--client-id")] {
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

    fn set_directory(&mut self, field: u8, value: String, origin: &str) {
        self.directory_origin = origin.to_owned();
        match field {
            0 => self.directory.service = Some(value),
            1 => self.directory.tenant = Some(value),
            _ => self.directory.client_id = Some(value),
        }
    }

    fn finish(mut self) -> Result<Settings, SettingsError> {
        self.settings.directory = directory(self.directory, &self.directory_origin)?;
        Ok(self.settings)
    }
}

/// `service` alone names a tap2key onboarding service (its own tenant and client); the
/// parts name any directory, Entra ID's defaults filling what is left out.
fn directory(file: DirectoryFile, origin: &str) -> Result<Option<DirectoryConfig>, SettingsError> {
    let url = |text: &str, what: &str| -> Result<Url, SettingsError> {
        let url = Url::parse(text.trim()).map_err(|e| error(origin, format!("{what} {text:?} is not a web address ({e})")))?;
        let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(error(origin, format!("{what} {text:?} must start with https:// (plain http only for this computer)")));
        }
        Ok(url)
    };
    let mut config = match (&file.service, &file.authority) {
        (Some(service), _) => {
            let base = url(service, "the service address")?;
            DirectoryConfig::demo(base.as_str())
        }
        (None, Some(authority)) => {
            let tenant = file.tenant.clone().ok_or_else(|| error(origin, "a directory needs a tenant (your organisation's domain or tenant id)"))?;
            let client_id = file.client_id.clone().ok_or_else(|| error(origin, "a directory needs the client id of tap2key's app registration"))?;
            let graph = file.graph.as_deref().unwrap_or("https://graph.microsoft.com/v1.0");
            DirectoryConfig {
                authority: url(authority, "the sign-in authority")?,
                tenant,
                client_id,
                scopes: vec!["openid".into(), "profile".into()],
                graph: url(graph, "the Graph address")?,
            }
        }
        (None, None) if file.tenant.is_none() && file.client_id.is_none() && file.graph.is_none() && file.scopes.is_none() => return Ok(None),
        (None, None) => return Err(error(origin, "say which directory: a service address, or an authority with tenant and client id")),
    };
    if let Some(tenant) = file.tenant {
        config.tenant = tenant;
    }
    if let Some(client_id) = file.client_id {
        config.client_id = client_id;
    }
    if let Some(scopes) = file.scopes {
        config.scopes = scopes;
    }
    if let (Some(graph), Some(_)) = (file.graph, &file.service) {
        config.graph = url(&graph, "the Graph address")?;
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
