//! The command line, answered before any window opens (so it runs without a display).
//! Building this test also builds the `tap2key` binary that the end-to-end tests drive,
//! with the same features as the rest of the test build: one build serves both.

use std::process::Command;

fn tap2key(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tap2key")).args(args).output().expect("the binary runs")
}

#[test]
fn help_names_the_demo_and_version_matches_the_crate() {
    let help = tap2key(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(text.contains("--demo") && text.contains("Set up a FIDO2 security key"), "{text}");

    let version = String::from_utf8(tap2key(&["--version"]).stdout).unwrap();
    assert_eq!(version.trim(), format!("tap2key {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn an_unknown_flag_is_refused_with_usage() {
    let output = tap2key(&["--kiosque"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unexpected argument"));
}
