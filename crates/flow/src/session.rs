//! One person's onboarding session as a pure state machine: the current [`Step`], and for
//! each intent of the person or outcome of the key and the directory, the next step and the
//! [`Effect`]s to carry out. No I/O happens here; the [driver](crate::driver) does it and
//! reports back with an [`Outcome`].

use std::fmt;

use tap2key_keys::{KeyError, Pin};

use crate::{
    failure::{Cleanup, Failure, WayForward},
    intent::Intent,
    key_name,
    pin_policy::{self, PinPolicy, PinProblem},
    step::{KeyDescription, PinState, RegisteredKey, Step},
    work_address::WorkAddress,
};

/// Work for the driver. PINs travel inside effects once checked; the session keeps none.
#[derive(Debug)]
pub enum Effect {
    /// Open the directory's sign-in page for this account and wait for the person.
    BeginSignIn { account: WorkAddress },
    CancelSignIn,
    /// Look at the keys: open the only one, let the person touch one of several, or wait.
    FindKey,
    /// Stop whatever the key waits for (a touch).
    CancelTouch,
    VerifyPin(Pin),
    SetPin(Pin),
    ChangePin { current: Pin, new: Pin },
    /// Fresh creation options, then makeCredential on the key.
    CreatePasskey,
    /// Register the passkey just made (fresh options and a new passkey first, if the
    /// challenge expired while the person was naming it).
    Register { name: String },
    TestSignIn { method_id: String },
    /// Take the registration back from the directory and the passkey off the key.
    RemoveRegistration { method_id: String },
    /// Forget everything of this person: tokens, PIN, key, passkey not registered (which
    /// is deleted from the key first).
    Reset,
}

impl Effect {
    /// The effect's name, for logs: it carries none of the effect's data (a PIN, say).
    pub fn name(&self) -> &'static str {
        match self {
            Effect::BeginSignIn { .. } => "beginSignIn",
            Effect::CancelSignIn => "cancelSignIn",
            Effect::FindKey => "findKey",
            Effect::CancelTouch => "cancelTouch",
            Effect::VerifyPin(_) => "verifyPin",
            Effect::SetPin(_) => "setPin",
            Effect::ChangePin { .. } => "changePin",
            Effect::CreatePasskey => "createPasskey",
            Effect::Register { .. } => "register",
            Effect::TestSignIn { .. } => "testSignIn",
            Effect::RemoveRegistration { .. } => "removeRegistration",
            Effect::Reset => "reset",
        }
    }
}

/// What the driver reports back.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// The sign-in page is ready at this address.
    SignInReady { url: String },
    SignedIn,
    /// How many keys are plugged in now (reported whenever that changes).
    KeysPresent(usize),
    /// The key that was in use was pulled out.
    KeyRemoved,
    /// The key waits for a touch.
    TouchNeeded,
    KeyOpened(KeyDescription),
    /// The PIN was verified, set or changed; the driver holds it for this key.
    PinAccepted,
    /// The key refused the PIN (wrong, blocked, against its policy...).
    PinRefused(KeyError),
    PasskeyCreated,
    /// The challenge expired before registration: a new passkey is being made.
    RecreatingPasskey,
    /// The new passkey goes to the directory now.
    Registering,
    Registered(RegisteredKey),
    TestSignInPassed { sign_count: u32 },
    RegistrationRemoved { cleanup: Vec<Cleanup> },
    /// Whatever was under way failed; `cleanup` says what was tidied up.
    Failed { failure: Failure, cleanup: Vec<Cleanup> },
}

/// What "Retry" does after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resume {
    SignIn,
    FindKey,
    CreatePasskey,
    TestSignIn,
}

pub struct Session {
    step: Step,
    policy: PinPolicy,
    account: Option<WorkAddress>,
    key: Option<KeyDescription>,
    /// Chosen name of the passkey being registered.
    name: Option<String>,
    /// Set once the directory has registered the passkey: from then on a failure offers to
    /// take the registration back, and a re-inserted key resumes at the test sign-in.
    registered: Option<RegisteredKey>,
    /// The failure after which the person asked to take the registration back: once it is
    /// gone, the screen still says what went wrong (the directory's reason for refusing the
    /// test sign-in, or that the key was pulled out), not a blank failure.
    undoing: Option<Failure>,
    resume: Resume,
    keys_present: usize,
    /// A failure is waiting for the key to be pulled out (and another put in).
    awaiting_reinsert: bool,
}

/// An intent that makes no sense in the current step, such as a double-clicked button
/// arriving after the screen already moved on. The session stays where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotNow {
    pub intent: &'static str,
    pub step: &'static str,
}

impl Default for Session {
    fn default() -> Self {
        Self::new(PinPolicy::default())
    }
}

impl Session {
    pub fn new(policy: PinPolicy) -> Self {
        Self {
            step: Step::default(),
            policy,
            account: None,
            key: None,
            name: None,
            registered: None,
            undoing: None,
            resume: Resume::SignIn,
            keys_present: 0,
            awaiting_reinsert: false,
        }
    }

    /// A session whose sign-in happened elsewhere (an access token handed to the CLI): it
    /// starts by finding the key.
    pub fn signed_in(policy: PinPolicy, account: Option<WorkAddress>) -> (Self, Vec<Effect>) {
        let mut session = Self::new(policy);
        session.account = account;
        session.step = Step::FindingKey { keys: 0, touch: false };
        session.resume = Resume::FindKey;
        (session, vec![Effect::FindKey])
    }

    pub fn step(&self) -> &Step {
        &self.step
    }

    pub fn account(&self) -> Option<&WorkAddress> {
        self.account.as_ref()
    }

    /// What the person asked for.
    pub fn apply(&mut self, intent: Intent) -> Result<Vec<Effect>, NotNow> {
        let not_now = NotNow { intent: intent.name(), step: self.step.name() };
        let step = std::mem::take(&mut self.step);
        match self.on_intent(step, intent) {
            Ok((step, effects)) => {
                self.step = step;
                Ok(effects)
            }
            Err(step) => {
                self.step = step;
                Err(not_now)
            }
        }
    }

    /// What the key or the directory did. An outcome that no longer fits the step (a late
    /// answer after the person moved on) changes nothing.
    pub fn on(&mut self, outcome: Outcome) -> Vec<Effect> {
        if let Outcome::KeysPresent(n) = outcome {
            return self.keys_present(n);
        }
        let step = std::mem::take(&mut self.step);
        let (step, effects) = self.on_outcome(step, outcome);
        self.step = step;
        effects
    }

    fn on_intent(&mut self, step: Step, intent: Intent) -> Result<(Step, Vec<Effect>), Step> {
        Ok(match (step, intent) {
            (Step::Welcome { .. }, Intent::SubmitWorkAddress { address }) => match WorkAddress::parse(&address) {
                Ok(account) => (Step::ReadyToSignIn { account }, vec![]),
                Err(problem) => (Step::Welcome { typed: address, problem: Some(problem) }, vec![]),
            },
            (Step::ReadyToSignIn { account }, Intent::ChangeWorkAddress) => {
                (Step::Welcome { typed: account.to_string(), problem: None }, vec![])
            }
            (Step::ReadyToSignIn { account }, Intent::SignIn) => self.sign_in(account),
            (Step::SigningIn { account, .. }, Intent::Cancel) => (Step::ReadyToSignIn { account }, vec![Effect::CancelSignIn]),

            (Step::KeyFound { key }, Intent::UseKey) => self.ask_for_pin(key),
            (Step::EnterPin { key, .. }, Intent::EnterPin { pin }) => match pin_policy::check_existing(pin.expose()) {
                Ok(pin) => (Step::CheckingPin, vec![Effect::VerifyPin(pin)]),
                Err(problem) => (Step::EnterPin { key, problem: Some(problem) }, vec![]),
            },
            (Step::ChoosePin { key, rules, .. }, Intent::ChoosePin { pin, again }) => match rules.check_new(pin.expose(), again.expose()) {
                Ok(pin) => (Step::CheckingPin, vec![Effect::SetPin(pin)]),
                Err(problem) => (Step::ChoosePin { key, rules, problem: Some(problem) }, vec![]),
            },
            (Step::ChangePin { key, rules, .. }, Intent::ChangePin { current, new, again }) => {
                let checked = pin_policy::check_existing(current.expose()).and_then(|current| {
                    let new = rules.check_new(new.expose(), again.expose())?;
                    if new.as_str() == current.as_str() { Err(PinProblem::SameAsCurrent) } else { Ok((current, new)) }
                });
                match checked {
                    Ok((current, new)) => (Step::CheckingPin, vec![Effect::ChangePin { current, new }]),
                    Err(problem) => (Step::ChangePin { key, rules, problem: Some(problem) }, vec![]),
                }
            }

            (step @ (Step::CreatingPasskey { .. } | Step::TestSignIn { .. } | Step::FindingKey { .. }), Intent::Cancel) => {
                (step, vec![Effect::CancelTouch])
            }
            (Step::NamingKey { suggested, .. }, Intent::NameKey { name }) => match key_name::check(&name) {
                Ok(name) => {
                    self.name = Some(name.clone());
                    (Step::Registering { name: name.clone() }, vec![Effect::Register { name }])
                }
                Err(problem) => (Step::NamingKey { suggested, problem: Some(problem) }, vec![]),
            },

            (Step::Failed { ways_forward, failure, cleanup }, intent @ (Intent::Retry | Intent::RemoveRegistration)) => {
                let wanted = match intent {
                    Intent::Retry => [WayForward::Retry, WayForward::SignInAgain],
                    _ => [WayForward::RemoveRegistration; 2],
                };
                if !ways_forward.iter().any(|w| wanted.contains(w)) {
                    return Err(Step::Failed { failure, cleanup, ways_forward });
                }
                if matches!(intent, Intent::RemoveRegistration) {
                    return Ok(self.remove_registration(Step::Failed { failure, cleanup, ways_forward }));
                }
                self.awaiting_reinsert = false;
                match (failure, self.resume) {
                    (Failure::SessionExpired | Failure::SignInNotTrusted | Failure::SignInRefused { .. }, _) | (_, Resume::SignIn) => {
                        match self.account.clone() {
                            Some(account) => self.sign_in(account),
                            None => (Step::default(), vec![Effect::Reset]),
                        }
                    }
                    (_, Resume::FindKey) => self.find_key(),
                    (_, Resume::CreatePasskey) => (Step::CreatingPasskey { touch: false }, vec![Effect::CreatePasskey]),
                    (_, Resume::TestSignIn) => self.test_sign_in(),
                }
            }
            (step, Intent::StartOver) if !matches!(step, Step::Welcome { .. } | Step::RemovingRegistration) => {
                let policy = self.policy.clone();
                *self = Self::new(policy);
                (Step::default(), vec![Effect::Reset])
            }
            (step, _) => return Err(step),
        })
    }

    fn on_outcome(&mut self, step: Step, outcome: Outcome) -> (Step, Vec<Effect>) {
        match (step, outcome) {
            (Step::SigningIn { account, .. }, Outcome::SignInReady { url }) => (Step::SigningIn { account, url: Some(url) }, vec![]),
            (Step::SigningIn { .. }, Outcome::SignedIn) => self.find_key(),

            (Step::FindingKey { keys, .. }, Outcome::TouchNeeded) => (Step::FindingKey { keys, touch: true }, vec![]),
            (Step::FindingKey { .. }, Outcome::KeyOpened(key)) => {
                self.key = Some(key.clone());
                self.resume = Resume::FindKey;
                (Step::KeyFound { key }, vec![])
            }

            (Step::CheckingPin, Outcome::PinAccepted) => {
                self.refresh_key_pin(PinState::Set { retries: 8 });
                if self.registered.is_some() { self.test_sign_in() } else { self.create_passkey() }
            }
            (Step::CheckingPin, Outcome::PinRefused(error)) => self.pin_refused(error),

            (Step::CreatingPasskey { .. }, Outcome::TouchNeeded) => (Step::CreatingPasskey { touch: true }, vec![]),
            (Step::CreatingPasskey { .. }, Outcome::PasskeyCreated) => {
                let model = self.key.as_ref().map(|k| k.model.as_str()).unwrap_or_default();
                (Step::NamingKey { suggested: key_name::suggested(model), problem: None }, vec![])
            }
            (Step::Registering { .. } | Step::CreatingPasskey { .. }, Outcome::RecreatingPasskey) => (Step::CreatingPasskey { touch: false }, vec![]),
            (Step::CreatingPasskey { .. } | Step::Registering { .. }, Outcome::Registering) if self.name.is_some() => {
                (Step::Registering { name: self.name.clone().unwrap_or_default() }, vec![])
            }
            (Step::Registering { .. } | Step::CreatingPasskey { .. }, Outcome::Registered(key)) if self.name.is_some() => {
                self.registered = Some(key);
                self.test_sign_in()
            }

            (Step::TestSignIn { .. }, Outcome::TouchNeeded) => (Step::TestSignIn { touch: true }, vec![]),
            (Step::TestSignIn { .. }, Outcome::TestSignInPassed { sign_count }) => match self.registered.clone() {
                Some(key) => (Step::Done { key: RegisteredKey { sign_count, ..key } }, vec![]),
                None => (Step::TestSignIn { touch: false }, vec![]),
            },

            (Step::RemovingRegistration, Outcome::RegistrationRemoved { cleanup }) => {
                self.registered = None;
                self.name = None;
                self.resume = Resume::CreatePasskey;
                let failure = self.undoing.take().unwrap_or(Failure::TestSignInFailed { message: String::new() });
                (Step::Failed { failure, cleanup, ways_forward: vec![WayForward::Retry, WayForward::StartOver] }, vec![])
            }
            (Step::RemovingRegistration, Outcome::Failed { failure, cleanup }) => {
                self.undoing = None;
                self.resume = Resume::TestSignIn;
                self.fail(failure, cleanup)
            }

            (step, Outcome::KeyRemoved) => self.key_removed(step),
            (step, Outcome::Failed { failure, cleanup }) if step.is_busy() => self.fail(failure, cleanup),
            // A late answer to something the person already moved on from.
            (step, _) => (step, vec![]),
        }
    }

    fn keys_present(&mut self, n: usize) -> Vec<Effect> {
        let before = std::mem::replace(&mut self.keys_present, n);
        match &self.step {
            Step::FindingKey { keys, .. } if *keys != n || n != before => {
                self.step = Step::FindingKey { keys: n, touch: false };
                if n > 0 { vec![Effect::CancelTouch, Effect::FindKey] } else { vec![Effect::CancelTouch] }
            }
            Step::Failed { .. } if self.awaiting_reinsert && n > before => {
                self.awaiting_reinsert = false;
                let (step, effects) = self.find_key();
                self.step = step;
                effects
            }
            _ => vec![],
        }
    }

    fn sign_in(&mut self, account: WorkAddress) -> (Step, Vec<Effect>) {
        self.account = Some(account.clone());
        self.resume = Resume::SignIn;
        (Step::SigningIn { account: account.clone(), url: None }, vec![Effect::BeginSignIn { account }])
    }

    fn find_key(&mut self) -> (Step, Vec<Effect>) {
        self.resume = Resume::FindKey;
        self.key = None;
        (Step::FindingKey { keys: self.keys_present, touch: false }, vec![Effect::FindKey])
    }

    fn ask_for_pin(&mut self, key: KeyDescription) -> (Step, Vec<Effect>) {
        let rules = self.policy.rules(key.min_pin_length);
        match key.pin {
            PinState::NotSet => (Step::ChoosePin { key, rules, problem: None }, vec![]),
            PinState::Set { .. } => (Step::EnterPin { key, problem: None }, vec![]),
            PinState::ChangeRequired { .. } => (Step::ChangePin { key, rules, problem: None }, vec![]),
            PinState::ReinsertNeeded { .. } => self.fail(Failure::PinTriesPaused, vec![]),
            PinState::Blocked => self.fail(Failure::PinBlocked, vec![]),
        }
    }

    fn create_passkey(&mut self) -> (Step, Vec<Effect>) {
        self.resume = Resume::CreatePasskey;
        (Step::CreatingPasskey { touch: false }, vec![Effect::CreatePasskey])
    }

    fn test_sign_in(&mut self) -> (Step, Vec<Effect>) {
        self.resume = Resume::TestSignIn;
        match &self.registered {
            Some(key) => (Step::TestSignIn { touch: false }, vec![Effect::TestSignIn { method_id: key.method_id.clone() }]),
            None => self.create_passkey(),
        }
    }

    fn remove_registration(&mut self, failed: Step) -> (Step, Vec<Effect>) {
        match (&self.registered, failed) {
            (Some(key), Step::Failed { failure, .. }) => {
                self.undoing = Some(failure);
                (Step::RemovingRegistration, vec![Effect::RemoveRegistration { method_id: key.method_id.clone() }])
            }
            (_, failed) => (failed, vec![]),
        }
    }

    fn pin_refused(&mut self, error: KeyError) -> (Step, Vec<Effect>) {
        let Some(mut key) = self.key.clone() else { return self.fail(Failure::from_key(&error), vec![]) };
        let rules = self.policy.rules(key.min_pin_length);
        match (error, key.pin) {
            (KeyError::PinInvalid { retries_left }, PinState::ChangeRequired { .. }) => {
                key.pin = PinState::ChangeRequired { retries: retries_left };
                self.key = Some(key.clone());
                (Step::ChangePin { key, rules, problem: Some(PinProblem::Wrong { retries_left }) }, vec![])
            }
            (KeyError::PinInvalid { retries_left }, _) => {
                key.pin = PinState::Set { retries: retries_left };
                self.key = Some(key.clone());
                (Step::EnterPin { key, problem: Some(PinProblem::Wrong { retries_left }) }, vec![])
            }
            (KeyError::PinPolicyViolation, PinState::NotSet) => (Step::ChoosePin { key, rules, problem: Some(PinProblem::RefusedByKey) }, vec![]),
            (KeyError::PinPolicyViolation, _) => (Step::ChangePin { key, rules, problem: Some(PinProblem::RefusedByKey) }, vec![]),
            (KeyError::PinChangeRequired, PinState::Set { retries } | PinState::ChangeRequired { retries }) => {
                key.pin = PinState::ChangeRequired { retries };
                self.key = Some(key.clone());
                (Step::ChangePin { key, rules, problem: None }, vec![])
            }
            (KeyError::PinAuthBlocked, _) => {
                self.refresh_key_pin(PinState::ReinsertNeeded { retries: 0 });
                self.fail(Failure::PinTriesPaused, vec![])
            }
            (error, _) => self.fail(Failure::from_key(&error), vec![]),
        }
    }

    fn key_removed(&mut self, step: Step) -> (Step, Vec<Effect>) {
        self.key = None;
        match step {
            // Before anything was made on it, losing the key just means finding one again.
            Step::KeyFound { .. } | Step::EnterPin { .. } | Step::ChoosePin { .. } | Step::ChangePin { .. } => {
                self.resume = Resume::FindKey;
                (Step::FindingKey { keys: self.keys_present, touch: false }, vec![Effect::FindKey])
            }
            Step::Failed { failure, cleanup, ways_forward } => {
                if ways_forward.iter().any(|w| matches!(w, WayForward::ReinsertKey | WayForward::UseAnotherKey)) {
                    self.awaiting_reinsert = true;
                }
                (Step::Failed { failure, cleanup, ways_forward }, vec![])
            }
            // The key's own operation reports the removal as its failure; naming and
            // registering do not need the key.
            step => (step, vec![]),
        }
    }

    fn fail(&mut self, failure: Failure, cleanup: Vec<Cleanup>) -> (Step, Vec<Effect>) {
        let mut ways_forward = failure.ways_forward();
        // These are answered by pulling the key out (and putting it, or another, back in):
        // the flow then starts again from finding the key, and a registered passkey goes
        // straight on to its test sign-in once the PIN is in.
        if ways_forward.iter().any(|w| matches!(w, WayForward::ReinsertKey | WayForward::UseAnotherKey)) {
            self.awaiting_reinsert = true;
            self.resume = Resume::FindKey;
            self.key = None;
        }
        if self.registered.is_some() && !ways_forward.contains(&WayForward::RemoveRegistration) {
            ways_forward.push(WayForward::RemoveRegistration);
        }
        (Step::Failed { failure, cleanup, ways_forward }, vec![])
    }

    fn refresh_key_pin(&mut self, pin: PinState) {
        if let Some(key) = &mut self.key {
            key.pin = pin;
        }
    }
}

impl Step {
    /// Steps in which the driver is working on something that can fail.
    fn is_busy(&self) -> bool {
        matches!(
            self,
            Step::SigningIn { .. }
                | Step::FindingKey { .. }
                | Step::CheckingPin
                | Step::CreatingPasskey { .. }
                | Step::Registering { .. }
                | Step::TestSignIn { .. }
        )
    }
}

impl fmt::Display for NotNow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not possible while at {}", self.intent, self.step)
    }
}

impl std::error::Error for NotNow {}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
