//! `tap2key-enroll`, the built binary, end to end against the demo directory: every run
//! checks its exit code, its result on standard output, and that no secret it was given
//! (pass, PIN, access token) shows up in anything it printed.

mod common;

use common::*;
use serde_json::json;

const PIN: &str = "480257";
const OPEN_THIS: &str = "Open this address in a browser and sign in with your Temporary Access Pass:";
const VIRTUAL_KEY_AAGUID: &str = "74617032-6b65-792d-766b-65792d303031";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_from_a_file_a_virtual_key_and_a_pin_on_stdin_register_a_key_that_works() {
    let directory = Directory::start("token-file").await;
    let (user, token) = directory.user_with_token("ada@contoso.com").await;
    let token_file = TempFile::with("token", &format!("  {token}\n"));

    let run = enroll(&["--directory", &directory.url(), "--access-token-file", token_file.path(), "--key", "virtual", "--pin-fd", "0", "--json"])
        .stdin(&format!("{PIN}\n"))
        .run()
        .await;

    run.assert_code(0);
    let result = run.json();
    let passkeys = directory.passkeys(&user).await;
    assert_eq!(passkeys.len(), 1);
    assert_eq!(
        result,
        json!({
            "outcome": "registered",
            "method": {"id": passkeys[0].method_id.to_string(), "name": "tap2key Virtual Key", "aaguid": VIRTUAL_KEY_AAGUID, "model": "tap2key Virtual Key"},
            "testSignIn": {"verified": true, "signCount": result["testSignIn"]["signCount"]},
        })
    );
    assert!(result["testSignIn"]["signCount"].as_u64().unwrap() >= 1, "the directory saw the test sign-in's counter");
    assert!(run.stderr.contains("Registering \"tap2key Virtual Key\""), "{}", run.stderr);
    run.assert_no_secret(&[&token, PIN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_from_the_environment_works_the_same_and_the_summary_is_plain_words() {
    let directory = Directory::start("token-env").await;
    let (user, token) = directory.user_with_token("ada@contoso.com").await;

    let run = enroll(&["--directory", &directory.url(), "--user", "ada@contoso.com", "--key", "virtual", "--pin-fd", "0", "--name", "Ada's  key"])
        .env("TAP2KEY_ACCESS_TOKEN", &token)
        .stdin(PIN)
        .run()
        .await;

    run.assert_code(0);
    let passkeys = directory.passkeys(&user).await;
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0].display_name, "Ada's key");
    assert_eq!(run.stdout.lines().count(), 1, "one line of result: {:?}", run.stdout);
    assert!(run.stdout.contains("Registered \"Ada's key\""), "{}", run.stdout);
    assert!(run.stdout.contains(&passkeys[0].method_id.to_string()), "{}", run.stdout);
    run.assert_no_secret(&[&token, PIN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_browser_the_sign_in_address_is_printed_and_the_pass_typed_there_signs_in() {
    let directory = Directory::start("no-browser").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com").await;

    let mut running = enroll(&["--directory", &directory.url(), "--user", "ada@contoso.com", "--no-browser", "--key", "virtual", "--pin-fd", "0", "--json"])
        .stdin(&format!("{PIN}\n"))
        .spawn();
    let url = running.line_after(OPEN_THIS).await;
    sign_in_on_page(&url, "ada@contoso.com", &tap).await;
    let run = running.finish().await;

    run.assert_code(0);
    assert_eq!(run.json()["method"]["id"], directory.passkeys(&user).await[0].method_id.to_string());
    run.assert_no_secret(&[&tap, PIN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_with_the_same_key_finds_it_registered_already() {
    let directory = Directory::start("again").await;
    let (user, token) = directory.user_with_token("ada@contoso.com").await;
    let key = TempFile::empty("key.json");
    let args = ["--directory", &directory.url(), "--key", "virtual", "--virtual-key-state", key.path(), "--pin-fd", "0", "--json"];

    let first = enroll(&args).env("TAP2KEY_ACCESS_TOKEN", &token).stdin(PIN).run().await;
    first.assert_code(0);
    // The key now has a PIN: the same line is that PIN.
    let second = enroll(&args).env("TAP2KEY_ACCESS_TOKEN", &token).stdin(PIN).run().await;

    second.assert_code(32);
    assert_eq!(second.json()["outcome"], "failed");
    assert_eq!(second.json()["failure"], json!({"kind": "alreadyRegistered"}));
    assert_eq!(second.json()["waysForward"], json!(["useAnotherKey", "startOver"]));
    assert!(second.stdout.lines().count() == 1);
    assert_eq!(directory.passkeys(&user).await.len(), 1);
    assert_eq!(virtual_key(&key.0).credentials().len(), 1, "the second run left nothing on the key");
    for run in [first, second] {
        run.assert_no_secret(&[&token, PIN]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_from_a_file_descriptor_ends_the_run_with_no_second_try() {
    let directory = Directory::start("wrong-pin").await;
    let (user, token) = directory.user_with_token("ada@contoso.com").await;
    let key = key_with_pin("592013");

    let run = enroll(&["--directory", &directory.url(), "--key", "virtual", "--virtual-key-state", key.path(), "--pin-fd", "0", "--json"])
        .env("TAP2KEY_ACCESS_TOKEN", &token)
        .stdin(&format!("{PIN}\n{PIN}\n{PIN}\n"))
        .run()
        .await;

    run.assert_code(31);
    assert_eq!(run.json()["failure"], json!({"kind": "wrongPin", "retriesLeft": 7}));
    assert_eq!(virtual_key(&key.0).pin_retries(), 7, "one try only");
    assert!(directory.passkeys(&user).await.is_empty());
    run.assert_no_secret(&[&token, PIN, "592013"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_input_that_ends_or_is_missing_is_said_plainly() {
    let directory = Directory::start("no-pin").await;
    let (_, token) = directory.user_with_token("ada@contoso.com").await;
    let args = ["--directory", &directory.url(), "--key", "virtual", "--json"];

    let ended = enroll(&[&args[..], &["--pin-fd", "0"]].concat()).env("TAP2KEY_ACCESS_TOKEN", &token).stdin("").run().await;
    ended.assert_code(31);
    assert_eq!(ended.json()["failure"]["kind"], "pinInputEnded");

    let obvious = enroll(&[&args[..], &["--pin-fd", "0"]].concat()).env("TAP2KEY_ACCESS_TOKEN", &token).stdin("777777\n").run().await;
    obvious.assert_code(31);
    assert_eq!(obvious.json()["failure"], json!({"kind": "pinNotAccepted", "problem": {"kind": "tooObvious"}}));

    // Standard input is not a terminal, and there is no --pin-fd.
    let nowhere = enroll(&args).env("TAP2KEY_ACCESS_TOKEN", &token).run().await;
    nowhere.assert_code(2);
    assert_eq!(nowhere.json()["failure"]["kind"], "noPinSource");
    for run in [ended, obvious, nowhere] {
        run.assert_no_secret(&[&token, "777777"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_that_cannot_be_reached_ends_the_run_with_its_own_code() {
    let closed = closed_port();

    let run = enroll(&["--directory", &closed, "--user", "ada@contoso.com", "--no-browser", "--key", "virtual", "--pin-fd", "0", "--json"])
        .stdin(PIN)
        .run()
        .await;
    run.assert_code(20);
    assert_eq!(run.json()["failure"], json!({"kind": "directoryUnreachable"}));
    assert!(run.stderr.contains("cannot be reached"), "{}", run.stderr);

    // With a token the directory is first needed once the PIN is in: still before the key
    // is changed.
    let key = TempFile::empty("key.json");
    let with_token = enroll(&["--directory", &closed, "--key", "virtual", "--virtual-key-state", key.path(), "--pin-fd", "0", "--json"])
        .env("TAP2KEY_ACCESS_TOKEN", "eyJ.not-a-real-token.sig")
        .stdin(PIN)
        .run()
        .await;
    with_token.assert_code(20);
    assert!(!virtual_key(&key.0).has_pin(), "the key was left as it was");
    for run in [run, with_token] {
        run.assert_no_secret(&["eyJ.not-a-real-token.sig", PIN]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_is_never_taken_from_the_command_line() {
    for args in [&["--demo", "--pin", PIN][..], &["--demo", &format!("--pin={PIN}")], &["--demo", PIN], &["--demo", "--pin-fd", "0", PIN]] {
        let run = enroll(args).run().await;
        run.assert_code(2);
        assert!(run.stderr.contains("A PIN is never taken on the command line"), "{}", run.stderr);
        assert!(run.stdout.is_empty());
        run.assert_no_secret(&[PIN]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_hands_over_a_pass_like_it_and_the_whole_job_runs_on_the_virtual_key() {
    let mut running = enroll(&["--demo", "--key", "virtual", "--no-browser", "--pin-fd", "0", "--json"]).stdin(&format!("{PIN}\n")).spawn();
    let tap = running.line_after("Temporary Access Pass:").await;
    let url = running.line_after(OPEN_THIS).await;
    assert!(url.contains("login_hint=ada%40demo.tap2key.test"), "{url}");
    sign_in_on_page(&url, "ada@demo.tap2key.test", &tap).await;
    let run = running.finish().await;

    run.assert_code(0);
    let result = run.json();
    assert_eq!(result["outcome"], "registered");
    assert_eq!(result["method"]["model"], "tap2key Virtual Key");
    assert_eq!(result["testSignIn"]["verified"], true);
    // The pass is printed once, on purpose (it is IT's hand-over); the PIN never.
    assert_eq!(run.stderr.matches(&tap).count(), 1);
    assert!(!run.stdout.contains(&tap));
    run.assert_no_secret(&[PIN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_sets_a_key_up_for_another_user_with_the_administrator_role_only() {
    let directory = Directory::start("for-user").await;
    let it = directory.user("it@contoso.com").await;
    let grace = directory.user("grace@contoso.com").await;
    let admin_token = directory.token(&it, vec!["Authentication Administrator".into()]);
    let plain_token = directory.token(&it, vec![]);
    let args = ["--directory", &directory.url(), "--for-user", "grace@contoso.com", "--key", "virtual", "--pin-fd", "0", "--json"];

    let refused = enroll(&args).env("TAP2KEY_ACCESS_TOKEN", &plain_token).stdin(PIN).run().await;
    refused.assert_code(21);
    assert_eq!(refused.json()["failure"]["kind"], "notPermitted");

    let run = enroll(&args).env("TAP2KEY_ACCESS_TOKEN", &admin_token).stdin(PIN).run().await;
    run.assert_code(0);
    let passkeys = directory.passkeys(&grace).await;
    assert_eq!(passkeys.len(), 1);
    assert_eq!(run.json()["method"]["id"], passkeys[0].method_id.to_string());
    assert!(directory.passkeys(&it).await.is_empty());
    for run in [refused, run] {
        run.assert_no_secret(&[&admin_token, &plain_token, PIN]);
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_starts_over_and_exits_130() {
    let directory = Directory::start("ctrl-c").await;
    let (user, token) = directory.user_with_token("ada@contoso.com").await;
    let key = TempFile::empty("key.json");

    // The PIN never comes: the run waits at "choose a PIN" until it is interrupted.
    let mut running = enroll(&["--directory", &directory.url(), "--key", "virtual", "--virtual-key-state", key.path(), "--pin-fd", "0", "--json"])
        .env("TAP2KEY_ACCESS_TOKEN", &token)
        .stdin_open()
        .spawn();
    running.line_after("The key has no PIN yet").await;
    running.interrupt();
    let run = running.finish().await;

    run.assert_code(130);
    assert_eq!(run.json()["failure"], json!({"kind": "interrupted"}));
    assert!(directory.passkeys(&user).await.is_empty());
    assert!(virtual_key(&key.0).credentials().is_empty());
    run.assert_no_secret(&[&token]);
}
