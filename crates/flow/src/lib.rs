//! One onboarding session, from "signed in with a Temporary Access Pass" to "key registered
//! and its test sign-in verified", with no UI and no Tauri in it.
//!
//! - [`Session`] is the state machine, pure: an [`Intent`] of the person or an [`Outcome`]
//!   of the work goes in; the next [`Step`] and the [`Effect`]s to carry out come out.
//! - [`Onboarding`] (the driver) carries the effects out against a [`Key`](tap2key_keys::Key)
//!   and the directory, holds the secrets (token, PIN, challenge) in memory, zeroized, and
//!   publishes each step.
//!
//! Everything that crosses to a UI is plain serializable data with TypeScript bindings
//! generated from these types; secrets cross only inward, as [`SecretText`].

mod driver;
mod failure;
mod intent;
pub mod key_name;
pub mod pin_policy;
mod secret;
mod session;
mod step;
mod work_address;

pub use driver::{Milestone, Onboarding, OnboardingConfig, SignInMode, model_name};
pub use failure::{Cleanup, Failure, SignInCause, WayForward};
pub use intent::Intent;
pub use key_name::NameProblem;
pub use pin_policy::{PinPolicy, PinProblem, PinRules};
pub use secret::SecretText;
pub use session::{Effect, NotNow, Outcome, Session};
pub use step::{KeyDescription, PinState, RegisteredKey, Step};
pub use work_address::{AddressProblem, WorkAddress};
