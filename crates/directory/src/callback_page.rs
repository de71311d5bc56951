//! The page the browser shows after the sign-in page sends it back to tap2key: one plain
//! sentence about what happened and what to do, self-contained (no script, no external
//! files), and never anything from the request (nothing to reflect, nothing to leak).

use crate::{DirectoryError, SignInProblem, Tokens};

/// The whole HTML page for how the sign-in ended.
pub(crate) fn page(outcome: &Result<Tokens, DirectoryError>) -> String {
    let (title, message) = words(outcome);
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>tap2key</title>
<style>body{{font-family:"Segoe UI",Cantarell,"DejaVu Sans",system-ui,sans-serif;font-size:20px;line-height:1.45;color:#14213d;background:#f6f8fc;margin:0}}main{{max-width:30em;margin:12vh auto;padding:0 1em}}h1{{font-size:1.6em}}</style>
</head><body><main><h1>{title}</h1><p>{message} You can close this window and go back to tap2key.</p></main></body></html>"#
    )
}

fn words(outcome: &Result<Tokens, DirectoryError>) -> (&'static str, &'static str) {
    let problem = "Sign-in not finished";
    match outcome {
        Ok(_) => ("You're signed in", "You're signed in."),
        Err(DirectoryError::SignIn(reason)) => (
            problem,
            match reason {
                SignInProblem::TapExpired => "Your Temporary Access Pass has expired. IT can give you a new one.",
                SignInProblem::TapNotYetValid => "Your Temporary Access Pass is not valid yet. Try again at the time IT gave you.",
                SignInProblem::TapUsed => "This one-time Temporary Access Pass was already used. IT can give you a new one.",
                SignInProblem::TapMissing => "There is no Temporary Access Pass for this account. IT can give you one.",
                SignInProblem::Locked => "Too many wrong passes were typed, so sign-in is paused for this account. IT can help.",
                SignInProblem::Denied => "The sign-in was not completed.",
            },
        ),
        Err(DirectoryError::SignInTampered) => (problem, "This sign-in could not be checked, so tap2key stopped it to keep your account safe."),
        Err(DirectoryError::Unreachable | DirectoryError::Unavailable { .. }) => (problem, "tap2key could not reach the directory to finish signing you in."),
        Err(_) => (problem, "tap2key could not finish signing you in."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccessToken;

    #[test]
    fn plain_words_for_each_ending() {
        let signed_in = Ok(Tokens { access_token: AccessToken::new("t"), expires_at: None, account: None });
        assert!(page(&signed_in).contains("You're signed in. You can close this window and go back to tap2key."));
        assert!(page(&Err(DirectoryError::SignIn(SignInProblem::TapUsed))).contains("already used"));
        assert!(page(&Err(DirectoryError::SignInTampered)).contains("keep your account safe"));
        assert!(!page(&Err(DirectoryError::Unreachable)).contains("<script"));
    }
}
