//! The command line checked and turned into what a run needs, before anything starts: a
//! mistake here ends the run with exit code 2 and says which option is wrong.

use std::{path::PathBuf, time::Duration};

use tap2key_directory::{AccessToken, DirectoryConfig};
use tap2key_flow::{AddressProblem, NameProblem, WorkAddress, key_name};
use url::Url;
use zeroize::Zeroizing;

use crate::{
    args::{Args, KeyKind},
    demo::DEMO_USER,
    outcome::Stop,
};

pub struct Settings {
    /// `None`: `--demo`, whose directory's address is known once it runs.
    pub directory: Option<DirectoryConfig>,
    pub user: Option<WorkAddress>,
    pub for_user: Option<String>,
    pub sign_in: SignIn,
    pub pin_fd: Option<i32>,
    pub name: Option<String>,
    pub key: KeyKind,
    pub virtual_key_state: Option<PathBuf>,
    pub wait_for_key: Duration,
}

pub enum SignIn {
    /// The directory's sign-in page; `open_browser` opens it, else its address is printed.
    Page { open_browser: bool },
    Token(AccessToken),
}

impl Settings {
    /// `directory_from_env`: `--directory` came from TAP2KEY_DIRECTORY, which `--demo`
    /// overrides. `token_from_env`: TAP2KEY_ACCESS_TOKEN.
    pub fn new(args: Args, directory_from_env: bool, token_from_env: Option<Zeroizing<String>>) -> Result<Self, Stop> {
        let token = match &args.access_token_file {
            Some(path) => Some(read_token_file(path)?),
            None => token_from_env.map(|text| token(&text, "TAP2KEY_ACCESS_TOKEN is empty")).transpose()?,
        };
        let directory = if args.demo {
            if args.directory.is_some() && !directory_from_env {
                return Err(Stop::usage("--demo runs a directory of its own: leave out --directory."));
            }
            let entra = args.broker.is_some() || args.broker_scope.is_some() || args.direct;
            if entra || args.tenant.is_some() || args.client_id.is_some() || !args.scopes.is_empty() || args.authority.is_some() || args.graph.is_some() {
                return Err(Stop::usage(
                    "--demo runs a directory of its own: leave out --tenant, --client-id, --scope, --authority, --graph, --broker, --broker-scope and --direct.",
                ));
            }
            if token.is_some() {
                return Err(Stop::usage("--demo signs in with the Temporary Access Pass it issues: leave out the access token."));
            }
            None
        } else {
            Some(directory_config(&args, directory_from_env)?)
        };

        let user = match (&args.user, args.demo) {
            (Some(typed), _) => Some(WorkAddress::parse(typed).map_err(|problem| Stop::usage(format!("--user {typed}: {}", address_problem(&problem))))?),
            (None, true) => Some(WorkAddress::parse(DEMO_USER).expect("the demo user's address is valid")),
            (None, false) => None,
        };
        let sign_in = match token {
            Some(token) => SignIn::Token(token),
            None if user.is_none() => {
                return Err(Stop::usage("Say who signs in: --user <work address> (or give an access token with --access-token-file)."));
            }
            None => SignIn::Page { open_browser: !args.no_browser },
        };

        let for_user = match args.for_user.as_deref().map(str::trim) {
            Some("") => return Err(Stop::usage("--for-user needs the user's id or work address.")),
            other => other.map(str::to_owned),
        };
        let name = match &args.name {
            Some(typed) => Some(key_name::check(typed).map_err(|problem| Stop::usage(format!("--name: {}", name_problem(&problem))))?),
            None => None,
        };
        if args.virtual_key_state.is_some() && args.key != KeyKind::Virtual {
            return Err(Stop::usage("--virtual-key-state is for the virtual key: add --key virtual."));
        }
        Ok(Self {
            directory,
            user,
            for_user,
            sign_in,
            pin_fd: args.pin_fd,
            name,
            key: args.key,
            virtual_key_state: args.virtual_key_state,
            wait_for_key: Duration::from_secs(args.wait_for_key),
        })
    }
}

/// The directory the options describe, one of three kinds:
///
/// - `--broker URL --broker-scope SCOPE` (+ `--tenant`, `--client-id`, optional
///   `--authority`): Entra ID through tap2key's onboarding service;
/// - `--direct` (+ `--tenant`, `--client-id`, optional `--authority`, `--graph`): Entra ID
///   with Microsoft Graph called directly;
/// - `--directory URL` (a tap2key onboarding service, laid out like the demo directory) with
///   any overrides, or such a service described option by option (authority, tenant, client
///   id, Graph).
///
/// `--broker` and `--direct` override a `--directory` that came from TAP2KEY_DIRECTORY, as
/// `--demo` does.
fn directory_config(args: &Args, directory_from_env: bool) -> Result<DirectoryConfig, Stop> {
    let entra = args.broker.is_some() || args.direct;
    if args.broker.is_some() && args.direct {
        return Err(Stop::usage("--broker and --direct are two ways to reach Entra ID: choose one."));
    }
    if args.broker_scope.is_some() && args.broker.is_none() {
        return Err(Stop::usage("--broker-scope goes with --broker, the address of the onboarding service."));
    }
    if entra && args.directory.is_some() && !directory_from_env {
        return Err(Stop::usage("--directory names tap2key's own service; --broker and --direct are Entra ID: choose one."));
    }
    let mut config = if let Some(broker) = &args.broker {
        let Some(scope) = args.broker_scope.as_deref().map(str::trim).filter(|scope| !scope.is_empty()) else {
            return Err(Stop::usage("--broker needs --broker-scope, the onboarding service's scope in the tenant (like api://tap2key-onboarding/Passkeys.Register)."));
        };
        if args.graph.is_some() {
            return Err(Stop::usage("--graph is not used with --broker: the passkey API is the broker's own (its address + /v1.0)."));
        }
        let (tenant, client_id) = entra_app(args, "--broker")?;
        DirectoryConfig::entra_broker(authority(args)?, tenant, client_id, url("--broker", broker)?, scope)
    } else if args.direct {
        let (tenant, client_id) = entra_app(args, "--direct")?;
        let graph = match &args.graph {
            Some(graph) => url("--graph", graph)?,
            None => DirectoryConfig::graph_v1(),
        };
        DirectoryConfig::entra_direct(authority(args)?, tenant, client_id, graph)
    } else {
        service_config(args)?
    };
    if !args.scopes.is_empty() {
        config.scopes = args.scopes.clone();
    }
    Ok(config)
}

/// `--tenant` and `--client-id`, which Entra ID always needs.
fn entra_app(args: &Args, mode: &str) -> Result<(String, String), Stop> {
    match (&args.tenant, &args.client_id) {
        (Some(tenant), Some(client_id)) => Ok((tenant.clone(), client_id.clone())),
        _ => Err(Stop::usage(format!("{mode} needs --tenant and --client-id (tap2key's app registration in Entra ID)."))),
    }
}

/// `--authority`, or Microsoft's public cloud.
fn authority(args: &Args) -> Result<Url, Stop> {
    match &args.authority {
        Some(authority) => url("--authority", authority),
        None => Ok(DirectoryConfig::public_cloud_authority()),
    }
}

/// A tap2key onboarding service: `--directory`, or described option by option.
fn service_config(args: &Args) -> Result<DirectoryConfig, Stop> {
    let mut config = match &args.directory {
        Some(text) => DirectoryConfig::demo(url("--directory", text)?.as_str()),
        None => {
            let (Some(authority), Some(graph), Some(_), Some(_)) = (&args.authority, &args.graph, &args.tenant, &args.client_id) else {
                return Err(Stop::usage(
                    "Say which directory: --directory <URL> (or TAP2KEY_DIRECTORY), --demo, --broker <URL> --broker-scope <SCOPE>, --direct, \
                     or all of --authority, --graph, --tenant and --client-id.",
                ));
            };
            let mut config = DirectoryConfig::demo(url("--authority", authority)?.as_str());
            config.graph = url("--graph", graph)?;
            config
        }
    };
    if let Some(authority) = &args.authority {
        config.authority = url("--authority", authority)?;
    }
    if let Some(graph) = &args.graph {
        config.graph = url("--graph", graph)?;
    }
    if let Some(tenant) = &args.tenant {
        config.tenant = tenant.clone();
    }
    if let Some(client_id) = &args.client_id {
        config.client_id = client_id.clone();
    }
    Ok(config)
}

fn url(option: &str, text: &str) -> Result<Url, Stop> {
    match Url::parse(text.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(url),
        _ => Err(Stop::usage(format!("{option} {text}: not a web address (like https://login.example.com)."))),
    }
}

fn read_token_file(path: &std::path::Path) -> Result<AccessToken, Stop> {
    let text = std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|error| Stop::usage(format!("--access-token-file {}: {error}", path.display())))?;
    token(&text, &format!("--access-token-file {}: the file is empty", path.display()))
}

/// A token as given, without the line ending or spaces a file or `export` adds.
fn token(text: &str, empty: &str) -> Result<AccessToken, Stop> {
    match text.trim() {
        "" => Err(Stop::usage(empty)),
        token => Ok(AccessToken::new(token)),
    }
}

fn address_problem(problem: &AddressProblem) -> String {
    match problem {
        AddressProblem::Empty => "a work address is needed.".into(),
        AddressProblem::MissingAt => "add the @ and the organisation's domain, like ada@contoso.com.".into(),
        AddressProblem::MoreThanOneAt => "a work address has one @.".into(),
        AddressProblem::MissingName => "the name before the @ is missing.".into(),
        AddressProblem::MissingDomain => "the domain after the @ is missing.".into(),
        AddressProblem::IncompleteDomain => "the domain is incomplete, like contoso instead of contoso.com.".into(),
        AddressProblem::InvalidCharacter { character } => format!("a work address cannot contain {character:?}."),
        AddressProblem::MisplacedDot => "a dot cannot start or end the name, or follow another dot.".into(),
        AddressProblem::InvalidDomain => "the domain is not valid.".into(),
        AddressProblem::TooLong => "that is longer than a work address can be.".into(),
    }
}

fn name_problem(problem: &NameProblem) -> String {
    match problem {
        NameProblem::Empty => "the name is empty.".into(),
        NameProblem::TooLong { max } => format!("the name can have at most {max} characters."),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use tap2key_directory::PasskeyApi;

    use super::*;

    fn settings(line: &[&str]) -> Result<Settings, Stop> {
        let args = Args::try_parse_from(std::iter::once("tap2key-enroll").chain(line.iter().copied())).unwrap();
        Settings::new(args, false, None)
    }

    #[test]
    fn a_directory_and_a_user_make_a_run() {
        let run = settings(&["--directory", "http://127.0.0.1:8400", "--user", "ada@contoso.com", "--no-browser"]).ok().unwrap();
        assert_eq!(run.directory, Some(DirectoryConfig::demo("http://127.0.0.1:8400")));
        assert!(matches!(run.sign_in, SignIn::Page { open_browser: false }));
        assert_eq!(run.user.unwrap().as_str(), "ada@contoso.com");
    }

    #[test]
    fn entra_is_described_option_by_option() {
        let run = settings(&[
            "--authority=https://login.microsoftonline.com",
            "--graph=https://onboarding.contoso.com/v1.0",
            "--tenant=contoso.onmicrosoft.com",
            "--client-id=1234",
            "--scope=openid",
            "--scope=api://tap2key-onboarding/Passkeys.Register",
            "--user=ada@contoso.com",
        ])
        .ok()
        .unwrap();
        let directory = run.directory.unwrap();
        assert_eq!(directory.authority.as_str(), "https://login.microsoftonline.com/");
        assert_eq!((directory.tenant.as_str(), directory.client_id.as_str()), ("contoso.onmicrosoft.com", "1234"));
        assert_eq!(directory.scopes, ["openid", "api://tap2key-onboarding/Passkeys.Register"]);
    }

    #[test]
    fn entra_through_the_broker() {
        let run = settings(&[
            "--broker=https://onboarding.contoso.com",
            "--broker-scope=api://tap2key-broker/Passkeys.Register",
            "--tenant=contoso.onmicrosoft.com",
            "--client-id=1234",
            "--user=ada@contoso.com",
        ])
        .ok()
        .unwrap();
        let expected = DirectoryConfig::entra_broker(
            DirectoryConfig::public_cloud_authority(),
            "contoso.onmicrosoft.com",
            "1234",
            Url::parse("https://onboarding.contoso.com").unwrap(),
            "api://tap2key-broker/Passkeys.Register",
        );
        assert_eq!(run.directory, Some(expected));
        let directory = settings(&[
            "--broker=https://onboarding.contoso.us",
            "--broker-scope=api://b/P",
            "--authority=https://login.microsoftonline.us",
            "--tenant=t",
            "--client-id=c",
            "--user=ada@contoso.com",
        ])
        .ok()
        .unwrap()
        .directory
        .unwrap();
        assert_eq!((directory.authority.as_str(), directory.graph.as_str()), ("https://login.microsoftonline.us/", "https://onboarding.contoso.us/v1.0"));
        assert_eq!(directory.api, PasskeyApi::OnboardingService);
    }

    #[test]
    fn entra_with_graph_directly() {
        let run = settings(&["--direct", "--tenant=contoso.onmicrosoft.com", "--client-id=1234", "--user=ada@contoso.com"]).ok().unwrap();
        let expected = DirectoryConfig::entra_direct(DirectoryConfig::public_cloud_authority(), "contoso.onmicrosoft.com", "1234", DirectoryConfig::graph_v1());
        assert_eq!(run.directory, Some(expected));
        let directory = settings(&["--direct", "--tenant=t", "--client-id=c", "--graph=http://127.0.0.1:8400/v1.0", "--scope=openid", "--user=ada@contoso.com"])
            .ok()
            .unwrap()
            .directory
            .unwrap();
        assert_eq!((directory.api, directory.graph.as_str()), (PasskeyApi::GraphDirect, "http://127.0.0.1:8400/v1.0"));
        assert_eq!(directory.scopes, ["openid"]);
    }

    #[test]
    fn broker_and_direct_override_a_directory_from_the_environment() {
        let line = ["tap2key-enroll", "--direct", "--tenant=t", "--client-id=c", "--user=ada@contoso.com"];
        let mut args = Args::try_parse_from(line).unwrap();
        args.directory = Some("http://127.0.0.1:8400".into());
        let run = Settings::new(args, true, None).ok().unwrap();
        assert_eq!(run.directory.unwrap().api, PasskeyApi::GraphDirect);
        let mut args = Args::try_parse_from(line).unwrap();
        args.directory = Some("http://127.0.0.1:8400".into());
        assert!(matches!(Settings::new(args, false, None), Err(Stop::Usage { .. })), "but not one given on the command line");
    }

    #[test]
    fn broker_and_direct_mistakes_are_usage_errors() {
        let user = "--user=ada@contoso.com";
        for (line, words) in [
            (&["--broker=https://b.contoso.com", "--tenant=t", "--client-id=c", user][..], "--broker needs --broker-scope"),
            (&["--broker=https://b.contoso.com", "--broker-scope=s", "--client-id=c", user], "--broker needs --tenant and --client-id"),
            (&["--broker=https://b.contoso.com", "--broker-scope=s", "--tenant=t", "--client-id=c", "--graph=https://g.contoso.com/v1.0", user], "--graph is not used"),
            (&["--broker=not a url", "--broker-scope=s", "--tenant=t", "--client-id=c", user], "--broker not a url"),
            (&["--broker-scope=s", "--directory=http://127.0.0.1:8400", user], "--broker-scope goes with --broker"),
            (&["--broker=https://b.contoso.com", "--broker-scope=s", "--direct", "--tenant=t", "--client-id=c", user], "choose one"),
            (&["--direct", "--directory=http://127.0.0.1:8400", "--tenant=t", "--client-id=c", user], "choose one"),
            (&["--direct", "--tenant=t", user], "--direct needs --tenant and --client-id"),
            (&["--demo", "--direct"], "--demo runs a directory of its own"),
            (&["--demo", "--broker=https://b.contoso.com"], "--demo runs a directory of its own"),
        ] {
            match settings(line) {
                Err(Stop::Usage { message, .. }) => assert!(message.contains(words), "{line:?}: {message}"),
                _ => panic!("{line:?} should be a usage error"),
            }
        }
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for line in [
            &["--user", "ada@contoso.com"][..],
            &["--directory", "not a url", "--user", "ada@contoso.com"],
            &["--directory", "http://127.0.0.1:8400"],
            &["--directory", "http://127.0.0.1:8400", "--user", "ada"],
            &["--demo", "--directory", "http://127.0.0.1:8400"],
            &["--demo", "--name", &"x".repeat(31)],
            &["--demo", "--virtual-key-state", "key.json"],
        ] {
            assert!(matches!(settings(line), Err(Stop::Usage { .. })), "{line:?}");
        }
    }

    #[test]
    fn the_demo_has_a_user_of_its_own() {
        let run = settings(&["--demo", "--key", "virtual"]).ok().unwrap();
        assert!(run.directory.is_none());
        assert_eq!(run.user.unwrap().as_str(), DEMO_USER);
    }

    #[test]
    fn a_token_is_trimmed_and_never_empty() {
        let args = Args::try_parse_from(["tap2key-enroll", "--directory", "http://127.0.0.1:8400"]).unwrap();
        let run = Settings::new(args, false, Some(Zeroizing::new(" eyJ.token.sig\n".into()))).ok().unwrap();
        assert!(matches!(&run.sign_in, SignIn::Token(token) if token.secret() == "eyJ.token.sig"));
        let args = Args::try_parse_from(["tap2key-enroll", "--directory", "http://127.0.0.1:8400"]).unwrap();
        assert!(matches!(Settings::new(args, false, Some(Zeroizing::new("\n".into()))), Err(Stop::Usage { .. })));
    }
}
