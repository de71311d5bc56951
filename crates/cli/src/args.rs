//! The command line, as `--help` shows it. Checked further in [`crate::settings`].
//!
//! There is deliberately no option and no environment variable for a PIN: a PIN on the
//! command line lands in the shell's history and in `ps` for every user of the machine.

use std::path::PathBuf;

use clap::{
    CommandFactory, FromArgMatches, Parser, ValueEnum,
    error::{ContextKind, ContextValue, ErrorKind},
    parser::ValueSource,
};

use crate::exit::EXIT_CODES_HELP;

#[derive(Debug, Parser)]
#[command(
    name = "tap2key-enroll",
    version,
    about = "Set up a FIDO2 security key for a user and register it with the directory, the way the tap2key app does",
    long_about = "Set up a FIDO2 security key for a user and register it with the directory, the way the tap2key app does: \
                  sign in with a Temporary Access Pass (or an access token), protect the key with a PIN, create a passkey, \
                  register it, and prove it works with a test sign-in.\n\n\
                  What is happening is written to standard error, line by line. Standard output holds only the result \
                  (a short summary, or one JSON object with --json), so scripts can read it.",
    after_help = EXIT_CODES_HELP
)]
pub struct Args {
    /// The address of the directory (a tap2key onboarding service), e.g. http://127.0.0.1:8400.
    #[arg(long, env = "TAP2KEY_DIRECTORY", value_name = "URL", help_heading = "Directory")]
    pub directory: Option<String>,

    /// Run a demo directory inside this program for this run only: it adds the user (ada@demo.tap2key.test
    /// unless --user says otherwise), prints the Temporary Access Pass that IT would hand over, and trusts
    /// the virtual key.
    #[arg(long, help_heading = "Directory")]
    pub demo: bool,

    /// The directory's tenant (instead of the demo directory's "demo").
    #[arg(long, value_name = "TENANT", help_heading = "Directory")]
    pub tenant: Option<String>,

    /// This program's client id at the directory (instead of "tap2key-desktop").
    #[arg(long, value_name = "ID", help_heading = "Directory")]
    pub client_id: Option<String>,

    /// A scope to ask for at sign-in; repeat it for several. Replaces the default
    /// "openid profile api://tap2key-onboarding/Passkeys.Register".
    #[arg(long = "scope", value_name = "SCOPE", help_heading = "Directory")]
    pub scopes: Vec<String>,

    /// Where the sign-in pages are (instead of the directory's address), e.g. https://login.microsoftonline.com
    /// (the default with --broker and --direct).
    #[arg(long, value_name = "URL", help_heading = "Directory")]
    pub authority: Option<String>,

    /// Where the passkey API is, with its version (instead of the directory's address + /v1.0; with --direct,
    /// instead of https://graph.microsoft.com/v1.0).
    #[arg(long, value_name = "URL", help_heading = "Directory")]
    pub graph: Option<String>,

    /// Entra ID through tap2key's onboarding service (broker mode) at this address: the person signs in at
    /// Microsoft (--authority, --tenant, --client-id) for --broker-scope, and the service registers the key
    /// (its passkey API is URL/v1.0, with the test sign-in).
    #[arg(long, value_name = "URL", help_heading = "Directory")]
    pub broker: Option<String>,

    /// The onboarding service's scope in the tenant, e.g. api://tap2key-onboarding/Passkeys.Register (with --broker).
    #[arg(long, value_name = "SCOPE", help_heading = "Directory")]
    pub broker_scope: Option<String>,

    /// Entra ID with Microsoft Graph called directly (--tenant, --client-id; --authority and --graph optional),
    /// the test sign-in checked here. Microsoft does not allow this yet (it answers 405): use --broker.
    #[arg(long, help_heading = "Directory")]
    pub direct: bool,

    /// The work address of the person who signs in, e.g. ada@contoso.com. Needed unless an access token is given.
    #[arg(long, value_name = "UPN", help_heading = "Who")]
    pub user: Option<String>,

    /// Set the key up for someone else (IT): their id or work address. The one signing in needs the
    /// Authentication Administrator role.
    #[arg(long, value_name = "ID|UPN", help_heading = "Who")]
    pub for_user: Option<String>,

    /// Do not open a browser: print the sign-in address instead, to open anywhere.
    #[arg(long, help_heading = "Sign-in")]
    pub no_browser: bool,

    /// Skip the sign-in page: read an access token for the directory from this file (for automation).
    /// The environment variable TAP2KEY_ACCESS_TOKEN does the same; the file wins if both are given.
    #[arg(long, value_name = "PATH", help_heading = "Sign-in")]
    pub access_token_file: Option<PathBuf>,

    /// Read the PIN from this open file descriptor instead of asking for it: the first line is the PIN
    /// (the new PIN for a blank key); when the key demands a new PIN, the first line is the current PIN and
    /// the second the new one. A wrong or unacceptable PIN then ends the run. Example: --pin-fd 3 3<pin.txt
    #[arg(long, value_name = "N", help_heading = "Key")]
    pub pin_fd: Option<i32>,

    /// The name the key is registered under (default: its model's name, as the app suggests). At most 30 characters.
    #[arg(long, value_name = "NAME", help_heading = "Key")]
    pub name: Option<String>,

    /// Which key to set up: a USB security key, or a virtual key inside this program (for tests and demos;
    /// it is touched at once).
    #[arg(long, value_enum, default_value_t = KeyKind::Usb, value_name = "KIND", help_heading = "Key")]
    pub key: KeyKind,

    /// Keep the virtual key in this file between runs (with --key virtual), so a second run meets the same key.
    #[arg(long, value_name = "PATH", help_heading = "Key")]
    pub virtual_key_state: Option<PathBuf>,

    /// How long to wait for a key to be plugged in (or chosen by a touch), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60, help_heading = "Key")]
    pub wait_for_key: u64,

    /// Write the result to standard output as one JSON object.
    #[arg(long, help_heading = "Output")]
    pub json: bool,

    /// Log what happens inside to standard error (RUST_LOG chooses the detail). Secrets are never logged.
    #[arg(long, short, help_heading = "Output")]
    pub verbose: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyKind {
    /// A security key on USB.
    Usb,
    /// A software key inside this program.
    Virtual,
}

/// The command line, and whether `--directory` came from TAP2KEY_DIRECTORY. Exits with code
/// 2 (and `--help`/`--version` with 0) as clap does.
pub fn parse() -> (Args, bool) {
    let matches = Args::command().try_get_matches().unwrap_or_else(|error| match error.kind() {
        ErrorKind::UnknownArgument => {
            eprintln!("{}", unknown_argument(&error));
            std::process::exit(i32::from(crate::exit::USAGE));
        }
        _ => error.exit(),
    });
    let directory_from_env = matches.value_source("directory") == Some(ValueSource::EnvVariable);
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    (args, directory_from_env)
}

/// clap's message for an unexpected argument repeats it, value and all; this one names an
/// option but never shows a value, which may be a PIN someone tried to pass.
fn unknown_argument(error: &clap::Error) -> String {
    let shown = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) if arg.starts_with('-') => format!("'{}'", arg.split('=').next().unwrap_or_default()),
        _ => "(a value, not shown)".to_owned(),
    };
    format!(
        "error: unexpected argument {shown}\n\n\
         A PIN is never taken on the command line: tap2key-enroll asks for it without echo, or reads it from --pin-fd.\n\n\
         For more information, try '--help'."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn there_is_no_way_to_pass_a_pin_as_an_argument() {
        let error = Args::try_parse_from(["tap2key-enroll", "--demo", "--pin", "480257"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::UnknownArgument);
        let error = Args::try_parse_from(["tap2key-enroll", "--demo", "480257"]).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::UnknownArgument);
        assert!(!unknown_argument(&error).contains("480257"));
        let error = Args::try_parse_from(["tap2key-enroll", "--demo", "--pin=480257"]).unwrap_err();
        let message = unknown_argument(&error);
        assert!(message.contains("'--pin'") && !message.contains("480257"), "{message}");
    }
}
