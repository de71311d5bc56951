//! The real window against Microsoft Entra ID's path: the app set up for Entra through the
//! onboarding broker (settings file: broker, its scope, tenant, client id, authority), a
//! stand-in for Entra and Graph in this process, the broker in this process in front of it,
//! and a virtual key plugged in (`--e2e-virtual-key`; touched by itself, since no demo
//! button exists outside the demo). The person types the pass on the stand-in's sign-in
//! page in the app's sign-in window; the key ends registered in "Entra" and tested.

#[path = "../../crates/server/tests/broker/setup.rs"]
mod setup;

use setup::Entra;
use tap2key_e2e::{App, walk::Walk};

const ACCOUNT: &str = "ada@contoso.test";
const PIN: &str = "482915";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "drives the real window: scripts/test runs it on its own display"]
async fn entra_through_the_broker_from_the_pass_to_a_tested_key() {
    let entra = Entra::start("e2e").await;
    let oid = entra.stand_in.add_user(ACCOUNT, "Ada Lovelace");
    let pass = entra.stand_in.issue_tap(oid, time::Duration::hours(1), true);
    let settings = std::env::temp_dir().join(format!("tap2key-e2e-broker-{}.toml", std::process::id()));
    let stand_in = entra.stand_in.config();
    std::fs::write(
        &settings,
        format!(
            "[directory]\nbroker = \"{broker}\"\nbroker_scope = \"{uri}/{scope}\"\ntenant = \"{tenant}\"\nclient_id = \"{client}\"\nauthority = \"{authority}\"\n",
            broker = entra.broker.base_url(),
            uri = stand_in.broker_app_id_uri,
            scope = stand_in.broker_scope,
            tenant = stand_in.tenant_domain,
            client = stand_in.desktop_client_id,
            authority = entra.stand_in.authority(),
        ),
    )
    .unwrap();

    let app = App::launch("broker", &["--settings", settings.to_str().unwrap(), "--e2e-virtual-key"]).await;
    let mut walk = Walk::new(&app);
    walk.at("Set up your security key", "welcome").await;
    walk.give_address(ACCOUNT).await;
    walk.at("Next, sign in", "ready-to-sign-in").await;
    walk.click("Sign in").await;
    walk.at("Sign in in the window that opened", "signing-in").await;
    walk.sign_in(&pass, false, Some("entra-sign-in-window")).await;

    walk.at("We found your security key", "key-found").await;
    walk.click("Continue").await;
    walk.at("Choose a PIN for your key", "choose-pin").await;
    walk.type_secret("#new-pin", PIN, "new PIN").await;
    walk.type_secret("#new-pin-again", PIN, "new PIN again").await;
    walk.click("Set PIN").await;
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
    let _ = std::fs::remove_file(settings);
}
