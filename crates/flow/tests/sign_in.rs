//! Signing in with the Temporary Access Pass: used already, expired, or the directory down.

mod common;

use common::*;
use tap2key_flow::{Failure, Intent, SignInCause, Step, WayForward};
use tap2key_keys::KeyPorts;
use tap2key_virtual_key::VirtualKeyConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_time_pass_used_already_is_refused() {
    let directory = Directory::start("tap-used").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let (key, _) = plug_in(&ports, VirtualKeyConfig::default());
    let first = start_flow(&directory, &ports);
    sign_in(&first, "ada@contoso.com", &tap).await;
    reach(&first, "keyFound").await;
    first.send(Intent::UseKey);
    reach(&first, "choosePin").await;
    first.send(choose_pin("480257"));
    reach(&first, "namingKey").await;
    first.send(Intent::NameKey { name: "Ada's key".into() });
    reach(&first, "done").await;
    first.close().await;

    let second = start_flow(&directory, &ports);
    sign_in(&second, "ada@contoso.com", &tap).await;
    let (failure, cleanup, ways) = failure(&second).await;
    assert_eq!(failure, Failure::SignInRefused { problem: SignInCause::PassAlreadyUsed });
    assert!(cleanup.is_empty());
    assert_eq!(ways, [WayForward::AskIt, WayForward::StartOver]);
    assert!(!history(&second).contains(&"findingKey"));

    assert_eq!(directory.passkeys(&user).await.len(), 1, "the first onboarding's passkey only");
    assert_eq!(key.credentials().len(), 1);
    assert_eq!(key.pin_retries(), 8);
    second.close().await;
    assert_no_secret_logged(&[&tap, "480257"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_pass_is_refused() {
    let directory = Directory::start("tap-expired").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let (key, _) = plug_in(&ports, VirtualKeyConfig::default());
    let flow = start_flow(&directory, &ports);

    directory.clock.advance(time::Duration::hours(2));
    sign_in(&flow, "ada@contoso.com", &tap).await;
    let (failure, cleanup, ways) = failure(&flow).await;
    assert_eq!(failure, Failure::SignInRefused { problem: SignInCause::PassExpired });
    assert!(cleanup.is_empty());
    assert_eq!(ways, [WayForward::AskIt, WayForward::StartOver]);

    assert!(directory.passkeys(&user).await.is_empty());
    assert!(key.credentials().is_empty());
    assert!(!key.has_pin());
    flow.close().await;
    assert_no_secret_logged(&[&tap]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_that_is_down_before_the_sign_in_offers_a_retry() {
    let mut directory = Directory::start("down-before").await;
    let (user, tap) = directory.user_with_tap("ada@contoso.com", true).await;
    let ports = KeyPorts::new(false);
    let (key, _) = plug_in(&ports, VirtualKeyConfig::default());
    let flow = start_flow(&directory, &ports);
    directory.stop().await;

    flow.send(Intent::SubmitWorkAddress { address: "ada@contoso.com".into() });
    reach(&flow, "readyToSignIn").await;
    flow.send(Intent::SignIn);
    let (failure, cleanup, ways) = failure(&flow).await;
    assert_eq!(failure, Failure::DirectoryUnreachable);
    assert!(cleanup.is_empty());
    assert_eq!(ways, [WayForward::Retry, WayForward::StartOver]);

    // Still down: a retry tries the sign-in again and says so again.
    let before = flow.history().len();
    flow.send(Intent::Retry);
    let again = flow.wait_for(PATIENCE, |step| matches!(step, Step::Failed { .. }) && flow.history().len() > before).await;
    assert!(matches!(again, Ok(Step::Failed { failure: Failure::DirectoryUnreachable, .. })), "{again:?}");
    assert_in_order(&history(&flow)[before - 1..], &["failed", "signingIn", "failed"]);

    assert!(directory.passkeys(&user).await.is_empty());
    assert!(key.credentials().is_empty());
    assert!(!key.has_pin());
    flow.close().await;
    assert_no_secret_logged(&[&tap]);
}
