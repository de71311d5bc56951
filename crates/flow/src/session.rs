//! One person's onboarding session: the current step and the transitions between steps.

use std::fmt;

use crate::{intent::Intent, step::Step, work_address::WorkAddress};

#[derive(Debug, Default)]
pub struct Session {
    step: Step,
}

/// An intent that makes no sense in the current step, such as a double-clicked button
/// arriving after the screen already moved on. The session stays where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotNow {
    pub intent: &'static str,
    pub step: &'static str,
}

impl Session {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn step(&self) -> &Step {
        &self.step
    }

    pub fn apply(&mut self, intent: Intent) -> Result<&Step, NotNow> {
        let next = match (&self.step, intent) {
            (Step::Welcome { .. }, Intent::SubmitWorkAddress { address }) => match WorkAddress::parse(&address) {
                Ok(account) => Step::ReadyToSignIn { account },
                Err(problem) => Step::Welcome { typed: address, problem: Some(problem) },
            },
            (Step::ReadyToSignIn { account }, Intent::ChangeWorkAddress) => {
                Step::Welcome { typed: account.to_string(), problem: None }
            }
            (step, intent) => return Err(NotNow { intent: intent.name(), step: step.name() }),
        };
        self.step = next;
        Ok(&self.step)
    }
}

impl fmt::Display for NotNow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not possible while at {}", self.intent, self.step)
    }
}

impl std::error::Error for NotNow {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AddressProblem;

    fn submit(address: &str) -> Intent {
        Intent::SubmitWorkAddress { address: address.into() }
    }

    #[test]
    fn starts_at_an_empty_welcome() {
        assert_eq!(Session::new().step(), &Step::Welcome { typed: String::new(), problem: None });
    }

    #[test]
    fn a_valid_address_moves_on_and_a_bad_one_stays_with_its_problem() {
        let mut session = Session::new();
        let step = session.apply(submit("ada")).unwrap().clone();
        assert_eq!(step, Step::Welcome { typed: "ada".into(), problem: Some(AddressProblem::MissingAt) });

        let step = session.apply(submit(" Ada@Contoso.com ")).unwrap().clone();
        assert_eq!(step, Step::ReadyToSignIn { account: WorkAddress::parse("Ada@contoso.com").unwrap() });
    }

    #[test]
    fn changing_the_address_goes_back_with_it_filled_in() {
        let mut session = Session::new();
        session.apply(submit("ada@contoso.com")).unwrap();
        let step = session.apply(Intent::ChangeWorkAddress).unwrap();
        assert_eq!(step, &Step::Welcome { typed: "ada@contoso.com".into(), problem: None });
    }

    #[test]
    fn an_intent_out_of_place_changes_nothing() {
        let mut session = Session::new();
        assert_eq!(
            session.apply(Intent::ChangeWorkAddress),
            Err(NotNow { intent: "changeWorkAddress", step: "welcome" })
        );
        session.apply(submit("ada@contoso.com")).unwrap();
        let before = session.step().clone();
        assert!(session.apply(submit("eve@contoso.com")).is_err());
        assert_eq!(session.step(), &before);
    }

    #[test]
    fn steps_and_intents_cross_json_in_the_shape_the_ui_expects() {
        let step = Step::Welcome { typed: "ada".into(), problem: Some(AddressProblem::InvalidCharacter { character: ',' }) };
        assert_eq!(
            serde_json::to_value(&step).unwrap(),
            serde_json::json!({"step": "welcome", "typed": "ada", "problem": {"kind": "invalidCharacter", "character": ","}})
        );
        let intent: Intent = serde_json::from_str(r#"{"intent":"submitWorkAddress","address":"a@b.co"}"#).unwrap();
        assert_eq!(intent, submit("a@b.co"));
    }
}
