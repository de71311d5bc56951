//! The command line of the desktop app. Settings files and `TAP2KEY_*` variables say the
//! same things; flags win (see `tap2key_settings`).

use std::path::PathBuf;

use clap::Parser;
use tap2key_settings::Overrides;

use crate::ipc::Mode;

#[derive(Clone, Debug, Default, Parser)]
#[command(
    name = "tap2key",
    version,
    about = "Set up a FIDO2 security key with a Temporary Access Pass",
    after_help = "Settings are also read from /etc/tap2key/settings.toml, then ~/.config/tap2key/settings.toml, \
                  then TAP2KEY_* environment variables; flags override them all."
)]
pub struct Options {
    /// Try tap2key with no tenant and no key: a built-in demo directory and, when no key is
    /// plugged in, a virtual one.
    #[arg(long)]
    pub demo: bool,
    /// Run as a walk-up kiosk: full screen, cannot be closed, starts over for the next
    /// person after "done" or when left alone.
    #[arg(long)]
    pub kiosk: bool,
    /// The tap2key onboarding service to register keys with, e.g. https://onboarding.contoso.com
    #[arg(long, value_name = "URL")]
    pub service: Option<String>,
    /// Microsoft Entra ID through tap2key's onboarding service at this address, e.g.
    /// https://onboarding.contoso.com (with --broker-scope, --tenant and --client-id).
    #[arg(long, value_name = "URL", conflicts_with = "service")]
    pub broker: Option<String>,
    /// The onboarding service's scope in your tenant, e.g. api://tap2key-onboarding/Passkeys.Register
    #[arg(long, value_name = "SCOPE")]
    pub broker_scope: Option<String>,
    /// The organisation's tenant (domain or id).
    #[arg(long)]
    pub tenant: Option<String>,
    /// The client id of tap2key's app registration.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Kiosk: seconds without a touch before starting over (60 to 3600).
    #[arg(long, value_name = "SECONDS")]
    pub idle_timeout: Option<u64>,
    /// The language of the app (English only for now).
    #[arg(long)]
    pub language: Option<String>,
    /// One more settings file, read after the others.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// How the demo is set up (for tests and for showing particular situations).
    #[command(flatten)]
    pub demo_setup: DemoSetup,
    /// End-to-end tests only: a virtual key (touched by itself) plugged in, whatever the
    /// directory, so a real directory's path can be driven without a physical key.
    #[cfg(feature = "e2e")]
    #[arg(long, hide = true)]
    pub e2e_virtual_key: bool,
}

/// Hidden knobs of `--demo`, for the end-to-end tests and for showing a situation on purpose.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct DemoSetup {
    /// The virtual key keeps its state (PIN, passkeys) in this file.
    #[arg(long, hide = true, value_name = "FILE", requires = "demo")]
    pub demo_key_state: Option<PathBuf>,
    /// The demo pass works once, as Microsoft recommends for real ones.
    #[arg(long, hide = true, requires = "demo")]
    pub demo_one_time_pass: bool,
    /// How long the virtual key waits for a touch (real keys: about 30 s).
    #[arg(long, hide = true, value_name = "SECONDS", requires = "demo")]
    pub demo_touch_timeout: Option<u64>,
    /// A kiosk idle timeout below the settings' floor of 60 s, so a test need not wait.
    #[arg(long, hide = true, value_name = "SECONDS", requires = "demo")]
    pub demo_idle_timeout: Option<u64>,
}

impl Options {
    pub fn mode(&self) -> Mode {
        if self.demo { Mode::Demo } else { Mode::Standard }
    }

    pub fn overrides(&self) -> Overrides {
        Overrides {
            service: self.service.clone(),
            broker: self.broker.clone(),
            broker_scope: self.broker_scope.clone(),
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            kiosk: self.kiosk.then_some(true),
            idle_timeout_seconds: self.idle_timeout,
            language: self.language.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Options;

    #[test]
    fn entra_through_the_broker_from_the_command_line() {
        let options = Options::try_parse_from([
            "tap2key",
            "--broker",
            "https://onboarding.contoso.com",
            "--broker-scope",
            "api://tap2key-onboarding/Passkeys.Register",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--client-id",
            "11111111-2222-3333-4444-555555555555",
        ])
        .unwrap();
        let overrides = options.overrides();
        assert_eq!(overrides.broker.as_deref(), Some("https://onboarding.contoso.com"));
        assert_eq!(overrides.broker_scope.as_deref(), Some("api://tap2key-onboarding/Passkeys.Register"));
        assert_eq!(overrides.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
        assert!(Options::try_parse_from(["tap2key", "--broker", "https://a.example", "--service", "https://b.example"]).is_err(), "one kind of directory");
    }
}
