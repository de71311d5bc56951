use super::*;
use crate::{AddressProblem, NameProblem, SecretText, failure::SignInCause};

fn submit(address: &str) -> Intent {
    Intent::SubmitWorkAddress { address: address.into() }
}

fn key(pin: PinState) -> KeyDescription {
    KeyDescription { model: "tap2key Virtual Key".into(), aaguid: "74617032-6b65-792d-766b-65792d303031".into(), pin, min_pin_length: 4, free_passkey_slots: Some(25) }
}

fn registered() -> RegisteredKey {
    RegisteredKey { method_id: "m-1".into(), name: "Ada's key".into(), aaguid: None, model: None, sign_count: 0 }
}

fn names(effects: &[Effect]) -> Vec<&'static str> {
    effects.iter().map(Effect::name).collect()
}

/// A session signed in, with one key plugged in and found (in `pin` state).
fn at_key_found(pin: PinState) -> Session {
    let mut session = Session::new(PinPolicy::default());
    session.on(Outcome::KeysPresent(1));
    session.apply(submit("ada@contoso.com")).unwrap();
    assert_eq!(names(&session.apply(Intent::SignIn).unwrap()), ["beginSignIn"]);
    session.on(Outcome::SignInReady { url: "http://127.0.0.1:1/demo/oauth2/v2.0/authorize?x".into() });
    assert_eq!(names(&session.on(Outcome::SignedIn)), ["findKey"]);
    assert_eq!(session.step(), &Step::FindingKey { keys: 1, touch: false });
    session.on(Outcome::KeyOpened(key(pin)));
    session
}

/// From a key with a PIN to the passkey being registered.
fn at_registering() -> Session {
    let mut session = at_key_found(PinState::Set { retries: 8 });
    session.apply(Intent::UseKey).unwrap();
    session.apply(Intent::EnterPin { pin: "205813".into() }).unwrap();
    session.on(Outcome::PinAccepted);
    session.on(Outcome::PasskeyCreated);
    assert_eq!(names(&session.apply(Intent::NameKey { name: "Ada's key".into() }).unwrap()), ["register"]);
    session
}

#[test]
fn starts_at_an_empty_welcome() {
    assert_eq!(Session::default().step(), &Step::Welcome { typed: String::new(), problem: None });
}

#[test]
fn a_valid_address_moves_on_and_a_bad_one_stays_with_its_problem() {
    let mut session = Session::default();
    session.apply(submit("ada")).unwrap();
    assert_eq!(session.step(), &Step::Welcome { typed: "ada".into(), problem: Some(AddressProblem::MissingAt) });
    session.apply(submit(" Ada@Contoso.com ")).unwrap();
    assert_eq!(session.step(), &Step::ReadyToSignIn { account: WorkAddress::parse("Ada@contoso.com").unwrap() });
    session.apply(Intent::ChangeWorkAddress).unwrap();
    assert_eq!(session.step(), &Step::Welcome { typed: "Ada@contoso.com".into(), problem: None });
}

#[test]
fn a_blank_key_all_the_way_to_done() {
    let mut session = at_key_found(PinState::NotSet);
    session.apply(Intent::UseKey).unwrap();
    assert!(matches!(session.step(), Step::ChoosePin { rules, problem: None, .. } if rules.min_length == 6));

    session.apply(Intent::ChoosePin { pin: "205813".into(), again: "205814".into() }).unwrap();
    assert!(matches!(session.step(), Step::ChoosePin { problem: Some(PinProblem::Mismatch), .. }));
    let effects = session.apply(Intent::ChoosePin { pin: "205813".into(), again: "205813".into() }).unwrap();
    assert_eq!(names(&effects), ["setPin"]);
    assert_eq!(session.step(), &Step::CheckingPin);

    assert_eq!(names(&session.on(Outcome::PinAccepted)), ["createPasskey"]);
    session.on(Outcome::TouchNeeded);
    assert_eq!(session.step(), &Step::CreatingPasskey { touch: true });
    session.on(Outcome::PasskeyCreated);
    assert_eq!(session.step(), &Step::NamingKey { suggested: "tap2key Virtual Key".into(), problem: None });

    session.apply(Intent::NameKey { name: "   ".into() }).unwrap();
    assert_eq!(session.step(), &Step::NamingKey { suggested: "tap2key Virtual Key".into(), problem: Some(NameProblem::Empty) });
    session.apply(Intent::NameKey { name: " Ada's  key ".into() }).unwrap();
    assert_eq!(session.step(), &Step::Registering { name: "Ada's key".into() });

    assert_eq!(names(&session.on(Outcome::Registered(registered()))), ["testSignIn"]);
    session.on(Outcome::TouchNeeded);
    assert!(session.step().wants_touch());
    session.on(Outcome::TestSignInPassed { sign_count: 2 });
    assert_eq!(session.step(), &Step::Done { key: RegisteredKey { sign_count: 2, ..registered() } });
}

#[test]
fn a_wrong_pin_stays_on_the_pin_screen_with_the_tries_left() {
    let mut session = at_key_found(PinState::Set { retries: 8 });
    session.apply(Intent::UseKey).unwrap();
    session.apply(Intent::EnterPin { pin: "123".into() }).unwrap();
    assert!(matches!(session.step(), Step::EnterPin { problem: Some(PinProblem::TooShort { min: 4 }), .. }));
    session.apply(Intent::EnterPin { pin: "999999".into() }).unwrap();
    session.on(Outcome::PinRefused(KeyError::PinInvalid { retries_left: 7 }));
    let Step::EnterPin { key, problem } = session.step() else { panic!("{:?}", session.step()) };
    assert_eq!((key.pin, *problem), (PinState::Set { retries: 7 }, Some(PinProblem::Wrong { retries_left: 7 })));

    session.apply(Intent::EnterPin { pin: "999998".into() }).unwrap();
    session.on(Outcome::PinRefused(KeyError::PinAuthBlocked));
    assert!(matches!(session.step(), Step::Failed { failure: Failure::PinTriesPaused, ways_forward, .. } if ways_forward == &[WayForward::ReinsertKey]));
    // Pulling the key out and putting it back carries on by itself.
    session.on(Outcome::KeyRemoved);
    assert!(session.on(Outcome::KeysPresent(0)).is_empty());
    assert_eq!(names(&session.on(Outcome::KeysPresent(1))), ["findKey"]);
    assert_eq!(session.step(), &Step::FindingKey { keys: 1, touch: false });
}

#[test]
fn a_blocked_pin_and_a_forced_change() {
    let mut session = at_key_found(PinState::Blocked);
    session.apply(Intent::UseKey).unwrap();
    assert!(matches!(session.step(), Step::Failed { failure: Failure::PinBlocked, .. }));

    let mut session = at_key_found(PinState::ChangeRequired { retries: 8 });
    session.apply(Intent::UseKey).unwrap();
    let change = |current: &str, new: &str, again: &str| Intent::ChangePin { current: current.into(), new: new.into(), again: again.into() };
    session.apply(change("205813", "205813", "205813")).unwrap();
    assert!(matches!(session.step(), Step::ChangePin { problem: Some(PinProblem::SameAsCurrent), .. }));
    assert_eq!(names(&session.apply(change("205813", "480257", "480257")).unwrap()), ["changePin"]);
    session.on(Outcome::PinRefused(KeyError::PinInvalid { retries_left: 7 }));
    assert!(matches!(session.step(), Step::ChangePin { problem: Some(PinProblem::Wrong { retries_left: 7 }), .. }));
    session.apply(change("205814", "480257", "480257")).unwrap();
    assert_eq!(names(&session.on(Outcome::PinAccepted)), ["createPasskey"]);
}

#[test]
fn a_key_pulled_out_before_anything_was_made_just_sends_the_person_back_to_finding_one() {
    let mut session = at_key_found(PinState::Set { retries: 8 });
    session.apply(Intent::UseKey).unwrap();
    assert_eq!(names(&session.on(Outcome::KeyRemoved)), ["findKey"]);
    assert!(matches!(session.step(), Step::FindingKey { .. }));
    assert_eq!(session.on(Outcome::KeysPresent(0)).len(), 1, "the search waits quietly");
    assert_eq!(session.step(), &Step::FindingKey { keys: 0, touch: false });
    assert_eq!(names(&session.on(Outcome::KeysPresent(2))), ["cancelTouch", "findKey"]);
    session.on(Outcome::TouchNeeded);
    assert_eq!(session.step(), &Step::FindingKey { keys: 2, touch: true });
}

#[test]
fn a_refused_registration_says_what_was_tidied_up_and_retry_makes_a_new_passkey() {
    let mut session = at_registering();
    session.on(Outcome::Failed { failure: Failure::DirectoryUnreachable, cleanup: vec![Cleanup::PasskeyRemovedFromKey] });
    assert_eq!(
        session.step(),
        &Step::Failed { failure: Failure::DirectoryUnreachable, cleanup: vec![Cleanup::PasskeyRemovedFromKey], ways_forward: vec![WayForward::Retry, WayForward::StartOver] }
    );
    assert_eq!(names(&session.apply(Intent::Retry).unwrap()), ["createPasskey"]);
}

#[test]
fn an_expired_challenge_makes_a_new_passkey_without_asking_for_the_name_again() {
    let mut session = at_registering();
    session.on(Outcome::RecreatingPasskey);
    session.on(Outcome::TouchNeeded);
    assert_eq!(session.step(), &Step::CreatingPasskey { touch: true });
    session.on(Outcome::Registering);
    assert_eq!(session.step(), &Step::Registering { name: "Ada's key".into() });
    assert_eq!(names(&session.on(Outcome::Registered(registered()))), ["testSignIn"]);
}

#[test]
fn a_failed_test_sign_in_offers_a_retry_or_taking_the_registration_back() {
    let mut session = at_registering();
    session.on(Outcome::Registered(registered()));
    let failure = Failure::TestSignInFailed { message: "The signature does not verify.".into() };
    session.on(Outcome::Failed { failure: failure.clone(), cleanup: vec![] });
    assert_eq!(session.step(), &Step::Failed { failure, cleanup: vec![], ways_forward: vec![WayForward::Retry, WayForward::RemoveRegistration] });
    assert_eq!(names(&session.apply(Intent::Retry).unwrap()), ["testSignIn"]);

    session.on(Outcome::Failed { failure: Failure::NoTouch, cleanup: vec![] });
    assert!(matches!(session.step(), Step::Failed { ways_forward, .. } if ways_forward == &[WayForward::Retry, WayForward::RemoveRegistration]));
    assert_eq!(names(&session.apply(Intent::RemoveRegistration).unwrap()), ["removeRegistration"]);
    session.on(Outcome::RegistrationRemoved { cleanup: vec![Cleanup::RegistrationRemoved, Cleanup::PasskeyRemovedFromKey] });
    assert_eq!(
        session.step(),
        &Step::Failed {
            failure: Failure::NoTouch,
            cleanup: vec![Cleanup::RegistrationRemoved, Cleanup::PasskeyRemovedFromKey],
            ways_forward: vec![WayForward::Retry, WayForward::StartOver]
        }
    );
}

#[test]
fn a_registration_taken_back_still_says_why_the_test_failed() {
    let mut session = at_registering();
    session.on(Outcome::Registered(registered()));
    let failure = Failure::TestSignInFailed { message: "The signature does not verify.".into() };
    session.on(Outcome::Failed { failure: failure.clone(), cleanup: vec![] });
    session.apply(Intent::RemoveRegistration).unwrap();
    assert_eq!(session.step(), &Step::RemovingRegistration);
    session.on(Outcome::RegistrationRemoved { cleanup: vec![Cleanup::RegistrationRemoved, Cleanup::PasskeyRemovedFromKey] });
    let Step::Failed { failure: shown, ways_forward, .. } = session.step() else { panic!("{:?}", session.step()) };
    assert_eq!(shown, &failure, "the directory's reason is kept, not blanked");
    assert_eq!(ways_forward, &[WayForward::Retry, WayForward::StartOver]);
    assert_eq!(names(&session.apply(Intent::Retry).unwrap()), ["createPasskey"], "a new passkey, as the old one is gone");
}

#[test]
fn a_key_removed_after_registration_resumes_at_the_test_sign_in() {
    let mut session = at_registering();
    session.on(Outcome::Registered(registered()));
    session.on(Outcome::KeysPresent(0));
    session.on(Outcome::Failed { failure: Failure::KeyRemoved, cleanup: vec![] });
    assert!(matches!(session.step(), Step::Failed { ways_forward, .. } if ways_forward == &[WayForward::ReinsertKey, WayForward::RemoveRegistration]));
    assert_eq!(names(&session.on(Outcome::KeysPresent(1))), ["findKey"]);
    session.on(Outcome::KeyOpened(key(PinState::Set { retries: 8 })));
    session.apply(Intent::UseKey).unwrap();
    session.apply(Intent::EnterPin { pin: "205813".into() }).unwrap();
    assert_eq!(names(&session.on(Outcome::PinAccepted)), ["testSignIn"]);
}

#[test]
fn sign_in_failures_and_their_ways_forward() {
    let mut session = Session::default();
    session.apply(submit("ada@contoso.com")).unwrap();
    session.apply(Intent::SignIn).unwrap();
    session.on(Outcome::Failed { failure: Failure::SignInRefused { problem: SignInCause::PassAlreadyUsed }, cleanup: vec![] });
    assert!(matches!(session.step(), Step::Failed { ways_forward, .. } if ways_forward == &[WayForward::AskIt, WayForward::StartOver]));
    assert!(session.apply(Intent::Retry).is_err(), "no retry with a used pass");
    assert_eq!(names(&session.apply(Intent::StartOver).unwrap()), ["reset"]);
    assert_eq!(session.step(), &Step::default());

    session.apply(submit("ada@contoso.com")).unwrap();
    session.apply(Intent::SignIn).unwrap();
    session.on(Outcome::Failed { failure: Failure::DirectoryUnreachable, cleanup: vec![] });
    assert_eq!(names(&session.apply(Intent::Retry).unwrap()), ["beginSignIn"]);
    assert_eq!(names(&session.apply(Intent::Cancel).unwrap()), ["cancelSignIn"]);
    assert!(matches!(session.step(), Step::ReadyToSignIn { .. }));
}

#[test]
fn late_and_out_of_place_input_changes_nothing() {
    let mut session = at_key_found(PinState::Set { retries: 8 });
    let before = session.step().clone();
    assert_eq!(session.apply(Intent::Retry).unwrap_err(), NotNow { intent: "retry", step: "keyFound" });
    assert!(session.on(Outcome::PasskeyCreated).is_empty());
    assert!(session.on(Outcome::TestSignInPassed { sign_count: 1 }).is_empty());
    assert_eq!(session.step(), &before);
}

#[test]
fn a_session_signed_in_with_a_token_starts_by_finding_the_key() {
    let (session, effects) = Session::signed_in(PinPolicy::default(), None);
    assert_eq!(names(&effects), ["findKey"]);
    assert_eq!(session.step(), &Step::FindingKey { keys: 0, touch: false });
}

#[test]
fn steps_and_intents_cross_json_in_the_shape_the_ui_expects() {
    let step = Step::Welcome { typed: "ada".into(), problem: Some(AddressProblem::InvalidCharacter { character: ',' }) };
    assert_eq!(
        serde_json::to_value(&step).unwrap(),
        serde_json::json!({"step": "welcome", "typed": "ada", "problem": {"kind": "invalidCharacter", "character": ","}})
    );
    let step = Step::Failed { failure: Failure::KeyRemoved, cleanup: vec![Cleanup::PasskeyLeftOnKey], ways_forward: vec![WayForward::ReinsertKey] };
    assert_eq!(
        serde_json::to_value(&step).unwrap(),
        serde_json::json!({"step": "failed", "failure": {"kind": "keyRemoved"}, "cleanup": ["passkeyLeftOnKey"], "waysForward": ["reinsertKey"]})
    );
    let intent: Intent = serde_json::from_str(r#"{"intent":"enterPin","pin":"205813"}"#).unwrap();
    assert_eq!(intent, Intent::EnterPin { pin: SecretText::new("205813") });
    assert!(!format!("{intent:?}").contains("205813"));
}

mod any_input {
    use proptest::prelude::*;

    use super::*;

    fn intent() -> impl Strategy<Value = Intent> {
        prop_oneof![
            Just(submit("ada@contoso.com")),
            Just(Intent::ChangeWorkAddress),
            Just(Intent::SignIn),
            Just(Intent::UseKey),
            Just(Intent::EnterPin { pin: "205813".into() }),
            Just(Intent::ChoosePin { pin: "205813".into(), again: "205813".into() }),
            Just(Intent::Cancel),
            Just(Intent::NameKey { name: "k".into() }),
            Just(Intent::Retry),
            Just(Intent::RemoveRegistration),
            Just(Intent::StartOver),
        ]
    }

    fn outcome() -> impl Strategy<Value = Outcome> {
        prop_oneof![
            Just(Outcome::SignedIn),
            (0usize..3).prop_map(Outcome::KeysPresent),
            Just(Outcome::KeyRemoved),
            Just(Outcome::TouchNeeded),
            Just(Outcome::KeyOpened(key(PinState::Set { retries: 8 }))),
            Just(Outcome::PinAccepted),
            Just(Outcome::PinRefused(KeyError::PinInvalid { retries_left: 3 })),
            Just(Outcome::PasskeyCreated),
            Just(Outcome::RecreatingPasskey),
            Just(Outcome::Registered(registered())),
            Just(Outcome::TestSignInPassed { sign_count: 1 }),
            Just(Outcome::Failed { failure: Failure::NoTouch, cleanup: vec![] }),
            Just(Outcome::Failed { failure: Failure::KeyRemoved, cleanup: vec![] }),
        ]
    }

    proptest! {
        /// Whatever arrives in whatever order, the session never panics, every failure
        /// offers a way forward, and "done" is only reached through a registration.
        #[test]
        fn no_input_sequence_breaks_the_session(inputs in proptest::collection::vec(prop_oneof![intent().prop_map(Ok), outcome().prop_map(Err)], 0..60)) {
            let mut session = Session::default();
            for input in inputs {
                match input {
                    Ok(intent) => { let _ = session.apply(intent); }
                    Err(outcome) => { session.on(outcome); }
                }
                if let Step::Failed { ways_forward, .. } = session.step() {
                    prop_assert!(!ways_forward.is_empty());
                }
                if matches!(session.step(), Step::Done { .. }) {
                    prop_assert!(session.registered.is_some());
                }
            }
        }
    }
}
