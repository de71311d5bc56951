//! Everything decided before the window opens: settings, the demo directory, which keys
//! to look at. A problem here stops the app with a message instead of a broken window.

use std::time::Duration;

use tap2key_directory::DirectoryConfig;
use tap2key_flow::{OnboardingConfig, SignInMode};
use tap2key_keys::KeyPorts;
use tap2key_settings::{Settings, Sources};

use crate::{demo::Demo, ipc::Mode, kiosk::Activity, options::Options, person::Configure};

/// How often the app looks for keys coming and going.
const KEY_WATCH: Duration = Duration::from_millis(250);

pub struct Launch {
    pub mode: Mode,
    pub demo: Option<Demo>,
    /// Set on a kiosk.
    pub kiosk: Option<Activity>,
    pub configure: Configure,
}

impl Launch {
    pub async fn prepare(options: &Options) -> Result<Self, String> {
        let mut sources = Sources::system(options.overrides());
        if let Some(file) = &options.settings {
            if !file.exists() {
                return Err(format!("{}: no such settings file", file.display()));
            }
            sources.files.push(file.clone());
        }
        let mut settings = Settings::load(&sources).map_err(|error| error.to_string())?;
        if let Some(seconds) = options.demo_setup.demo_idle_timeout {
            settings.idle_timeout = Duration::from_secs(seconds);
        }
        let ports = KeyPorts::new(true);
        #[cfg(feature = "e2e")]
        if options.e2e_virtual_key && !options.demo {
            crate::e2e::plug_in_virtual_key(&ports)?;
        }
        let (directory, demo) = if options.demo {
            let demo = Demo::start(&ports, &options.demo_setup).await?;
            (DirectoryConfig::demo(demo.server.base_url()), Some(demo))
        } else {
            let directory = settings.directory.clone().ok_or(
                "tap2key has no directory to register keys with. Ask IT for its settings, or try it with --demo.",
            )?;
            (directory, None)
        };
        Ok(Self::new(options.mode(), directory, ports, settings, demo))
    }

    /// A launch with everything given (tests build theirs this way).
    pub fn new(mode: Mode, directory: DirectoryConfig, ports: KeyPorts, settings: Settings, demo: Option<Demo>) -> Self {
        let kiosk = settings.kiosk.then(|| Activity::new(settings.idle_timeout));
        let pin_policy = settings.pin_policy.clone();
        let configure: Configure = Box::new(move || OnboardingConfig {
            directory: directory.clone(),
            sign_in: SignInMode::Browser,
            for_user: None,
            ports: ports.clone(),
            pin_policy: pin_policy.clone(),
            watch_interval: KEY_WATCH,
        });
        Self { mode, demo, kiosk, configure }
    }
}
