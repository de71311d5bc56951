//! The command line of the desktop app.

use clap::Parser;

use crate::ipc::Mode;

#[derive(Clone, Debug, Default, Parser)]
#[command(name = "tap2key", version, about = "Set up a FIDO2 security key with a Temporary Access Pass")]
pub struct Options {
    /// Try tap2key with no tenant and no key: a built-in demo directory and a virtual key.
    #[arg(long)]
    pub demo: bool,
}

impl Options {
    pub fn mode(&self) -> Mode {
        if self.demo { Mode::Demo } else { Mode::Standard }
    }
}
