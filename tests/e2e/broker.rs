//! The real window against Microsoft Entra ID's path: the app set up for Entra through the
//! onboarding broker (settings file: broker, its scope, tenant, client id, authority), a
//! stand-in for Entra and Graph in this process, the broker in this process in front of it,
//! and a virtual key plugged in (`--e2e-virtual-key`; touched by itself, since no demo
//! button exists outside the demo). The person types the pass on the stand-in's sign-in
//! page in the app's sign-in window; the key ends registered in "Entra" and tested.
//!
//! And Entra's direct path (the app calling Graph's `/me` itself), which Microsoft refuses
//! today: the person is told, in plain words, that their organisation needs the service.

#[path = "../../crates/server/tests/broker/setup.rs"]
mod setup;

use setup::Entra;
use tap2key_e2e::{App, walk::Walk};

const ACCOUNT: &str = "ada@contoso.test";
const PIN: &str = "482915";

/// The settings file an IT department would write, in a temporary file.
struct SettingsFile(std::path::PathBuf);

impl SettingsFile {
    fn new(name: &str, text: String) -> Self {
        let path = std::env::temp_dir().join(format!("tap2key-e2e-{name}-{}.toml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for SettingsFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Address, sign-in page with the pass, the key found, a PIN chosen: as far as every path
/// goes together.
async fn up_to_the_pin(walk: &mut Walk<'_>, pass: &str) {
    walk.at("Set up your security key", "welcome").await;
    walk.give_address(ACCOUNT).await;
    walk.at("Next, sign in", "ready-to-sign-in").await;
    walk.click("Sign in").await;
    walk.at("Sign in in the window that opened", "signing-in").await;
    walk.sign_in(pass, false, Some("entra-sign-in-window")).await;
    walk.at("We found your security key", "key-found").await;
    walk.click("Continue").await;
    walk.at("Choose a PIN for your key", "choose-pin").await;
    walk.type_secret("#new-pin", PIN, "new PIN").await;
    walk.type_secret("#new-pin-again", PIN, "new PIN again").await;
    walk.click("Set PIN").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn entra_directly_is_refused_by_microsoft_and_the_person_is_told_why() {
    let entra = Entra::start("e2e-direct").await;
    let oid = entra.stand_in.add_user(ACCOUNT, "Ada Lovelace");
    let pass = entra.stand_in.issue_tap(oid, time::Duration::hours(1), true);
    let stand_in = entra.stand_in.config();
    // No broker: tenant, client id, authority and Graph alone mean the direct path.
    let settings = SettingsFile::new(
        "direct",
        format!(
            "[directory]\ntenant = \"{tenant}\"\nclient_id = \"{client}\"\nauthority = \"{authority}\"\ngraph = \"{graph}v1.0\"\n",
            tenant = stand_in.tenant_domain,
            client = stand_in.desktop_client_id,
            authority = entra.stand_in.authority(),
            graph = entra.stand_in.graph(),
        ),
    );

    let app = App::launch("direct", &["--settings", settings.path(), "--e2e-virtual-key"]).await;
    let mut walk = Walk::new(&app);
    up_to_the_pin(&mut walk, &pass).await;
    walk.at("You can't set up a key yourself here yet", "failed-self-service-not-supported").await;
    let text = walk.text().await;
    assert!(text.contains("onboarding service"), "{text}");
    let graph_calls: Vec<String> = entra.stand_in.requests().iter().filter(|r| r.path.contains("/graph/")).map(|r| format!("{} {} {}", r.method, r.path, r.status)).collect();
    assert_eq!(graph_calls, ["GET /graph/v1.0/me/authentication/fido2Methods/creationOptions 405"]);
    assert!(entra.stand_in.fido2_methods(oid).is_empty());
    // Not a dead end: the next person (or this one, once IT has acted) starts over.
    walk.click("Start over").await;
    walk.at("Set up your security key", "welcome-again").await;
    walk.write_actions("Entra directly: refused by Microsoft, explained");
    walk.check_log();
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn entra_through_the_broker_from_the_pass_to_a_tested_key() {
    let entra = Entra::start("e2e").await;
    let oid = entra.stand_in.add_user(ACCOUNT, "Ada Lovelace");
    let pass = entra.stand_in.issue_tap(oid, time::Duration::hours(1), true);
    let stand_in = entra.stand_in.config();
    let settings = SettingsFile::new(
        "broker",
        format!(
            "[directory]\nbroker = \"{broker}\"\nbroker_scope = \"{uri}/{scope}\"\ntenant = \"{tenant}\"\nclient_id = \"{client}\"\nauthority = \"{authority}\"\n",
            broker = entra.broker.base_url(),
            uri = stand_in.broker_app_id_uri,
            scope = stand_in.broker_scope,
            tenant = stand_in.tenant_domain,
            client = stand_in.desktop_client_id,
            authority = entra.stand_in.authority(),
        ),
    );

    let app = App::launch("broker", &["--settings", settings.path(), "--e2e-virtual-key"]).await;
    let mut walk = Walk::new(&app);
    up_to_the_pin(&mut walk, &pass).await;
    // The key touches itself 0.8 s after it asks.
    walk.at("Give your key a name", "naming-key").await;
    walk.click("Register my key").await;
    walk.at("Your security key is ready", "done").await;

    let in_entra = entra.stand_in.fido2_methods(oid);
    assert_eq!(in_entra.len(), 1, "registered in Entra");
    assert_eq!(in_entra[0]["displayName"], "tap2key Virtual Key");
    assert_eq!(entra.audit().await, [("Registration".into(), "success".into()), ("TestSignIn".into(), "success".into())]);
    assert!(entra.stand_in.violations().is_empty(), "{:#?}", entra.stand_in.violations());
    walk.write_actions("Entra through the broker, from the pass to a tested key");
    walk.check_log();
    app.close().await;
}
