//! The flow's steps as plain lines on standard error, in the words a person at a terminal
//! needs: what is happening, what to do now, and after a failure what to do next.

use tap2key_flow::{Failure, PinProblem, PinState, SignInCause, Step, WayForward};

use crate::outcome::{Ending, Stop};

/// Writes each step once, as it is entered; a touch request once per touch.
#[derive(Default)]
pub struct Renderer {
    /// PINs are asked for at a prompt: a problem with one is said there. (A PIN from
    /// --pin-fd that is not taken ends the run, with words of its own.)
    pub prompting: bool,
    last: Option<&'static str>,
    touching: bool,
    /// How many keys the last "finding a key" line was about.
    keys_told: Option<usize>,
    /// The name the key is being registered under, for the words after a failed test.
    name: Option<String>,
}

impl Renderer {
    pub fn show(&mut self, step: &Step) {
        let entered = self.last != Some(step.name());
        self.last = Some(step.name());
        if !matches!(step, Step::FindingKey { .. }) {
            self.keys_told = None;
        }
        let touching = step.wants_touch();
        let touch_now = touching && !self.touching;
        self.touching = touching;

        match step {
            Step::SigningIn { url: None, .. } if entered => say("Connecting to the directory…"),
            Step::FindingKey { keys, .. } if self.keys_told != Some(*keys) => {
                self.keys_told = Some(*keys);
                // "Insert your security key" is said by the driver, after a moment's grace.
                if *keys > 1 {
                    say("Several keys are plugged in: touch the one you want.");
                }
            }
            Step::KeyFound { key } => say(&format!("Found a key: {} ({}).", key.model, pin_state(&key.pin))),
            Step::ChoosePin { problem, .. } => match problem {
                None if entered => say("The key has no PIN yet: choose one. It protects the key if it is lost."),
                Some(problem) if self.prompting => say(&pin_problem(problem)),
                _ => {}
            },
            Step::EnterPin { problem: Some(problem), .. } if self.prompting => say(&pin_problem(problem)),
            Step::ChangePin { problem, .. } => match problem {
                None if entered => say("The key asks for a new PIN before it can be used: type the current PIN, then a new one."),
                Some(problem) if self.prompting => say(&pin_problem(problem)),
                _ => {}
            },
            Step::CheckingPin if entered => say("Checking the PIN…"),
            Step::CreatingPasskey { .. } if entered => say("Creating a passkey on the key…"),
            Step::Registering { name } if entered => {
                self.name = Some(name.clone());
                say(&format!("Registering \"{name}\" with the directory…"));
            }
            Step::TestSignIn { .. } if entered => say("Testing a sign-in with the new key…"),
            Step::RemovingRegistration if entered => say("Taking the registration back…"),
            Step::Done { .. } => say("Done: the key is registered, and signing in with it works."),
            _ => {}
        }
        if touch_now && !matches!(step, Step::FindingKey { .. }) {
            say("Touch your security key now.");
        }
    }

    /// What went wrong and what to do now, for any ending but success.
    pub fn ending(&self, ending: &Ending) {
        let (what, ways) = match ending {
            Ending::Registered(_) => return,
            Ending::Failed { failure, ways_forward, .. } => (self.failure(failure), ways_forward.clone()),
            Ending::Stopped(stop) => (stopped(stop), stop.ways_forward()),
        };
        say(&what);
        let kind = match ending {
            Ending::Failed { failure, .. } => failure.kind(),
            _ => "",
        };
        let next: Vec<String> = next_steps(&ways, kind, ending);
        if !next.is_empty() {
            say("What to do now:");
            for line in next {
                say(&format!("  - {line}"));
            }
        }
    }

    fn failure(&self, failure: &Failure) -> String {
        match failure {
            Failure::SignInRefused { problem } => format!("The sign-in was refused: {}", sign_in_cause(*problem)),
            Failure::SignInNotTrusted => "The answer from the sign-in page did not belong to this sign-in, so it was not accepted.".into(),
            Failure::DirectoryUnreachable => "The directory cannot be reached. Check the network connection and the directory's address.".into(),
            Failure::DirectoryUnavailable => "The directory is busy or down for now.".into(),
            Failure::SessionExpired => "The sign-in is no longer valid: it expired, or the pass behind it did.".into(),
            Failure::SelfServiceNotSupported => {
                "Microsoft does not yet let apps register security keys directly (Graph answered 405). The organisation needs tap2key's \
                 onboarding service: IT sets it up (see docs/entra.md) and points tap2key at it with --broker and --broker-scope."
                    .into()
            }
            Failure::DirectoryRefused { message } => format!("The directory refused: {message}"),
            Failure::NotPermitted { message } => format!("This account may not do that: {message}"),
            Failure::AlreadyRegistered => "This key is registered for this account already. Nothing was changed.".into(),
            Failure::ModelNotAllowed { model, message } => format!("The organisation does not allow this key model ({model}). {message}").trim_end().to_owned(),
            Failure::KeyRemoved => "The key was pulled out while it was needed.".into(),
            Failure::PinBlocked => "The key's PIN is blocked after too many wrong tries. Only a reset, which wipes the key, makes it usable again.".into(),
            Failure::PinTriesPaused => "Three wrong PINs in a row: the key takes no more tries until it is pulled out and put back in.".into(),
            Failure::NoTouch => "The key was not touched in time.".into(),
            Failure::Cancelled => "The key's wait for a touch was cancelled.".into(),
            Failure::KeyFull => "The key has no room for another passkey.".into(),
            Failure::KeyNotSuitable => "This key cannot hold the passkey the directory needs (a PIN, passkeys kept on the key, and ES256).".into(),
            Failure::KeyTrouble => "Talking to the key failed, or it answered something that makes no sense.".into(),
            Failure::TestSignInFailed { message } => {
                let name = self.name.as_deref().map(|n| format!(" as \"{n}\"")).unwrap_or_default();
                let why = if message.is_empty() { String::new() } else { format!(" ({message})") };
                format!(
                    "The key is registered{name}, but the test sign-in with it did not work{why}. The registration is kept."
                )
            }
        }
    }
}

fn next_steps(ways: &[WayForward], kind: &str, ending: &Ending) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let again = ways.iter().any(|w| matches!(w, WayForward::Retry | WayForward::SignInAgain | WayForward::ReinsertKey));
    for way in ways {
        let line = match way {
            WayForward::Retry => match ending {
                Ending::Stopped(Stop::Usage { .. }) => "See tap2key-enroll --help, then run the command again.".to_owned(),
                Ending::Stopped(Stop::NoPinSource) => "Give the PIN on a file descriptor: --pin-fd 3 3<pin.txt (or run in a terminal).".to_owned(),
                Ending::Stopped(Stop::NoKey { .. }) => "Insert your security key and run the command again (--wait-for-key gives more time).".to_owned(),
                _ => "Run the same command again.".to_owned(),
            },
            WayForward::ReinsertKey => "Pull the key out, put it back in, and run the command again.".to_owned(),
            WayForward::SignInAgain => {
                "Run the command again and sign in again (with a new Temporary Access Pass if yours was for one sign-in).".to_owned()
            }
            WayForward::UseAnotherKey => "Use another security key.".to_owned(),
            WayForward::AskIt if kind.is_empty() => "Ask IT for help.".to_owned(),
            WayForward::AskIt => format!("Ask IT for help, and tell them what happened: \"{kind}\"."),
            WayForward::RemoveRegistration => {
                "To take the registration back, remove this security key from the account's security info (or ask IT to); \
                 then set the key up again."
                    .to_owned()
            }
            WayForward::StartOver if again => continue,
            WayForward::StartOver => "Start again with the same command.".to_owned(),
        };
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines
}

fn stopped(stop: &Stop) -> String {
    match stop {
        Stop::Usage { message } => message.clone(),
        Stop::NoPinSource => "A PIN is needed, but there is no terminal to ask for it in.".into(),
        Stop::NoKey { waited_seconds: 1 } => "No security key was ready within a second.".into(),
        Stop::NoKey { waited_seconds } => format!("No security key was ready within {waited_seconds} seconds."),
        Stop::WrongPin { retries_left } => {
            format!("The PIN from --pin-fd is wrong. The key allows {retries_left} more tries before it blocks the PIN; this run tries no more.")
        }
        Stop::PinNotAccepted { problem } => format!("The PIN from --pin-fd was not accepted: {}", pin_problem(problem)),
        Stop::PinInputEnded => {
            "The PIN input ended before the PIN the key needs. With --pin-fd: the PIN on the first line; when the key \
             demands a new PIN, the current one on the first line and the new one on the second."
                .into()
        }
        Stop::PinInputUnreadable { message } => format!("The PIN could not be read: {message}."),
        Stop::Interrupted => "Stopped. Anything made on the key that was not registered was deleted from it.".into(),
        Stop::Other { message } => message.clone(),
    }
}

fn sign_in_cause(cause: SignInCause) -> &'static str {
    match cause {
        SignInCause::PassExpired => "the Temporary Access Pass has expired.",
        SignInCause::PassNotYetValid => "the Temporary Access Pass is not valid yet.",
        SignInCause::PassAlreadyUsed => "the Temporary Access Pass was for one sign-in and has been used.",
        SignInCause::NoPass => "there is no Temporary Access Pass for this account.",
        SignInCause::AccountLocked => "the account is locked for now after too many wrong passes.",
        SignInCause::Denied => "the directory did not let this account sign in.",
    }
}

fn pin_state(pin: &PinState) -> String {
    match pin {
        PinState::NotSet => "no PIN yet".into(),
        PinState::Set { retries } => format!("PIN set, {retries} tries left"),
        PinState::ChangeRequired { .. } => "it asks for a new PIN".into(),
        PinState::ReinsertNeeded { .. } => "it needs to be pulled out and put back in before the next PIN".into(),
        PinState::Blocked => "PIN blocked".into(),
    }
}

/// Why a PIN was not taken, in words.
pub fn pin_problem(problem: &PinProblem) -> String {
    match problem {
        PinProblem::Empty => "Type a PIN.".into(),
        PinProblem::TooShort { min } => format!("The PIN needs at least {min} characters."),
        PinProblem::TooLong { max } => format!("The PIN can have at most {max} characters."),
        PinProblem::TooObvious => "That PIN is too easy to guess (one character repeated, or a run like 123456). Choose another.".into(),
        PinProblem::Mismatch => "The two PINs differ: type the same PIN twice.".into(),
        PinProblem::SameAsCurrent => "The new PIN must differ from the current one.".into(),
        PinProblem::Wrong { retries_left } => format!("That PIN is wrong: {retries_left} tries left before the key blocks it."),
        PinProblem::RefusedByKey => "The key refused that PIN under its own rules. Choose another.".into(),
    }
}

/// One line for the person, on standard error (standard output is for the result).
pub fn say(line: &str) {
    eprintln!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_test_sign_in_says_the_registration_is_kept_and_how_to_undo_it() {
        let renderer = Renderer { name: Some("Ada's key".into()), ..Renderer::default() };
        let failure = Failure::TestSignInFailed { message: "The directory did not accept the sign-in.".into() };
        assert!(renderer.failure(&failure).contains("registered as \"Ada's key\""));
        assert!(renderer.failure(&failure).contains("kept"));
        let ending = Ending::Failed { failure: failure.clone(), cleanup: vec![], ways_forward: failure.ways_forward() };
        let next = next_steps(&failure.ways_forward(), failure.kind(), &ending);
        assert!(next.iter().any(|l| l.contains("remove this security key")), "{next:?}");
    }

    #[test]
    fn start_over_is_not_said_twice() {
        let failure = Failure::DirectoryUnreachable;
        let ending = Ending::Failed { failure: failure.clone(), cleanup: vec![], ways_forward: failure.ways_forward() };
        assert_eq!(next_steps(&failure.ways_forward(), failure.kind(), &ending), ["Run the same command again."]);
    }
}
