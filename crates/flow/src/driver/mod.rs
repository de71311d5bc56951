//! The session brought to life: carries out the [`Effect`]s the session asks for against a
//! real key and a real directory, and feeds their [`Outcome`]s back.
//!
//! One task owns the [`Session`]; intents from the person, outcomes of the work and key
//! insertions/removals all arrive on channels and are applied in order, so the session
//! never sees two things at once. Work runs in tasks of its own (key calls on blocking
//! threads), one at a time through the [`Workbench`](work::Workbench) lock, and each step
//! is published on a `watch` channel for whatever shows it (window, CLI, test).

mod describe;
mod work;

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tap2key_directory::{AccessToken, DirectoryConfig};
use tap2key_keys::{CancelToken, KeyChange, KeyLocation, KeyPorts, Watch};
use tokio::{
    sync::{mpsc, watch},
    task::JoinHandle,
};

use crate::{
    intent::Intent,
    pin_policy::PinPolicy,
    session::{Effect, Outcome, Session},
    step::Step,
    work_address::WorkAddress,
};

pub use describe::model_name;

/// How the person proves who they are.
pub enum SignInMode {
    /// The directory's sign-in page in a browser, with a loopback redirect.
    Browser,
    /// An access token obtained elsewhere (automation); `account` is who it is for, when known.
    Token { token: AccessToken, account: Option<WorkAddress> },
}

pub struct OnboardingConfig {
    pub directory: DirectoryConfig,
    pub sign_in: SignInMode,
    /// Register for this user (IT setting a key up for someone: `/users/{id}`); `None`:
    /// the signed-in person (`/me`).
    pub for_user: Option<String>,
    pub ports: KeyPorts,
    pub pin_policy: PinPolicy,
    /// How often to look for keys coming and going.
    pub watch_interval: Duration,
}

/// One step as it was entered, for timing the flow (the benchmark) and for tests.
#[derive(Clone, Debug)]
pub struct Milestone {
    pub at: Instant,
    pub step: &'static str,
}

/// A running onboarding: send intents, watch steps.
pub struct Onboarding {
    intents: mpsc::UnboundedSender<Intent>,
    steps: watch::Receiver<Step>,
    history: Arc<Mutex<Vec<Milestone>>>,
    task: JoinHandle<()>,
}

enum Input {
    Intent(Intent),
    Outcome(Outcome),
    Keys(KeyChange),
}

impl Onboarding {
    /// Starts the session on the current tokio runtime.
    pub fn start(config: OnboardingConfig) -> Self {
        let (mut session, first_effects) = match &config.sign_in {
            SignInMode::Browser => (Session::new(config.pin_policy.clone()), vec![]),
            SignInMode::Token { account, .. } => Session::signed_in(config.pin_policy.clone(), account.clone()),
        };
        let (intents, intents_rx) = mpsc::unbounded_channel();
        let (inputs_tx, inputs) = mpsc::unbounded_channel();

        let keys_tx = inputs_tx.clone();
        let watch = config.ports.watch(config.watch_interval, move |change| {
            let _ = keys_tx.send(Input::Keys(change));
        });
        // Taken after the watch's own first look: a key plugged in between is in both,
        // and its late "inserted" changes nothing.
        let keys: Vec<_> = config.ports.present().into_iter().collect();
        // The keys already plugged in are known before the first step is shown, so a
        // session that starts by finding the key never flashes "insert your key".
        let key_effects = session.on(Outcome::KeysPresent(keys.len()));
        let first_effects = key_effects.into_iter().chain(first_effects).collect();
        let (steps_tx, steps) = watch::channel(session.step().clone());
        let history = Arc::new(Mutex::new(vec![Milestone { at: Instant::now(), step: session.step().name() }]));
        let keys = keys.into_iter().collect();
        let bench = work::Workbench::new(config, inputs_tx.clone());
        let driver = Driver { session, bench, steps: steps_tx, history: history.clone(), sign_in: None, keys, _watch: watch };
        let task = tokio::spawn(driver.run(intents_rx, inputs, first_effects));
        Self { intents, steps, history, task }
    }

    /// Hands an intent to the session. One that does not fit the current step is ignored
    /// (and logged by name): the step the person sees is always the truth.
    pub fn send(&self, intent: Intent) {
        let _ = self.intents.send(intent);
    }

    pub fn step(&self) -> Step {
        self.steps.borrow().clone()
    }

    /// Every step as it comes; clone it to watch from elsewhere.
    pub fn steps(&self) -> watch::Receiver<Step> {
        self.steps.clone()
    }

    /// The steps entered so far, with when.
    pub fn history(&self) -> Vec<Milestone> {
        self.history.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until the step satisfies `done`, or `timeout` passes (then the step at that moment).
    pub async fn wait_for(&self, timeout: Duration, done: impl Fn(&Step) -> bool) -> Result<Step, Step> {
        let mut steps = self.steps.clone();
        let waited = tokio::time::timeout(timeout, steps.wait_for(|step| done(step))).await;
        match waited {
            Ok(Ok(step)) => Ok(step.clone()),
            _ => Err(self.step()),
        }
    }

    /// Forgets everything of this session (tokens, PIN, a passkey not registered is
    /// deleted from the key) and stops.
    pub async fn close(self) {
        self.send(Intent::StartOver);
        drop(self.intents);
        let _ = self.task.await;
    }
}

struct Driver {
    session: Session,
    bench: work::Workbench,
    steps: watch::Sender<Step>,
    history: Arc<Mutex<Vec<Milestone>>>,
    sign_in: Option<JoinHandle<()>>,
    /// The keys plugged in, as the watch has reported them so far. Counted from its reports
    /// rather than looked up when one arrives: a key pulled out and another (or the same)
    /// put in between two looks comes as "removed" then "inserted", and the session must
    /// see the count drop and rise again, not the same count twice (which would leave a
    /// failure waiting for the re-insertion that already happened).
    keys: BTreeSet<KeyLocation>,
    _watch: Watch,
}

impl Driver {
    async fn run(
        mut self,
        mut intents: mpsc::UnboundedReceiver<Intent>,
        mut inputs: mpsc::UnboundedReceiver<Input>,
        first_effects: Vec<Effect>,
    ) {
        self.carry_out(first_effects);
        self.publish(false);
        loop {
            let input = tokio::select! {
                intent = intents.recv() => match intent {
                    Some(intent) => Input::Intent(intent),
                    None => break,
                },
                Some(input) = inputs.recv() => input,
            };
            let answered = matches!(input, Input::Intent(_));
            let effects = match input {
                Input::Intent(intent) => match self.session.apply(intent) {
                    Ok(effects) => effects,
                    Err(not_now) => {
                        tracing::debug!(%not_now, "intent ignored");
                        continue;
                    }
                },
                Input::Outcome(outcome) => self.session.on(outcome),
                Input::Keys(change) => self.keys_changed(change),
            };
            self.carry_out(effects);
            self.publish(answered);
        }
        // The person is gone (the handle was dropped): leave nothing behind.
        self.abort_sign_in();
        self.bench.reset().await;
    }

    fn keys_changed(&mut self, change: KeyChange) -> Vec<Effect> {
        let mut effects = Vec::new();
        match change {
            KeyChange::Removed(location) => {
                self.keys.remove(&location);
                if self.bench.forget_key_at(&location) {
                    tracing::info!("the key in use was removed");
                    effects.extend(self.session.on(Outcome::KeyRemoved));
                }
            }
            KeyChange::Inserted(location) => {
                self.keys.insert(location);
            }
        }
        effects.extend(self.session.on(Outcome::KeysPresent(self.keys.len())));
        effects
    }

    fn carry_out(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::BeginSignIn { account } => {
                    self.abort_sign_in();
                    self.sign_in = Some(self.bench.begin_sign_in(account));
                }
                Effect::CancelSignIn => self.abort_sign_in(),
                Effect::CancelTouch => self.bench.cancel_touch(),
                Effect::Reset => {
                    self.abort_sign_in();
                    self.bench.cancel_touch();
                    self.bench.spawn_reset();
                }
                other => self.bench.spawn(other),
            }
        }
    }

    fn abort_sign_in(&mut self) {
        if let Some(task) = self.sign_in.take() {
            task.abort();
        }
    }

    /// Shows the step. `answered`: the person's intent was applied, so the step goes out even
    /// when it looks the same (the same problem twice), or whoever waits for the answer waits on.
    fn publish(&mut self, answered: bool) {
        let step = self.session.step();
        let changed = *self.steps.borrow() != *step;
        if changed {
            tracing::info!(step = step.name(), "step");
            self.history.lock().unwrap_or_else(|e| e.into_inner()).push(Milestone { at: Instant::now(), step: step.name() });
        }
        if changed || answered {
            self.steps.send_replace(step.clone());
        }
    }
}

/// A fresh cancel token for the next key operation, reachable by [`Effect::CancelTouch`].
#[derive(Clone, Default)]
struct CurrentCancel(Arc<Mutex<CancelToken>>);

impl CurrentCancel {
    fn renew(&self) -> CancelToken {
        let token = CancelToken::new();
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = token.clone();
        token
    }

    fn cancel(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).cancel();
    }
}
