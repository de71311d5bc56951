//! One onboarding session as a state machine, with no UI and no Tauri in it.
//!
//! Data flows one way: the UI sends an [`Intent`], the [`Session`] decides the next
//! [`Step`], and the UI renders that step. Everything that crosses to the UI is plain
//! serializable data with TypeScript bindings generated from these types.

mod intent;
mod session;
mod step;
mod work_address;

pub use intent::Intent;
pub use session::{NotNow, Session};
pub use step::Step;
pub use work_address::{AddressProblem, WorkAddress};
