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
            if args.tenant.is_some() || args.client_id.is_some() || !args.scopes.is_empty() || args.authority.is_some() || args.graph.is_some() {
                return Err(Stop::usage("--demo runs a directory of its own: leave out --tenant, --client-id, --scope, --authority and --graph."));
            }
            if token.is_some() {
                return Err(Stop::usage("--demo signs in with the Temporary Access Pass it issues: leave out the access token."));
            }
            None
        } else {
            Some(directory_config(&args)?)
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

/// `--directory` (a tap2key onboarding service, laid out like the demo directory) with any
/// overrides, or a directory described option by option (Entra: authority, tenant, client
/// id, Graph).
fn directory_config(args: &Args) -> Result<DirectoryConfig, Stop> {
    let mut config = match &args.directory {
        Some(text) => DirectoryConfig::demo(url("--directory", text)?.as_str()),
        None => {
            let (Some(authority), Some(graph), Some(_), Some(_)) = (&args.authority, &args.graph, &args.tenant, &args.client_id) else {
                return Err(Stop::usage(
                    "Say which directory: --directory <URL> (or TAP2KEY_DIRECTORY), --demo, or all of --authority, --graph, --tenant and --client-id.",
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
    if !args.scopes.is_empty() {
        config.scopes = args.scopes.clone();
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
