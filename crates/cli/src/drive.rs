//! The person's side of the flow, played by this program: it watches each step, answers
//! what it can answer by itself (the work address, "use this key", the key's name), asks
//! for PINs, and stops at the first failure, since a script cannot choose a way forward.

use std::time::Duration;

use tap2key_flow::{Intent, Onboarding, PinProblem, Step, WorkAddress};
use tokio::time::Instant;

use crate::{
    browser,
    outcome::{Ending, Stop},
    pin_input::{PinError, PinSource},
    render::{Renderer, say},
};

/// How long "no key" must last before the person is asked to insert one.
const INSERT_GRACE: Duration = Duration::from_millis(300);

pub struct Answers {
    /// Who signs in (the login hint on the sign-in page).
    pub user: Option<WorkAddress>,
    pub open_browser: bool,
    pub name: Option<String>,
    pub pins: PinSource,
    pub wait_for_key: Duration,
}

/// Runs the flow to its end: registered, failed, or stopped here.
pub async fn drive(flow: &Onboarding, answers: Answers, renderer: &mut Renderer) -> Ending {
    let Answers { user, open_browser, name, pins, wait_for_key } = answers;
    let mut pins = Some(pins);
    let mut steps = flow.steps();
    let mut key_deadline: Option<Instant> = None;
    // "Insert your security key" waits a moment: a session that starts signed in shows "no
    // key" for an instant before the flow has counted the keys already plugged in.
    let mut insert_due: Option<Instant> = None;
    let mut insert_told = false;
    let mut sign_in_shown = false;
    loop {
        let step = steps.borrow_and_update().clone();
        renderer.show(&step);
        let interactive = pins.as_ref().is_some_and(PinSource::is_interactive);
        match &step {
            Step::Welcome { problem: Some(problem), .. } => {
                return Ending::Stopped(Stop::usage(format!("The directory's rules do not accept this work address ({problem:?}).")));
            }
            Step::Welcome { .. } => match &user {
                Some(user) => flow.send(Intent::SubmitWorkAddress { address: user.to_string() }),
                None => return Ending::Stopped(Stop::usage("Say who signs in: --user <work address>.")),
            },
            Step::ReadyToSignIn { .. } => flow.send(Intent::SignIn),
            Step::SigningIn { url: Some(url), .. } if !sign_in_shown => {
                sign_in_shown = true;
                show_sign_in(url, open_browser).await;
            }
            Step::KeyFound { .. } => flow.send(Intent::UseKey),
            Step::ChoosePin { rules, problem, .. } => {
                if let (Some(problem), false) = (problem, interactive) {
                    return Ending::Stopped(Stop::PinNotAccepted { problem: *problem });
                }
                let rules = *rules;
                match ask(&mut pins, move |source| source.choose(&rules)).await {
                    Ok(intent) => flow.send(intent),
                    Err(stop) => return Ending::Stopped(stop),
                }
            }
            Step::EnterPin { problem, .. } => {
                match (problem, interactive) {
                    (Some(PinProblem::Wrong { retries_left }), false) => return Ending::Stopped(Stop::WrongPin { retries_left: *retries_left }),
                    (Some(problem), false) => return Ending::Stopped(Stop::PinNotAccepted { problem: *problem }),
                    _ => {}
                }
                match ask(&mut pins, PinSource::enter).await {
                    Ok(intent) => flow.send(intent),
                    Err(stop) => return Ending::Stopped(stop),
                }
            }
            Step::ChangePin { rules, problem, .. } => {
                match (problem, interactive) {
                    (Some(PinProblem::Wrong { retries_left }), false) => return Ending::Stopped(Stop::WrongPin { retries_left: *retries_left }),
                    (Some(problem), false) => return Ending::Stopped(Stop::PinNotAccepted { problem: *problem }),
                    _ => {}
                }
                let rules = *rules;
                match ask(&mut pins, move |source| source.change(&rules)).await {
                    Ok(intent) => flow.send(intent),
                    Err(stop) => return Ending::Stopped(stop),
                }
            }
            Step::NamingKey { suggested, problem: None } => flow.send(Intent::NameKey { name: name.clone().unwrap_or_else(|| suggested.clone()) }),
            // --name was checked by the same rules before the run began.
            Step::NamingKey { problem: Some(problem), .. } => {
                return Ending::Stopped(Stop::usage(format!("The key's name was not accepted ({problem:?}).")));
            }
            Step::Done { key } => return Ending::Registered(key.clone()),
            Step::Failed { failure, cleanup, ways_forward } => {
                return Ending::Failed { failure: failure.clone(), cleanup: cleanup.clone(), ways_forward: ways_forward.clone() };
            }
            _ => {}
        }

        // Waiting for a key is the one wait with no end of its own.
        key_deadline = match &step {
            Step::FindingKey { .. } => Some(key_deadline.unwrap_or_else(|| Instant::now() + wait_for_key)),
            _ => None,
        };
        if !matches!(step, Step::FindingKey { keys: 0, .. }) {
            insert_due = None;
        } else if !insert_told {
            insert_due = insert_due.or_else(|| Some(Instant::now() + INSERT_GRACE));
        }
        loop {
            tokio::select! {
                changed = steps.changed() => match changed {
                    Ok(()) => break,
                    Err(_) => return Ending::Stopped(Stop::Other { message: "The onboarding stopped unexpectedly.".into() }),
                },
                () = sleep_until_some(key_deadline) => {
                    return Ending::Stopped(Stop::NoKey { waited_seconds: wait_for_key.as_secs() });
                }
                () = sleep_until_some(insert_due) => {
                    say("Insert your security key.");
                    insert_told = true;
                    insert_due = None;
                }
            }
        }
        if !matches!(step, Step::FindingKey { .. }) {
            insert_told = false;
        }
    }
}

/// Sleeps until `when`, or forever if it is `None`.
async fn sleep_until_some(when: Option<Instant>) {
    match when {
        Some(when) => tokio::time::sleep_until(when).await,
        None => std::future::pending().await,
    }
}

/// Asks for PINs on a blocking thread (a person takes their time), so Ctrl-C is still heard.
async fn ask(pins: &mut Option<PinSource>, question: impl FnOnce(&mut PinSource) -> Result<Intent, PinError> + Send + 'static) -> Result<Intent, Stop> {
    let Some(mut source) = pins.take() else { return Err(Stop::Other { message: "The PIN input is gone.".into() }) };
    let (source, answer) = tokio::task::spawn_blocking(move || {
        let answer = question(&mut source);
        (source, answer)
    })
    .await
    .map_err(|_| Stop::Other { message: "Asking for the PIN failed.".into() })?;
    *pins = Some(source);
    answer.map_err(Stop::from)
}

async fn show_sign_in(url: &str, open_browser: bool) {
    const OPEN_THIS: &str = "Open this address in a browser and sign in with your Temporary Access Pass:";
    if !open_browser {
        return say(&format!("{OPEN_THIS} {url}"));
    }
    say("Opening the sign-in page in your browser: sign in there with your Temporary Access Pass.");
    let target = url.to_owned();
    let opened = tokio::task::spawn_blocking(move || browser::open(&target)).await.unwrap_or(false);
    if opened {
        say(&format!("If no browser opened, go to: {url}"));
    } else {
        say(&format!("No browser could be opened. {OPEN_THIS} {url}"));
    }
}

#[cfg(test)]
mod tests {
    use tap2key_directory::{AccessToken, DirectoryConfig};
    use tap2key_flow::{OnboardingConfig, PinPolicy, SignInMode};
    use tap2key_keys::KeyPorts;

    use super::*;

    #[tokio::test]
    async fn with_no_key_the_run_ends_once_the_wait_is_over() {
        let flow = Onboarding::start(OnboardingConfig {
            // Never reached: the flow needs the directory only once it has a key.
            directory: DirectoryConfig::demo("http://127.0.0.1:9"),
            sign_in: SignInMode::Token { token: AccessToken::new("token"), account: None },
            for_user: None,
            ports: KeyPorts::new(false),
            pin_policy: PinPolicy::default(),
            watch_interval: Duration::from_millis(20),
        });
        let wait_for_key = Duration::from_millis(600);
        let answers = Answers { user: None, open_browser: false, name: None, pins: PinSource::Prompt, wait_for_key };
        let started = Instant::now();

        let ending = drive(&flow, answers, &mut Renderer::default()).await;

        assert!(matches!(ending, Ending::Stopped(Stop::NoKey { .. })), "{ending:?}");
        assert!(started.elapsed() >= wait_for_key);
        flow.close().await;
    }
}
