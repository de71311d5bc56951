//! The work behind each effect: sign-in, key calls and directory calls, with the secrets
//! they need (token, PIN, challenge) held here, in memory, zeroized when dropped, and
//! never in a step, an outcome or a log line.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tap2key_directory::{CreationOptions, DirectoryConfig, DirectoryError, Graph, LocalTestSignIn, SignIn};
use tap2key_keys::{Key, KeyError, KeyEvent, KeyLocation, KeyPorts, NewCredential, Pin, select_by_touch};
use tokio::{sync::mpsc::UnboundedSender, task::JoinHandle};

use super::{CurrentCancel, Input, OnboardingConfig, SignInMode, describe};
use crate::{
    failure::{Cleanup, Failure},
    session::{Effect, Outcome},
    step::RegisteredKey,
    work_address::WorkAddress,
};

/// Graph's v1.0 challenge lives 5 minutes; options older than this are replaced before
/// use rather than sent and refused. Measured on this side, so clocks need not agree.
const OPTIONS_FRESH_FOR: Duration = Duration::from_secs(270);

pub struct Workbench {
    shared: Arc<Shared>,
    held: Arc<tokio::sync::Mutex<Held>>,
    /// Which key is open, and since when: known without waiting for the work in progress.
    open_key: Arc<Mutex<Option<(KeyLocation, u64)>>>,
    cancel: CurrentCancel,
    find_generation: Arc<AtomicU64>,
}

struct Shared {
    directory: DirectoryConfig,
    for_user: Option<String>,
    ports: KeyPorts,
    http: reqwest::Client,
    outcomes: UnboundedSender<Input>,
    /// Direct mode (Graph itself): the keys registered in this session, so the test
    /// sign-in can be checked here, also after signing in again.
    registered_here: LocalTestSignIn,
}

/// What this session holds between steps.
#[derive(Default)]
struct Held {
    graph: Option<Graph>,
    key: Option<Box<dyn Key>>,
    /// Which opening of a key `key` is (see [`Workbench::forget_key_at`]).
    key_epoch: u64,
    model: String,
    pin: Option<Pin>,
    options: Option<(CreationOptions, Instant)>,
    /// Made on the key, not registered yet: deleted from the key if registration fails.
    made: Option<(CreationOptions, NewCredential)>,
    /// The credential of the registered method, for taking it back.
    registered_credential: Option<Vec<u8>>,
}

impl Shared {
    fn report(&self, outcome: Outcome) {
        let _ = self.outcomes.send(Input::Outcome(outcome));
    }

    fn fail(&self, failure: Failure, cleanup: Vec<Cleanup>) {
        tracing::info!(failure = failure.kind(), ?cleanup, "failed");
        self.report(Outcome::Failed { failure, cleanup });
    }

    fn graph(&self, token: tap2key_directory::AccessToken) -> Graph {
        let graph = match &self.for_user {
            Some(user) => Graph::user(&self.directory, self.http.clone(), token, user),
            None => Graph::me(&self.directory, self.http.clone(), token),
        };
        graph.remembering_in(&self.registered_here)
    }
}

impl Workbench {
    pub fn new(config: OnboardingConfig, outcomes: UnboundedSender<Input>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let shared = Arc::new(Shared {
            directory: config.directory,
            for_user: config.for_user,
            ports: config.ports,
            http,
            outcomes,
            registered_here: LocalTestSignIn::default(),
        });
        let mut held = Held::default();
        if let SignInMode::Token { token, .. } = config.sign_in {
            held.graph = Some(shared.graph(token));
        }
        Self {
            shared,
            held: Arc::new(tokio::sync::Mutex::new(held)),
            open_key: Arc::default(),
            cancel: CurrentCancel::default(),
            find_generation: Arc::default(),
        }
    }

    pub fn cancel_touch(&self) {
        self.cancel.cancel();
    }

    /// The key at `location` was pulled out. If it was the open one, it and its PIN are
    /// forgotten (once the work in progress, which fails on its own, lets go) and `true`.
    pub fn forget_key_at(&self, location: &KeyLocation) -> bool {
        let mut open = self.open_key.lock().unwrap_or_else(|e| e.into_inner());
        let Some((_, epoch)) = open.as_ref().filter(|(open, _)| open == location).cloned() else { return false };
        *open = None;
        let held = self.held.clone();
        tokio::spawn(async move {
            let mut held = held.lock().await;
            if held.key_epoch == epoch {
                held.key = None;
                held.pin = None;
            }
        });
        true
    }

    pub fn begin_sign_in(&self, account: WorkAddress) -> JoinHandle<()> {
        let (shared, held) = (self.shared.clone(), self.held.clone());
        tokio::spawn(async move {
            let sign_in = match SignIn::begin(&shared.directory, &shared.http, account.as_str()).await {
                Ok(sign_in) => sign_in,
                Err(error) => return shared.fail(Failure::from_directory(&error, ""), vec![]),
            };
            shared.report(Outcome::SignInReady { url: sign_in.authorize_url().to_string() });
            match sign_in.finish().await {
                Ok(tokens) => {
                    held.lock().await.graph = Some(shared.graph(tokens.access_token));
                    shared.report(Outcome::SignedIn);
                }
                Err(error) => shared.fail(Failure::from_directory(&error, ""), vec![]),
            }
        })
    }

    pub fn spawn(&self, effect: Effect) {
        let generation = match effect {
            Effect::FindKey => self.find_generation.fetch_add(1, Ordering::SeqCst) + 1,
            _ => 0,
        };
        let job = Job {
            shared: self.shared.clone(),
            cancel: self.cancel.clone(),
            open_key: self.open_key.clone(),
            find_generation: self.find_generation.clone(),
        };
        let held = self.held.clone();
        tokio::spawn(async move {
            let mut held = held.lock().await;
            job.run(&mut held, effect, generation).await;
        });
    }

    pub fn spawn_reset(&self) {
        let (held, open_key) = (self.held.clone(), self.open_key.clone());
        tokio::spawn(async move { reset(&mut *held.lock().await, &open_key).await });
    }

    /// Forgets everything now (the session is closing).
    pub async fn reset(&self) {
        reset(&mut *self.held.lock().await, &self.open_key).await;
    }
}

async fn reset(held: &mut Held, open_key: &Mutex<Option<(KeyLocation, u64)>>) {
    if let Some((_, made)) = held.made.take() {
        let cleanup = delete_from_key(held, made.credential_id.clone()).await;
        tracing::info!(?cleanup, "a passkey that was never registered was tidied up");
    }
    let epoch = held.key_epoch;
    *held = Held { key_epoch: epoch, ..Held::default() };
    *open_key.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// One effect's work, with what it shares with the driver.
struct Job {
    shared: Arc<Shared>,
    cancel: CurrentCancel,
    open_key: Arc<Mutex<Option<(KeyLocation, u64)>>>,
    find_generation: Arc<AtomicU64>,
}

impl Job {
    async fn run(&self, held: &mut Held, effect: Effect, generation: u64) {
        tracing::debug!(effect = effect.name(), "working");
        match effect {
            Effect::FindKey => self.find_key(held, generation).await,
            Effect::VerifyPin(pin) => self.pin(held, PinJob::Verify(pin)).await,
            Effect::SetPin(pin) => self.pin(held, PinJob::Set(pin)).await,
            Effect::ChangePin { current, new } => self.pin(held, PinJob::Change { current, new }).await,
            Effect::CreatePasskey => self.create_passkey(held).await,
            Effect::Register { name } => self.register(held, name).await,
            Effect::TestSignIn { method_id } => self.test_sign_in(held, method_id).await,
            Effect::RemoveRegistration { method_id } => self.remove_registration(held, method_id).await,
            Effect::BeginSignIn { .. } | Effect::CancelSignIn | Effect::CancelTouch | Effect::Reset => {}
        }
    }

    fn superseded(&self, generation: u64) -> bool {
        self.find_generation.load(Ordering::SeqCst) != generation
    }

    async fn find_key(&self, held: &mut Held, generation: u64) {
        if self.superseded(generation) {
            return;
        }
        let present = self.shared.ports.present();
        if present.is_empty() {
            return;
        }
        let ports = self.shared.ports.clone();
        let cancel = self.cancel.renew();
        let outcomes = self.shared.outcomes.clone();
        let found = tokio::task::spawn_blocking(move || {
            let (location, mut key) = if present.len() == 1 {
                let location = present.into_iter().next().expect("one key");
                let key = ports.open(&location)?;
                (location, key)
            } else {
                let keys = present.into_iter().filter_map(|location| ports.open(&location).ok().map(|key| (location, key))).collect();
                select_by_touch(keys, &mut touch_events(&outcomes), &cancel)?
            };
            let description = describe::describe(key.as_mut());
            Ok::<_, KeyError>((location, key, description))
        })
        .await;
        if self.superseded(generation) {
            return;
        }
        match found {
            Ok(Ok((location, key, Ok(description)))) => {
                held.key_epoch += 1;
                held.key = Some(key);
                held.pin = None;
                held.model = description.model.clone();
                *self.open_key.lock().unwrap_or_else(|e| e.into_inner()) = Some((location, held.key_epoch));
                self.shared.report(Outcome::KeyOpened(description));
            }
            Ok(Ok((_, _, Err(failure)))) => self.shared.fail(failure, vec![]),
            // Cancelled: the keys changed and a new search is on its way.
            Ok(Err(KeyError::Cancelled)) => {}
            Ok(Err(error)) => self.shared.fail(Failure::from_key(&error), vec![]),
            Err(_) => self.shared.fail(Failure::KeyTrouble, vec![]),
        }
    }

    async fn pin(&self, held: &mut Held, job: PinJob) {
        let rp_id = match self.fresh_options(held).await {
            Ok(options) => options.rp_id.clone(),
            Err(error) => return self.shared.fail(Failure::from_directory(&error, &held.model), vec![]),
        };
        let result = with_key(held, move |key| {
            let pin = match job {
                PinJob::Verify(pin) => pin,
                PinJob::Set(pin) => {
                    key.set_pin(&pin)?;
                    pin
                }
                PinJob::Change { current, new } => {
                    key.change_pin(&current, &new)?;
                    new
                }
            };
            key.verify_pin(&pin, &rp_id)?;
            Ok(pin)
        })
        .await;
        match result {
            Ok(pin) => {
                held.pin = Some(pin);
                self.shared.report(Outcome::PinAccepted);
            }
            Err(error) if describe::is_pin_answer(&error) => self.shared.report(Outcome::PinRefused(error)),
            Err(error) => self.shared.fail(Failure::from_key(&error), vec![]),
        }
    }

    async fn create_passkey(&self, held: &mut Held) {
        if let Err(error) = self.fresh_options(held).await {
            return self.shared.fail(Failure::from_directory(&error, &held.model), vec![]);
        }
        let Some((options, _)) = held.options.take() else { return };
        match self.make_credential(held, &options).await {
            Ok(made) => {
                held.made = Some((options, made));
                self.shared.report(Outcome::PasskeyCreated);
            }
            Err(error) => self.shared.fail(Failure::from_key(&error), vec![]),
        }
    }

    async fn register(&self, held: &mut Held, name: String) {
        let Some((mut options, mut made)) = held.made.take() else {
            return self.shared.fail(Failure::KeyTrouble, vec![]);
        };
        let Some(graph) = held.graph.as_ref() else { return self.shared.fail(Failure::SessionExpired, vec![]) };
        let graph = graph.clone();
        let mut fresh = false;
        loop {
            match graph.register(&name, &options, &made).await {
                Ok(method) => {
                    held.registered_credential = Some(made.credential_id.clone());
                    let model = method.model.clone().or_else(|| Some(held.model.clone()));
                    let key = RegisteredKey { method_id: method.id, name: method.display_name, aaguid: method.aa_guid, model, sign_count: 0 };
                    tracing::info!("registered");
                    return self.shared.report(Outcome::Registered(key));
                }
                // The person took longer than the challenge lives: fresh options and a new
                // passkey (one more touch), instead of an error. Once.
                Err(DirectoryError::ChallengeExpired) if !fresh => {
                    fresh = true;
                    self.shared.report(Outcome::RecreatingPasskey);
                    let old = made.credential_id.clone();
                    let cleanup = delete_from_key(held, old).await;
                    held.options = None;
                    if let Err(error) = self.fresh_options(held).await {
                        return self.shared.fail(Failure::from_directory(&error, &held.model), vec![cleanup]);
                    }
                    let Some((new_options, _)) = held.options.take() else { return };
                    match self.make_credential(held, &new_options).await {
                        Ok(new) => (options, made) = (new_options, new),
                        Err(error) => return self.shared.fail(Failure::from_key(&error), vec![cleanup]),
                    }
                    self.shared.report(Outcome::Registering);
                }
                Err(error) => {
                    let cleanup = delete_from_key(held, made.credential_id.clone()).await;
                    return self.shared.fail(Failure::from_directory(&error, &held.model), vec![cleanup]);
                }
            }
        }
    }

    async fn test_sign_in(&self, held: &mut Held, method_id: String) {
        let Some(graph) = held.graph.clone() else { return self.shared.fail(Failure::SessionExpired, vec![]) };
        let options = match graph.begin_test_sign_in(&method_id).await {
            Ok(options) => options,
            Err(error) => return self.shared.fail(test_failure(&error, &held.model), vec![]),
        };
        let request = options.get_assertion_request();
        let (pin, cancel, outcomes) = (held.pin.clone(), self.cancel.renew(), self.shared.outcomes.clone());
        let assertion = with_key(held, move |key| key.get_assertion(&request, pin.as_ref(), &mut touch_events(&outcomes), &cancel)).await;
        let assertion = match assertion {
            Ok(assertion) => assertion,
            Err(error) => return self.shared.fail(Failure::from_key(&error), vec![]),
        };
        match graph.finish_test_sign_in(&method_id, &options, &assertion).await {
            Ok(result) if result.verified => self.shared.report(Outcome::TestSignInPassed { sign_count: result.sign_count }),
            Ok(_) => self.shared.fail(Failure::TestSignInFailed { message: "The directory did not accept the sign-in.".into() }, vec![]),
            Err(error) => self.shared.fail(test_failure(&error, &held.model), vec![]),
        }
    }

    async fn remove_registration(&self, held: &mut Held, method_id: String) {
        let Some(graph) = held.graph.clone() else { return self.shared.fail(Failure::SessionExpired, vec![]) };
        match graph.delete(&method_id).await {
            Ok(()) | Err(DirectoryError::NotFound) => {}
            Err(error) => return self.shared.fail(Failure::from_directory(&error, &held.model), vec![]),
        }
        let mut cleanup = vec![Cleanup::RegistrationRemoved];
        if let Some(credential) = held.registered_credential.take() {
            cleanup.push(delete_from_key(held, credential).await);
        }
        self.shared.report(Outcome::RegistrationRemoved { cleanup });
    }

    /// Options that are still good for a while, fetched if there are none or they aged.
    async fn fresh_options<'h>(&self, held: &'h mut Held) -> Result<&'h CreationOptions, DirectoryError> {
        let stale = held.options.as_ref().is_none_or(|(_, fetched)| fetched.elapsed() > OPTIONS_FRESH_FOR);
        if stale {
            let graph = held.graph.as_ref().ok_or(DirectoryError::SessionExpired)?;
            let options = graph.creation_options().await?;
            held.options = Some((options, Instant::now()));
        }
        Ok(&held.options.as_ref().expect("just fetched").0)
    }

    async fn make_credential(&self, held: &mut Held, options: &CreationOptions) -> Result<NewCredential, KeyError> {
        let request = options.make_credential_request();
        let (pin, cancel, outcomes) = (held.pin.clone(), self.cancel.renew(), self.shared.outcomes.clone());
        with_key(held, move |key| key.make_credential(&request, pin.as_ref(), &mut touch_events(&outcomes), &cancel)).await
    }
}

enum PinJob {
    Verify(Pin),
    Set(Pin),
    Change { current: Pin, new: Pin },
}

/// Runs `op` with the open key on a blocking thread (a touch can take many seconds).
async fn with_key<T: Send + 'static>(
    held: &mut Held,
    op: impl FnOnce(&mut dyn Key) -> Result<T, KeyError> + Send + 'static,
) -> Result<T, KeyError> {
    let mut key = held.key.take().ok_or(KeyError::Removed)?;
    let (key, result) = tokio::task::spawn_blocking(move || {
        let result = op(key.as_mut());
        (key, result)
    })
    .await
    .map_err(|_| KeyError::Transport("the key's worker stopped".into()))?;
    if !matches!(result, Err(KeyError::Removed | KeyError::NoKey)) {
        held.key = Some(key);
    } else {
        held.pin = None;
    }
    result
}

/// Deletes a passkey this session made from the key, saying whether that worked.
async fn delete_from_key(held: &mut Held, credential_id: Vec<u8>) -> Cleanup {
    let Some(pin) = held.pin.clone() else { return Cleanup::PasskeyLeftOnKey };
    match with_key(held, move |key| key.delete_credential(&credential_id, &pin)).await {
        Ok(()) | Err(KeyError::NoCredentials) => Cleanup::PasskeyRemovedFromKey,
        Err(error) => {
            tracing::warn!(%error, "a passkey could not be deleted from the key");
            Cleanup::PasskeyLeftOnKey
        }
    }
}

fn touch_events(outcomes: &UnboundedSender<Input>) -> impl FnMut(KeyEvent) + use<> {
    let outcomes = outcomes.clone();
    move |event| match event {
        KeyEvent::TouchNeeded => {
            let _ = outcomes.send(Input::Outcome(Outcome::TouchNeeded));
        }
    }
}

/// A refusal during the test sign-in is the test failing; the rest is as anywhere else.
fn test_failure(error: &DirectoryError, model: &str) -> Failure {
    match error {
        DirectoryError::Refused { message, .. } | DirectoryError::Forbidden { message } => Failure::TestSignInFailed { message: message.clone() },
        DirectoryError::ChallengeExpired => Failure::TestSignInFailed { message: "The test took too long. Try again.".into() },
        other => Failure::from_directory(other, model),
    }
}
