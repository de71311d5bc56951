//! `tap2key-enroll`: the onboarding flow of the tap2key app from the command line, for IT,
//! scripts and benchmarks. It drives the same `Onboarding` as the desktop app, writes each
//! step as a line on standard error, keeps standard output for the result, and ends with
//! an exit code per kind of failure (see `exit.rs`).

mod args;
mod browser;
mod demo;
mod drive;
mod exit;
mod logging;
mod outcome;
mod pin_input;
mod render;
mod result_out;
mod settings;
mod terminal;

use std::{process::ExitCode, time::Duration};

use tap2key_directory::DirectoryConfig;
use tap2key_flow::{Onboarding, OnboardingConfig, PinPolicy, SignInMode};
use tap2key_keys::KeyPorts;
use tap2key_virtual_key::{TouchPolicy, VirtualKey, VirtualKeyConfig};
use zeroize::Zeroizing;

use crate::{
    args::{Args, KeyKind},
    demo::Demo,
    drive::Answers,
    outcome::{Ending, Stop},
    pin_input::PinSource,
    render::{Renderer, say},
    settings::{Settings, SignIn},
};

/// How often the flow looks for keys coming and going: quick enough to feel immediate
/// after plugging one in, slow enough to cost nothing.
const WATCH_INTERVAL: Duration = Duration::from_millis(250);

/// How long closing may take (deleting a passkey that was not registered, from the key).
const CLOSE_PATIENCE: Duration = Duration::from_secs(15);

fn main() -> ExitCode {
    let (args, directory_from_env) = args::parse();
    result_out::divert();
    logging::init(args.verbose);
    // Read here and nowhere else; it is never printed, logged or passed on.
    let token_from_env = std::env::var("TAP2KEY_ACCESS_TOKEN").ok().map(Zeroizing::new);
    let json = args.json;

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            say(&format!("tap2key-enroll could not start: {error}"));
            return ExitCode::from(exit::OTHER);
        }
    };
    let ending = runtime.block_on(run(args, directory_from_env, token_from_env));
    ending.print(json);
    // A PIN prompt abandoned by Ctrl-C may still block its thread: do not wait for it.
    runtime.shutdown_background();
    ExitCode::from(ending.exit_code())
}

async fn run(args: Args, directory_from_env: bool, token_from_env: Option<Zeroizing<String>>) -> Ending {
    let mut renderer = Renderer::default();
    let ending = match Settings::new(args, directory_from_env, token_from_env) {
        Ok(settings) => enrol(settings, &mut renderer).await,
        Err(stop) => Ending::Stopped(stop),
    };
    renderer.ending(&ending);
    ending
}

async fn enrol(settings: Settings, renderer: &mut Renderer) -> Ending {
    let pins = match PinSource::new(settings.pin_fd) {
        Ok(pins) => pins,
        Err(stop) => return Ending::Stopped(stop),
    };

    let ports = KeyPorts::new(settings.key == KeyKind::Usb);
    // Kept until the flow is closed: closing may still delete a passkey from it.
    let _virtual_key = match settings.key {
        KeyKind::Usb => None,
        KeyKind::Virtual => {
            let config = VirtualKeyConfig { state_file: settings.virtual_key_state.clone(), touch: TouchPolicy::Immediately, ..VirtualKeyConfig::default() };
            match VirtualKey::new(config) {
                Ok(key) => {
                    ports.plug_in(key.plug_in());
                    Some(key)
                }
                Err(error) => return Ending::Stopped(Stop::Other { message: format!("The virtual key could not be made: {error}.") }),
            }
        }
    };

    let (directory, demo) = match settings.directory {
        Some(directory) => (directory, None),
        None => {
            let user = settings.user.as_ref().expect("--demo always has a user");
            match Demo::start(user, settings.key).await {
                Ok(demo) => (DirectoryConfig::demo(demo.base_url()), Some(demo)),
                Err(message) => return Ending::Stopped(Stop::Other { message }),
            }
        }
    };

    let (sign_in, open_browser) = match settings.sign_in {
        SignIn::Token(token) => (SignInMode::Token { token, account: settings.user.clone() }, false),
        SignIn::Page { open_browser } => (SignInMode::Browser, open_browser),
    };
    let flow = Onboarding::start(OnboardingConfig {
        directory,
        sign_in,
        for_user: settings.for_user,
        ports,
        pin_policy: PinPolicy::default(),
        watch_interval: WATCH_INTERVAL,
    });
    renderer.prompting = pins.is_interactive();
    let answers = Answers { user: settings.user, open_browser, name: settings.name, pins, wait_for_key: settings.wait_for_key };
    // Biased, Ctrl-C first: its handler is installed when first polled, which must come
    // before the drive's first poll, since that may already print a prompt (the flow runs
    // on another thread) and a script may answer the prompt with SIGINT at once.
    let ending = tokio::select! {
        biased;
        _ = tokio::signal::ctrl_c() => Ending::Stopped(Stop::Interrupted),
        ending = drive::drive(&flow, answers, renderer) => ending,
    };

    let interrupted = matches!(ending, Ending::Stopped(Stop::Interrupted));
    if interrupted {
        terminal::restore();
        say("Stopping: tidying up the key…");
    }
    // Start over, then stop: the flow forgets the token and the PIN, and deletes from the
    // key a passkey that was made but not registered. A second Ctrl-C stops waiting for it.
    tokio::select! {
        _ = tokio::time::timeout(CLOSE_PATIENCE, flow.close()) => {}
        _ = tokio::signal::ctrl_c(), if interrupted => {}
    }
    if let Some(demo) = demo {
        demo.finish().await;
    }
    ending
}
