use std::io::Write;

use tap2key_directory::{GRAPH_PASSKEY_SCOPE, PasskeyApi};

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
    assert_eq!(directory.api, PasskeyApi::GraphDirect, "without a broker, the parts mean Graph directly");
}

#[test]
fn entra_with_graph_directly_needs_only_tenant_and_client_id() {
    let direct = file("[directory]\ntenant = \"contoso.onmicrosoft.com\"\nclient_id = \"1234\"\n");
    let directory = load(&[&direct], &[], Overrides::default()).unwrap().directory.unwrap();
    assert_eq!(directory.api, PasskeyApi::GraphDirect);
    assert_eq!(directory.authority.as_str(), "https://login.microsoftonline.com/");
    assert_eq!(directory.graph.as_str(), "https://graph.microsoft.com/v1.0");
    assert_eq!(directory.scopes, ["openid", "profile", GRAPH_PASSKEY_SCOPE]);
    // The same from the environment alone.
    let directory = load(&[], &[("TAP2KEY_TENANT", "contoso.onmicrosoft.com"), ("TAP2KEY_CLIENT_ID", "1234")], Overrides::default()).unwrap().directory.unwrap();
    assert_eq!(directory.api, PasskeyApi::GraphDirect);
}

#[test]
fn entra_through_the_broker() {
    let broker = file(
        "[directory]\nbroker = \"https://onboarding.contoso.com\"\nbroker_scope = \"api://tap2key-broker/Passkeys.Register\"\ntenant = \"contoso.onmicrosoft.com\"\nclient_id = \"1234\"\n",
    );
    let directory = load(&[&broker], &[], Overrides::default()).unwrap().directory.unwrap();
    assert_eq!(directory.api, PasskeyApi::OnboardingService);
    assert_eq!(directory.authority.as_str(), "https://login.microsoftonline.com/");
    assert_eq!(directory.graph.as_str(), "https://onboarding.contoso.com/v1.0");
    assert_eq!(directory.scopes, ["openid", "profile", "api://tap2key-broker/Passkeys.Register"]);
    assert_eq!((directory.tenant.as_str(), directory.client_id.as_str()), ("contoso.onmicrosoft.com", "1234"));

    // Another cloud's authority; the scope from the environment.
    let sovereign = file("[directory]\nbroker = \"https://onboarding.contoso.us\"\nauthority = \"https://login.microsoftonline.us\"\ntenant = \"t\"\nclient_id = \"c\"\n");
    let directory = load(&[&sovereign], &[("TAP2KEY_BROKER_SCOPE", "api://b/Passkeys.Register")], Overrides::default()).unwrap().directory.unwrap();
    assert_eq!(directory.authority.as_str(), "https://login.microsoftonline.us/");
    assert_eq!(directory.scopes[2], "api://b/Passkeys.Register");

    // All of it from the environment, the address from a flag.
    let env = [("TAP2KEY_BROKER", "https://onboarding.contoso.com"), ("TAP2KEY_BROKER_SCOPE", "api://b/P"), ("TAP2KEY_TENANT", "t"), ("TAP2KEY_CLIENT_ID", "c")];
    let flags = Overrides { broker: Some("https://broker.contoso.com/".into()), ..Overrides::default() };
    let directory = load(&[], &env, flags).unwrap().directory.unwrap();
    assert_eq!(directory.graph.as_str(), "https://broker.contoso.com/v1.0");
    assert_eq!(directory.api, PasskeyApi::OnboardingService);
}

#[test]
fn a_later_source_chooses_the_kind_of_directory() {
    let system = file("[directory]\nbroker = \"https://onboarding.contoso.com\"\nbroker_scope = \"api://b/P\"\ntenant = \"t\"\nclient_id = \"c\"\n");
    // A service from the environment replaces the broker (and its scope).
    let directory = load(&[&system], &[("TAP2KEY_SERVICE", "http://127.0.0.1:8400")], Overrides::default()).unwrap().directory.unwrap();
    assert_eq!(directory.graph.as_str(), "http://127.0.0.1:8400/v1.0");
    assert_eq!(directory.scopes, ["openid", "profile", "api://tap2key-onboarding/Passkeys.Register"]);
    // And a broker flag replaces a service.
    let service = file("[directory]\nservice = \"https://onboarding.contoso.com\"\ntenant = \"t\"\nclient_id = \"c\"\n");
    let flags = Overrides { broker: Some("https://broker.contoso.com".into()), broker_scope: Some("api://b/P".into()), ..Overrides::default() };
    let directory = load(&[&service], &[], flags).unwrap().directory.unwrap();
    assert_eq!(directory.graph.as_str(), "https://broker.contoso.com/v1.0");
    assert_eq!(directory.authority.as_str(), "https://login.microsoftonline.com/");
}

#[test]
fn bad_broker_settings_say_where_they_came_from() {
    let no_scope = file("[directory]\nbroker = \"https://onboarding.contoso.com\"\ntenant = \"t\"\nclient_id = \"c\"\n");
    let error = load(&[&no_scope], &[], Overrides::default()).unwrap_err();
    assert_eq!(error.origin, no_scope.0.display().to_string());
    assert!(error.problem.starts_with("broker needs broker_scope"), "{error}");

    let both = file("[directory]\nservice = \"https://a.contoso.com\"\nbroker = \"https://b.contoso.com\"\nbroker_scope = \"s\"\n");
    let error = load(&[&both], &[], Overrides::default()).unwrap_err();
    assert_eq!(error.origin, both.0.display().to_string());
    assert!(error.problem.contains("not both"), "{error}");
    let error = load(&[], &[("TAP2KEY_SERVICE", "https://a.contoso.com"), ("TAP2KEY_BROKER", "https://b.contoso.com")], Overrides::default()).unwrap_err();
    assert_eq!(error.origin, "TAP2KEY_SERVICE and TAP2KEY_BROKER");
    let flags = Overrides { service: Some("https://a.contoso.com".into()), broker: Some("https://b.contoso.com".into()), ..Overrides::default() };
    assert_eq!(load(&[], &[], flags).unwrap_err().origin, "--service and --broker");

    let error = load(&[], &[("TAP2KEY_BROKER_SCOPE", "api://b/P"), ("TAP2KEY_TENANT", "t"), ("TAP2KEY_CLIENT_ID", "c")], Overrides::default()).unwrap_err();
    assert_eq!(error.origin, "TAP2KEY_CLIENT_ID", "the last directory value's source");
    assert!(error.problem.starts_with("broker_scope goes with broker"), "{error}");

    let plain = file("[directory]\nbroker = \"http://onboarding.contoso.com\"\nbroker_scope = \"s\"\ntenant = \"t\"\nclient_id = \"c\"\n");
    let error = load(&[&plain], &[], Overrides::default()).unwrap_err();
    assert!(error.problem.starts_with("the broker address") && error.problem.contains("must start with https://"), "{error}");
    let loopback = file("[directory]\nbroker = \"http://localhost:8400\"\nbroker_scope = \"s\"\ntenant = \"t\"\nclient_id = \"c\"\n");
    assert!(load(&[&loopback], &[], Overrides::default()).is_ok());

    let no_tenant = file("[directory]\nbroker = \"https://onboarding.contoso.com\"\nbroker_scope = \"s\"\nclient_id = \"c\"\n");
    assert!(load(&[&no_tenant], &[], Overrides::default()).unwrap_err().problem.contains("tenant"));
    let no_client = file("[directory]\nbroker = \"https://onboarding.contoso.com\"\nbroker_scope = \"s\"\ntenant = \"t\"\n");
    assert!(load(&[&no_client], &[], Overrides::default()).unwrap_err().problem.contains("client id"));
    let with_graph = file("[directory]\nbroker = \"https://onboarding.contoso.com\"\nbroker_scope = \"s\"\ntenant = \"t\"\nclient_id = \"c\"\ngraph = \"https://graph.microsoft.com/v1.0\"\n");
    assert!(load(&[&with_graph], &[], Overrides::default()).unwrap_err().problem.contains("https://onboarding.contoso.com/v1.0"));
    let empty_scope = file("[directory]\nbroker = \"https://onboarding.contoso.com\"\nbroker_scope = \" \"\ntenant = \"t\"\nclient_id = \"c\"\n");
    assert!(load(&[&empty_scope], &[], Overrides::default()).unwrap_err().problem.starts_with("broker needs broker_scope"));
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

#[test]
fn the_documented_example_file_is_valid() {
    let source = include_str!("file.rs");
    let start = source.find("/// ```toml\n").unwrap() + "/// ```toml\n".len();
    let end = start + source[start..].find("/// ```\n").unwrap();
    let example: String = source[start..end].lines().map(|line| line.strip_prefix("/// ").or_else(|| line.strip_prefix("///")).unwrap()).map(|line| format!("{line}\n")).collect();
    let example = file(&example);
    let settings = load(&[&example], &[], Overrides::default()).unwrap();
    let directory = settings.directory.unwrap();
    assert_eq!(directory.graph.as_str(), "https://onboarding.contoso.com/v1.0");
    assert_eq!(directory.api, PasskeyApi::OnboardingService);
    assert!(settings.kiosk);
}

#[test]
fn the_readmes_example_file_is_valid() {
    let readme = include_str!("../../../README.md");
    let section = &readme[readme.find("## Settings").unwrap()..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let example = file(&section[start..start + section[start..].find("```").unwrap()]);
    let directory = load(&[&example], &[], Overrides::default()).unwrap().directory.unwrap();
    assert_eq!((directory.api, directory.graph.as_str()), (PasskeyApi::OnboardingService, "https://onboarding.contoso.com/v1.0"));
    assert_eq!(directory.scopes[2], "api://tap2key-onboarding/Passkeys.Register");
}
