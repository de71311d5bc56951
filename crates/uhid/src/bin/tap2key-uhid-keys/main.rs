//! `tap2key-uhid-keys`: runs inside the VM guest (see `tests/vm.rs`). It puts virtual keys
//! on the kernel's HID bus through `/dev/uhid`, plays the person (types the pass, touches
//! a key, pulls one out and puts it back) and runs `tap2key-enroll --key usb` through each
//! scenario, so the code that talks to physical keys (ctap-hid-fido2, hidapi, hidraw) is
//! what gets tested.
//!
//! Usage: `tap2key-uhid-keys --enroll <path to tap2key-enroll> [scenario...]` (all by
//! default). It prints one machine-readable line per scenario for the host to read off the
//! serial console:
//!
//! ```text
//! TAP2KEY-VM scenario=<name> result=pass|fail seconds=<s> detail=<one line>
//! ```

#[cfg(target_os = "linux")]
mod enroll;
#[cfg(target_os = "linux")]
mod person;
#[cfg(target_os = "linux")]
mod port;
#[cfg(target_os = "linux")]
mod raw;
#[cfg(target_os = "linux")]
mod scenarios;
#[cfg(target_os = "linux")]
mod seen;

use std::process::ExitCode;

#[cfg(not(target_os = "linux"))]
fn main() -> ExitCode {
    eprintln!("tap2key-uhid-keys needs Linux (/dev/uhid)");
    ExitCode::FAILURE
}

#[cfg(target_os = "linux")]
fn main() -> ExitCode {
    use std::{panic::AssertUnwindSafe, path::PathBuf, time::Instant};

    let mut args = std::env::args().skip(1);
    let mut enroll = None;
    let mut wanted = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--enroll" => enroll = args.next().map(PathBuf::from),
            name => wanted.push(name.to_owned()),
        }
    }
    let Some(enroll) = enroll else {
        eprintln!("usage: tap2key-uhid-keys --enroll <tap2key-enroll> [scenario...]");
        return ExitCode::from(2);
    };
    let selected: Vec<_> = scenarios::SCENARIOS.iter().filter(|(name, _)| wanted.is_empty() || wanted.iter().any(|w| w == name)).collect();
    if selected.is_empty() {
        eprintln!("no such scenario; there are: {}", scenarios::SCENARIOS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "));
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("no async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let context = scenarios::Context { enroll, runtime };

    let started = Instant::now();
    println!("TAP2KEY-VM scenarios={}", selected.len());
    let mut failed = 0;
    for (name, scenario) in selected {
        println!("TAP2KEY-VM scenario={name} started");
        let began = Instant::now();
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| scenario(&context))).unwrap_or_else(|panic| {
            let message = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()));
            Err(format!("panicked: {}", message.unwrap_or_default()))
        });
        let seconds = began.elapsed().as_secs_f64();
        let (result, detail) = match outcome {
            Ok(detail) => ("pass", detail),
            Err(detail) => {
                failed += 1;
                ("fail", detail)
            }
        };
        println!("TAP2KEY-VM scenario={name} result={result} seconds={seconds:.1} detail={}", detail.replace('\n', " / "));
    }
    println!("TAP2KEY-VM driver seconds={:.1}", started.elapsed().as_secs_f64());
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
