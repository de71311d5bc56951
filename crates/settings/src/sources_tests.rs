use std::io::Write;

use super::*;

fn file(text: &str) -> tempfile_path::TempFile {
    tempfile_path::TempFile::with(text)
}

/// A settings file in the temp directory, removed when dropped.
mod tempfile_path {
    pub struct TempFile(pub std::path::PathBuf);

    impl TempFile {
        pub fn with(text: &str) -> Self {
            use std::hash::{BuildHasher, RandomState};
            let name = format!("tap2key-settings-{}-{}.toml", std::process::id(), RandomState::new().hash_one(text));
            let path = std::env::temp_dir().join(name);
            let mut file = std::fs::File::create(&path).unwrap();
            super::Write::write_all(&mut file, text.as_bytes()).unwrap();
            Self(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn load(files: &[&tempfile_path::TempFile], env: &[(&str, &str)], flags: Overrides) -> Result<Settings, SettingsError> {
    Sources {
        files: files.iter().map(|f| f.0.clone()).collect(),
        env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        flags,
    }
    .load()
}

#[test]
fn nothing_configured_gives_the_defaults() {
    let settings = Sources { files: vec!["/nonexistent/tap2key.toml".into()], ..Sources::default() }.load().unwrap();
    assert!(settings.directory.is_none());
    assert!(!settings.kiosk);
    assert_eq!(settings.idle_timeout, Duration::from_secs(180));
    assert_eq!(settings.pin_policy.min_length, 6);
}

#[test]
fn later_sources_override_earlier_ones() {
    let system = file("[directory]\nservice = \"https://onboarding.contoso.com\"\n[kiosk]\nenabled = true\nidle_timeout_seconds = 300\n[pin]\nmin_length = 8\n");
    let user = file("[kiosk]\nidle_timeout_seconds = 120\n");
    let settings = load(&[&system, &user], &[("TAP2KEY_TENANT", "contoso")], Overrides { idle_timeout_seconds: Some(90), ..Overrides::default() }).unwrap();
    let directory = settings.directory.unwrap();
    assert_eq!(directory.authority.as_str(), "https://onboarding.contoso.com/");
    assert_eq!(directory.graph.as_str(), "https://onboarding.contoso.com/v1.0");
    assert_eq!(directory.tenant, "contoso");
    assert!(settings.kiosk);
    assert_eq!(settings.idle_timeout, Duration::from_secs(90));
    assert_eq!(settings.pin_policy.min_length, 8);

    let settings = load(&[&system], &[("TAP2KEY_KIOSK", "no")], Overrides::default()).unwrap();
    assert!(!settings.kiosk);
    let settings = load(&[&system], &[("TAP2KEY_KIOSK", "no")], Overrides { kiosk: Some(true), ..Overrides::default() }).unwrap();
    assert!(settings.kiosk);
}

#[test]
fn an_entra_directory_from_its_parts() {
    let entra = file(
        "[directory]\nauthority = \"https://login.microsoftonline.com\"\ntenant = \"contoso.onmicrosoft.com\"\nclient_id = \"0b7c1d2e-0000-4000-8000-000000000001\"\nscopes = [\"openid\", \"api://tap2key/Passkeys.Register\"]\n",
    );
    let directory = load(&[&entra], &[], Overrides::default()).unwrap().directory.unwrap();
    assert_eq!(directory.graph.as_str(), "https://graph.microsoft.com/v1.0");
    assert_eq!(directory.scopes, ["openid", "api://tap2key/Passkeys.Register"]);
    assert_eq!(directory.tenant, "contoso.onmicrosoft.com");
}

#[test]
fn bad_values_say_where_they_came_from_and_what_would_do() {
    let typo = file("[kiosk]\nenabeld = true\n");
    let error = load(&[&typo], &[], Overrides::default()).unwrap_err();
    assert_eq!(error.origin, typo.0.display().to_string());
    assert!(error.problem.contains("enabeld"), "{}", error.problem);

    let timeout = file("[kiosk]\nidle_timeout_seconds = 5\n");
    let error = load(&[&timeout], &[], Overrides::default()).unwrap_err();
    assert!(error.to_string().ends_with("kiosk.idle_timeout_seconds: 5 seconds is out of range: use 60 to 3600"), "{error}");

    let plain_http = file("[directory]\nservice = \"http://onboarding.contoso.com\"\n");
    let error = load(&[&plain_http], &[], Overrides::default()).unwrap_err();
    assert!(error.problem.contains("must start with https://"), "{error}");
    let loopback = file("[directory]\nservice = \"http://127.0.0.1:8400\"\n");
    assert!(load(&[&loopback], &[], Overrides::default()).is_ok());

    let half = file("[directory]\nauthority = \"https://login.microsoftonline.com\"\n");
    assert!(load(&[&half], &[], Overrides::default()).unwrap_err().problem.contains("tenant"));

    assert_eq!(load(&[], &[("TAP2KEY_KIOSK", "maybe")], Overrides::default()).unwrap_err(), SettingsError { origin: "TAP2KEY_KIOSK".into(), problem: "\"maybe\" is not true or false".into() });
    assert_eq!(load(&[], &[("TAP2KEY_PIN_MIN_LENGTH", "3")], Overrides::default()).unwrap_err().origin, "TAP2KEY_PIN_MIN_LENGTH");
    assert!(load(&[], &[], Overrides { language: Some("fr".into()), ..Overrides::default() }).unwrap_err().problem.contains("English"));
    let not_toml = file("kiosk = [\n");
    assert!(load(&[&not_toml], &[], Overrides::default()).is_err());
}
