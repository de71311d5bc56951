//! Placeholder until the onboarding benchmark lands.
fn main() {}
