//! The desktop app's settings, from four sources, each overriding the one before:
//!
//! 1. built-in defaults;
//! 2. the system-wide file, `/etc/tap2key/settings.toml` (managed kiosks and laptops);
//! 3. the per-user file, `$XDG_CONFIG_HOME/tap2key/settings.toml` (usually
//!    `~/.config/tap2key/settings.toml`);
//! 4. environment variables `TAP2KEY_*`, then command-line flags.
//!
//! A value that cannot be used stops the app with a message naming where it came from and
//! what would be accepted: a kiosk that silently fell back to defaults would send people to
//! the wrong directory.

mod file;
mod sources;

use std::{path::PathBuf, time::Duration};

use tap2key_directory::DirectoryConfig;
use tap2key_flow::PinPolicy;

pub use sources::{Overrides, Sources};

/// Where the settings files live on this system.
pub fn system_file() -> PathBuf {
    PathBuf::from("/etc/tap2key/settings.toml")
}

pub fn user_file() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("tap2key").join("settings.toml"))
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// The directory keys are registered with; `None` until one is configured (the demo
    /// brings its own).
    pub directory: Option<DirectoryConfig>,
    pub kiosk: bool,
    /// In kiosk mode: how long nobody may touch the app before it resets for the next
    /// person (with a warning [`WARNING`] ahead).
    pub idle_timeout: Duration,
    pub pin_policy: PinPolicy,
    pub language: Language,
}

/// How long before an idle reset the person is warned (and can ask for more time).
pub const WARNING: Duration = Duration::from_secs(30);
pub const MIN_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
pub const MAX_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    English,
}

impl Default for Settings {
    fn default() -> Self {
        Self { directory: None, kiosk: false, idle_timeout: Duration::from_secs(180), pin_policy: PinPolicy::default(), language: Language::English }
    }
}

/// A setting that cannot be used, with where it came from.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{origin}: {problem}")]
pub struct SettingsError {
    /// A file path, an environment variable or a flag.
    pub origin: String,
    pub problem: String,
}

impl Settings {
    /// Reads and merges every source.
    pub fn load(sources: &Sources) -> Result<Self, SettingsError> {
        sources.load()
    }
}
