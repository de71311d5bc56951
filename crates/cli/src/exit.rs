//! One exit code per kind of ending, so a script can tell what to do next without reading
//! the words. The table is in `--help` and in the README; keep the three in step.

use tap2key_flow::Failure;

use crate::outcome::Stop;

pub const REGISTERED: u8 = 0;
/// Something this program could not do that has no kind of its own (the message says what).
pub const OTHER: u8 = 1;
pub const USAGE: u8 = 2;
pub const SIGN_IN_REFUSED: u8 = 10;
pub const SIGN_IN_NOT_VALID: u8 = 11;
pub const DIRECTORY_UNREACHABLE: u8 = 20;
pub const DIRECTORY_REFUSED: u8 = 21;
pub const NO_KEY: u8 = 30;
pub const PIN: u8 = 31;
pub const ALREADY_REGISTERED: u8 = 32;
pub const MODEL_NOT_ALLOWED: u8 = 33;
pub const NO_TOUCH: u8 = 34;
pub const KEY_UNUSABLE: u8 = 35;
pub const TEST_SIGN_IN_FAILED: u8 = 40;
/// 128 + SIGINT, as shells report a program stopped by Ctrl-C.
pub const INTERRUPTED: u8 = 130;

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
   0  the key is registered and its test sign-in worked
   1  something else went wrong (the message says what)
   2  the command line is wrong, or no PIN can be asked for
  10  the sign-in was refused: the Temporary Access Pass expired, was used, is missing, or the account is locked
  11  the sign-in could not be trusted, or it expired
  20  the directory cannot be reached, or is unavailable for now
  21  the directory refused (including: it does not let people register their own keys)
  30  no key was plugged in in time, or the key was pulled out
  31  a PIN problem: wrong PIN (with --pin-fd), PIN not accepted, PIN blocked, or too many wrong tries
  32  this key is registered for this user already
  33  the organisation does not allow this key model
  34  the key was not touched in time, or the touch was cancelled
  35  the key cannot be used: it is full, not suitable, or not answering properly
  40  the key is registered but its test sign-in failed (the registration is kept)
 130  stopped with Ctrl-C (a passkey not registered yet is deleted from the key first)";

pub fn for_failure(failure: &Failure) -> u8 {
    match failure {
        Failure::SignInRefused { .. } => SIGN_IN_REFUSED,
        Failure::SignInNotTrusted | Failure::SessionExpired => SIGN_IN_NOT_VALID,
        Failure::DirectoryUnreachable | Failure::DirectoryUnavailable => DIRECTORY_UNREACHABLE,
        Failure::SelfServiceNotSupported | Failure::DirectoryRefused { .. } | Failure::NotPermitted { .. } => DIRECTORY_REFUSED,
        Failure::KeyRemoved => NO_KEY,
        Failure::PinBlocked | Failure::PinTriesPaused => PIN,
        Failure::AlreadyRegistered => ALREADY_REGISTERED,
        Failure::ModelNotAllowed { .. } => MODEL_NOT_ALLOWED,
        Failure::NoTouch | Failure::Cancelled => NO_TOUCH,
        Failure::KeyFull | Failure::KeyNotSuitable | Failure::KeyTrouble => KEY_UNUSABLE,
        Failure::TestSignInFailed { .. } => TEST_SIGN_IN_FAILED,
    }
}

pub fn for_stop(stop: &Stop) -> u8 {
    match stop {
        Stop::Usage { .. } | Stop::NoPinSource => USAGE,
        Stop::NoKey { .. } => NO_KEY,
        Stop::WrongPin { .. } | Stop::PinNotAccepted { .. } | Stop::PinInputEnded | Stop::PinInputUnreadable { .. } => PIN,
        Stop::Interrupted => INTERRUPTED,
        Stop::Other { .. } => OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_lists_every_code() {
        for code in [
            REGISTERED,
            OTHER,
            USAGE,
            SIGN_IN_REFUSED,
            SIGN_IN_NOT_VALID,
            DIRECTORY_UNREACHABLE,
            DIRECTORY_REFUSED,
            NO_KEY,
            PIN,
            ALREADY_REGISTERED,
            MODEL_NOT_ALLOWED,
            NO_TOUCH,
            KEY_UNUSABLE,
            TEST_SIGN_IN_FAILED,
            INTERRUPTED,
        ] {
            let line = format!("{code:>4}  ");
            assert!(EXIT_CODES_HELP.lines().any(|l| l.starts_with(&line)), "exit code {code} is not in --help");
        }
    }
}
