//! The whole job as the app does it (the flow's driver, a virtual key in a key port, the
//! pass typed on the stand-in's sign-in page) through the broker to the stand-in, for the
//! path where everything works and for each failure Graph can answer with. Every failure
//! must leave nothing behind: no method in Entra, no passkey on the key, no kept key here.

use std::time::Duration;

use tap2key_flow::{Cleanup, Failure, Intent, Onboarding, OnboardingConfig, PinPolicy, SignInMode, Step};
use tap2key_entra_stand_in::{Enforcement, Fault, Fido2Policy, KeyRestrictions, Route};
use tap2key_keys::KeyPorts;
use tap2key_virtual_key::{VirtualKey, VirtualKeyConfig};
use uuid::Uuid;

use crate::setup::Entra;

const PATIENCE: Duration = Duration::from_secs(30);
const PIN: &str = "480257";

struct Job {
    flow: Onboarding,
    key: VirtualKey,
    oid: Uuid,
    pass: String,
}

impl Job {
    /// Ada signed in through the app with a blank key plugged in, up to "key found".
    async fn start(entra: &Entra) -> Self {
        let oid = entra.stand_in.add_user("ada@contoso.test", "Ada Lovelace");
        let pass = entra.stand_in.issue_tap(oid, time::Duration::hours(1), true);
        let ports = KeyPorts::new(false);
        let key = VirtualKey::new(VirtualKeyConfig::default()).unwrap();
        ports.plug_in(key.plug_in());
        let flow = Onboarding::start(OnboardingConfig {
            directory: entra.app.clone(),
            sign_in: SignInMode::Browser,
            for_user: None,
            ports,
            pin_policy: PinPolicy::default(),
            watch_interval: Duration::from_millis(20),
        });
        flow.send(Intent::SubmitWorkAddress { address: "ada@contoso.test".into() });
        reach(&flow, "readyToSignIn").await;
        flow.send(Intent::SignIn);
        let url = match flow.wait_for(PATIENCE, |step| matches!(step, Step::SigningIn { url: Some(_), .. })).await {
            Ok(Step::SigningIn { url: Some(url), .. }) => url,
            other => panic!("no sign-in page: {other:?}"),
        };
        tap2key_directory::testing::type_tap(&entra.http, &url.parse().unwrap(), "ada@contoso.test", &pass).await.unwrap();
        reach(&flow, "keyFound").await;
        flow.send(Intent::UseKey);
        Self { flow, key, oid, pass }
    }

    async fn choose_pin_and_name(&self) {
        reach(&self.flow, "choosePin").await;
        self.flow.send(Intent::ChoosePin { pin: PIN.into(), again: PIN.into() });
        reach(&self.flow, "namingKey").await;
        self.flow.send(Intent::NameKey { name: "Ada's key".into() });
    }

    async fn failure(&self) -> (Failure, Vec<Cleanup>) {
        match reach(&self.flow, "failed").await {
            Step::Failed { failure, cleanup, .. } => (failure, cleanup),
            _ => unreachable!(),
        }
    }
}

async fn reach(flow: &Onboarding, name: &str) -> Step {
    match flow.wait_for(PATIENCE, |step| step.name() == name || (name != "failed" && step.name() == "failed")).await {
        Ok(step) if step.name() == name => step,
        Ok(step) | Err(step) => panic!("expected {name}, the flow is at {step:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_job_registers_in_entra_and_proves_the_key_works() {
    let entra = Entra::start("job").await;
    let job = Job::start(&entra).await;
    job.choose_pin_and_name().await;
    let Step::Done { key: registered } = reach(&job.flow, "done").await else { unreachable!() };

    let in_entra = entra.stand_in.fido2_methods(job.oid);
    assert_eq!(in_entra.len(), 1);
    assert_eq!(in_entra[0]["id"], registered.method_id.as_str());
    assert_eq!(in_entra[0]["displayName"], "Ada's key");
    assert!(registered.sign_count >= 1, "the broker verified the test sign-in");
    assert_eq!(job.key.credentials().len(), 1);
    assert_eq!(entra.audit().await, [("Registration".into(), "success".into()), ("TestSignIn".into(), "success".into())]);
    job.flow.close().await;
    let secrets = [job.pass.as_str(), PIN];
    let logged = entra.stand_in.requests().iter().map(|r| format!("{r:?}")).collect::<String>();
    assert!(secrets.iter().all(|s| !logged.contains(s)), "the journal holds no pass or PIN");
    assert!(entra.stand_in.violations().is_empty(), "{:#?}", entra.stand_in.violations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_down_at_registration_leaves_nothing_behind() {
    let entra = Entra::start("job-down").await;
    let job = Job::start(&entra).await;
    entra.stand_in.fail_next(Route::Register, 20, Fault::ServiceUnavailable { retry_after_seconds: Some(1) });
    job.choose_pin_and_name().await;
    let (failure, cleanup) = job.failure().await;
    assert_eq!(failure, Failure::DirectoryUnavailable);
    assert_eq!(cleanup, [Cleanup::PasskeyRemovedFromKey]);
    assert!(job.key.credentials().is_empty());
    assert!(entra.stand_in.fido2_methods(job.oid).is_empty());
    assert!(entra.broker.state.store.passkeys(job.oid).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_service_setup_switched_off_is_explained_for_it() {
    let entra = Entra::start("job-policy").await;
    entra.stand_in.set_fido2_policy(Fido2Policy { is_self_service_registration_allowed: false, ..Fido2Policy::default() });
    let job = Job::start(&entra).await;
    reach(&job.flow, "choosePin").await;
    job.flow.send(Intent::ChoosePin { pin: PIN.into(), again: PIN.into() });
    let (failure, cleanup) = job.failure().await;
    let Failure::NotPermitted { message } = failure else { panic!("{failure:?}") };
    assert!(message.contains("Allow self-service set up"), "{message}");
    assert!(cleanup.is_empty() && job.key.credentials().is_empty(), "stopped before the key made anything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_model_is_refused_by_name_and_removed_from_the_key() {
    let model = VirtualKey::new(VirtualKeyConfig::default()).unwrap().model().clone();
    let entra = Entra::start_with("job-blocked", |config| config.attestation.blocked_aaguids = vec![Uuid::from_bytes(model.aaguid)]).await;
    let job = Job::start(&entra).await;
    job.choose_pin_and_name().await;
    let (failure, cleanup) = job.failure().await;
    let Failure::ModelNotAllowed { message, .. } = failure else { panic!("{failure:?}") };
    assert!(message.contains(&model.name), "{message}");
    assert_eq!(cleanup, [Cleanup::PasskeyRemovedFromKey]);
    assert!(job.key.credentials().is_empty());
    assert!(entra.stand_in.fido2_methods(job.oid).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_that_aged_while_naming_is_renewed_with_one_more_touch() {
    let entra = Entra::start("job-aged").await;
    let job = Job::start(&entra).await;
    reach(&job.flow, "choosePin").await;
    job.flow.send(Intent::ChoosePin { pin: PIN.into(), again: PIN.into() });
    reach(&job.flow, "namingKey").await;
    entra.advance(time::Duration::minutes(6));
    job.flow.send(Intent::NameKey { name: "Ada's key".into() });
    reach(&job.flow, "done").await;
    assert_eq!(entra.stand_in.fido2_methods(job.oid).len(), 1);
    assert_eq!(job.key.credentials().len(), 1, "the passkey for the spent challenge was removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_an_expired_app_token_are_handled_out_of_sight() {
    let entra = Entra::start("job-throttled").await;
    let job = Job::start(&entra).await;
    entra.stand_in.fail_next(Route::CreationOptions, 1, Fault::TooManyRequests { retry_after_seconds: 1 });
    reach(&job.flow, "choosePin").await;
    job.flow.send(Intent::ChoosePin { pin: PIN.into(), again: PIN.into() });
    reach(&job.flow, "namingKey").await;
    // The broker's Graph token runs out between the options and the registration.
    entra.stand_in.expire_app_tokens();
    job.flow.send(Intent::NameKey { name: "Ada's key".into() });
    reach(&job.flow, "done").await;
    assert!(!job.flow.history().iter().any(|m| m.step == "failed"), "the person saw no failure");
    assert_eq!(entra.token_requests(), 2, "one new app token after the 401");
    assert_eq!(entra.stand_in.fido2_methods(job.oid).len(), 1);
    assert!(entra.stand_in.violations().is_empty(), "{:#?}", entra.stand_in.violations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entras_own_key_restriction_is_said_in_its_words_and_leaves_nothing_behind() {
    // The broker's own policy lets every model through; Entra's blocks this one.
    let entra = Entra::start_with("job-entra-blocks", |config| config.attestation = Default::default()).await;
    let aaguid = Uuid::from_bytes(VirtualKey::new(VirtualKeyConfig::default()).unwrap().model().aaguid);
    entra.stand_in.set_fido2_policy(Fido2Policy {
        key_restrictions: Some(KeyRestrictions { enforcement_type: Enforcement::Block, aa_guids: vec![aaguid] }),
        ..Fido2Policy::default()
    });
    let job = Job::start(&entra).await;
    job.choose_pin_and_name().await;
    let (failure, cleanup) = job.failure().await;
    let Failure::ModelNotAllowed { message, .. } = failure else { panic!("{failure:?}") };
    assert!(message.contains(&aaguid.to_string()), "Graph's words, naming the model: {message}");
    assert_eq!(cleanup, [Cleanup::PasskeyRemovedFromKey]);
    assert!(job.key.credentials().is_empty());
    assert!(entra.stand_in.fido2_methods(job.oid).is_empty());
    assert!(entra.broker.state.store.passkeys(job.oid).await.unwrap().is_empty());
}
