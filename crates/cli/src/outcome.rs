//! How a run ends, and the result on standard output: a short summary, or one JSON object.
//!
//! Standard output carries the result and nothing else, so a script can read it; what
//! happened along the way, and what to do after a failure, goes to standard error.

use serde::Serialize;
use tap2key_flow::{Cleanup, Failure, PinProblem, RegisteredKey, WayForward};

use crate::exit;

/// How a run ended.
#[derive(Debug)]
pub enum Ending {
    Registered(RegisteredKey),
    /// The flow failed, with what it tidied up and what can be done now.
    Failed { failure: Failure, cleanup: Vec<Cleanup>, ways_forward: Vec<WayForward> },
    /// This program stopped the run (the flow itself would have waited or asked again).
    Stopped(Stop),
}

/// Why this program stopped a run. Serialized like the flow's `Failure`, tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Stop {
    /// The command line does not make a run.
    Usage { message: String },
    /// A PIN is needed but there is no terminal to ask in and no --pin-fd.
    NoPinSource,
    /// No key was plugged in (or chosen) within --wait-for-key.
    NoKey { waited_seconds: u64 },
    /// The PIN from --pin-fd is wrong; asking again is for people, not scripts.
    WrongPin { retries_left: u8 },
    /// The PIN from --pin-fd does not meet the rules (or the key refused it).
    PinNotAccepted { problem: PinProblem },
    /// --pin-fd ended before the PIN(s) the key needs.
    PinInputEnded,
    PinInputUnreadable { message: String },
    /// Ctrl-C.
    Interrupted,
    Other { message: String },
}

impl Stop {
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage { message: message.into() }
    }

    pub fn ways_forward(&self) -> Vec<WayForward> {
        match self {
            Self::Usage { .. } | Self::NoPinSource | Self::PinNotAccepted { .. } | Self::PinInputEnded | Self::PinInputUnreadable { .. } => {
                vec![WayForward::Retry]
            }
            Self::NoKey { .. } | Self::WrongPin { .. } => vec![WayForward::Retry],
            Self::Interrupted | Self::Other { .. } => vec![WayForward::StartOver],
        }
    }
}

impl Ending {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Registered(_) => exit::REGISTERED,
            Self::Failed { failure, .. } => exit::for_failure(failure),
            Self::Stopped(stop) => exit::for_stop(stop),
        }
    }

    /// The result on standard output.
    pub fn print(&self, json: bool) {
        if json {
            crate::result_out::line(&serde_json::to_string(&self.report()).expect("the report serializes"));
        } else if let Self::Registered(key) = self {
            crate::result_out::line(&format!("Registered \"{}\" and signed in with it: the key works. (method id {})", key.name, key.method_id));
        }
        // A failure has no result; its words went to standard error and its kind is the exit code.
    }

    fn report(&self) -> Report<'_> {
        match self {
            Self::Registered(key) => Report::Registered {
                method: Method { id: &key.method_id, name: &key.name, aaguid: key.aaguid.as_deref(), model: key.model.as_deref() },
                test_sign_in: TestSignIn { verified: true, sign_count: key.sign_count },
            },
            Self::Failed { failure, cleanup, ways_forward } => {
                Report::Failed { failure: FailureReport::Flow(failure), cleanup: cleanup.clone(), ways_forward: ways_forward.clone() }
            }
            Self::Stopped(stop) => Report::Failed { failure: FailureReport::Cli(stop), cleanup: vec![], ways_forward: stop.ways_forward() },
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase", rename_all_fields = "camelCase")]
enum Report<'a> {
    Registered { method: Method<'a>, test_sign_in: TestSignIn },
    Failed { failure: FailureReport<'a>, cleanup: Vec<Cleanup>, ways_forward: Vec<WayForward> },
}

#[derive(Serialize)]
struct Method<'a> {
    id: &'a str,
    name: &'a str,
    aaguid: Option<&'a str>,
    model: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TestSignIn {
    verified: bool,
    sign_count: u32,
}

#[derive(Serialize)]
#[serde(untagged)]
enum FailureReport<'a> {
    Flow(&'a Failure),
    Cli(&'a Stop),
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reports_have_the_documented_shape() {
        let key = RegisteredKey {
            method_id: "m1".into(),
            name: "Ada's key".into(),
            aaguid: Some("74617032-6b65-792d-766b-65792d303031".into()),
            model: Some("tap2key Virtual Key".into()),
            sign_count: 2,
        };
        assert_eq!(
            serde_json::to_value(Ending::Registered(key).report()).unwrap(),
            json!({"outcome": "registered",
                   "method": {"id": "m1", "name": "Ada's key", "aaguid": "74617032-6b65-792d-766b-65792d303031", "model": "tap2key Virtual Key"},
                   "testSignIn": {"verified": true, "signCount": 2}})
        );
        let failed = Ending::Failed {
            failure: Failure::AlreadyRegistered,
            cleanup: vec![Cleanup::PasskeyRemovedFromKey],
            ways_forward: Failure::AlreadyRegistered.ways_forward(),
        };
        assert_eq!(
            serde_json::to_value(failed.report()).unwrap(),
            json!({"outcome": "failed", "failure": {"kind": "alreadyRegistered"}, "cleanup": ["passkeyRemovedFromKey"], "waysForward": ["useAnotherKey", "startOver"]})
        );
        let stopped = Ending::Stopped(Stop::WrongPin { retries_left: 7 });
        assert_eq!(
            serde_json::to_value(stopped.report()).unwrap(),
            json!({"outcome": "failed", "failure": {"kind": "wrongPin", "retriesLeft": 7}, "cleanup": [], "waysForward": ["retry"]})
        );
        assert_eq!(stopped.exit_code(), exit::PIN);
    }
}
