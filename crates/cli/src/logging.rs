//! Logs, off by default: standard error is for the person, and a log line is one more
//! place a secret could slip into. `--verbose` or RUST_LOG turns them on.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// These crates trace whole requests or ceremony states (headers, challenges) below
/// info: never lower than info, whatever RUST_LOG asks for.
const CAPPED: &[&str] = &["webauthn_rs_core=info", "hyper=info", "hyper_util=info", "h2=info", "rustls=info"];

pub fn init(verbose: bool) {
    let from_env = std::env::var("RUST_LOG").ok().filter(|value| !value.trim().is_empty());
    if !verbose && from_env.is_none() {
        return;
    }
    let mut filter = EnvFilter::new(from_env.as_deref().unwrap_or("info"));
    for directive in CAPPED {
        filter = filter.add_directive(directive.parse().expect("a valid directive"));
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
