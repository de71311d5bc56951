// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use clap::Parser;

fn main() {
    let options = tap2key_app::Options::parse();
    tap2key_app::run(options);
}
