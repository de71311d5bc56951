// What the app says to people. The Rust side decides what happened; this file decides how
// to say it. Every kind the Rust side can send must have words here, or the build fails.
import type {
  AddressProblem,
  Cleanup,
  CommandError,
  Failure,
  NameProblem,
  PinProblem,
  PinState,
  SignInCause,
  WayForward,
} from "./generated/ipc";

export function addressProblem(problem: AddressProblem): string {
  switch (problem.kind) {
    case "empty":
      return "Type your work email address to begin.";
    case "missingAt":
      return "Add the @ and your company's domain, like name@company.com.";
    case "moreThanOneAt":
      return "A work address has only one @. Check for an extra one.";
    case "missingName":
      return "Add your name before the @, like name@company.com.";
    case "missingDomain":
      return "Add your company's domain after the @, like name@company.com.";
    case "incompleteDomain":
      return "The part after the @ needs a dot, like company.com.";
    case "invalidCharacter":
      return problem.character === " "
        ? "Remove the space: work addresses have none."
        : `Work addresses cannot contain “${problem.character}”. Check for a typing mistake.`;
    case "misplacedDot":
      return "A dot cannot start or end your name, or follow another dot.";
    case "invalidDomain":
      return "The part after the @ is not a valid company domain. Check for a typing mistake.";
    case "tooLong":
      return "That address is too long to be a work address. Check for a typing mistake.";
    default:
      return unreachable(problem);
  }
}

/** "1 try", "3 tries". */
export function tries(count: number): string {
  return count === 1 ? "1 try" : `${count} tries`;
}

/** "1 second", "20 seconds". */
export function seconds(count: number): string {
  return count === 1 ? "1 second" : `${count} seconds`;
}

/**
 * Which PIN a problem is about: the one the key has now (`current`), or one being chosen
 * (`new`). The same kind reads differently for each.
 */
export type PinField = "current" | "new";

export function pinProblem(problem: PinProblem, field: PinField = "new"): string {
  switch (problem.kind) {
    case "empty":
      return field === "current" ? "Type the PIN your key has now." : "Type the PIN you want.";
    case "tooShort":
      return field === "current"
        ? `A PIN has at least ${problem.min} characters. Check for a missing one.`
        : `Use at least ${problem.min} characters.`;
    case "tooLong":
      return field === "current"
        ? "That is longer than any PIN can be. Check for a typing mistake."
        : `That PIN is too long. Use at most ${problem.max} characters.`;
    case "tooObvious":
      return "That PIN is too easy to guess. Avoid repeats like 000000 and runs like 123456.";
    case "mismatch":
      return "The two PINs are not the same. Type the same PIN in both boxes.";
    case "sameAsCurrent":
      return "Your new PIN must be different from the one you have now.";
    case "wrong":
      return problem.retriesLeft === 0
        ? "That PIN isn't right. No tries are left."
        : `That PIN isn't right. ${tries(problem.retriesLeft)} left before the key locks.`;
    case "refusedByKey":
      return "Your security key did not accept that PIN. Try a different one.";
    default:
      return unreachable(problem);
  }
}

/** The key's PIN, as the "key found" screen says it. */
export function pinState(pin: PinState): string {
  switch (pin.state) {
    case "notSet":
      return "It has no PIN yet. You'll choose one next.";
    case "set":
      return `It has a PIN. You'll type it next (${tries(pin.retries)} left before the key locks).`;
    case "changeRequired":
      return "It has a PIN that must be changed. You'll type it, then choose a new one.";
    case "reinsertNeeded":
      return "Its PIN was typed wrong too often in a row. Unplug the key and plug it back in before the next try.";
    case "blocked":
      return "Its PIN is blocked after too many wrong tries. Only a reset, which wipes the key, can unblock it.";
    default:
      return unreachable(pin);
  }
}

export function nameProblem(problem: NameProblem): string {
  switch (problem.kind) {
    case "empty":
      return "Give your key a name, like “Blue key” or “Keyring”.";
    case "tooLong":
      return `Use at most ${problem.max} characters.`;
    default:
      return unreachable(problem);
  }
}

export function commandError(error: CommandError): string {
  switch (error.kind) {
    case "noVirtualKey":
      return "There is no on-screen key to touch. Touch your real security key instead.";
    default:
      return unreachable(error.kind);
  }
}

/** A failure in words: what happened (the title) and why, in a sentence or two. */
export type FailureWords = { title: string; explanation: string };

export function failure(failure: Failure): FailureWords {
  switch (failure.kind) {
    case "signInRefused":
      return signInCause(failure.problem);
    case "signInNotTrusted":
      return {
        title: "The sign-in could not be trusted",
        explanation: "The answer from the sign-in page did not match what we asked for, so we ignored it. Nothing was set up.",
      };
    case "directoryUnreachable":
      return {
        title: "We can't reach your organisation",
        explanation: "Check that this computer is connected to the internet, by cable or Wi-Fi.",
      };
    case "directoryUnavailable":
      return {
        title: "Your organisation's service is busy",
        explanation: "It could not answer just now. Wait a minute, then try again.",
      };
    case "sessionExpired":
      return {
        title: "Your sign-in has run out",
        explanation: "For safety, a sign-in only lasts a short time. Sign in again to carry on where you were.",
      };
    case "selfServiceNotSupported":
      return {
        title: "You can't set up a key yourself here yet",
        explanation:
          "Microsoft does not yet let apps register security keys directly. Your organisation needs tap2key's onboarding service for this.",
      };
    case "directoryRefused":
      return {
        title: "Your organisation said no",
        explanation: "It did not accept the request to set up your key.",
      };
    case "notPermitted":
      return {
        title: "Your account may not do this",
        explanation: "Your organisation says this account is not allowed to set up security keys. Trying again won't help.",
      };
    case "alreadyRegistered":
      return {
        title: "This key is already set up for you",
        explanation: "It is registered to your account already, so you can sign in with it today. Nothing was changed.",
      };
    case "modelNotAllowed":
      return {
        title: "Your organisation doesn't allow this key",
        explanation: `“${failure.model}” is not on your organisation's list of allowed security keys.`,
      };
    case "keyRemoved":
      return {
        title: "Your security key was unplugged",
        explanation: "It was taken out while we were still using it.",
      };
    case "pinBlocked":
      return {
        title: "This key's PIN is blocked",
        explanation: "The wrong PIN was typed too many times. Only a reset, which wipes the key, makes it usable again.",
      };
    case "pinTriesPaused":
      return {
        title: "Too many wrong PINs in a row",
        explanation: "For safety, the key takes no more tries until it is unplugged and plugged back in.",
      };
    case "noTouch":
      return {
        title: "The key wasn't touched in time",
        explanation: "It waits about 30 seconds for a touch, then gives up. Nothing was changed.",
      };
    case "cancelled":
      return {
        title: "Stopped",
        explanation: "The key stopped waiting for a touch. Nothing was changed.",
      };
    case "keyFull":
      return {
        title: "Your security key is full",
        explanation: "It has no room for another passkey.",
      };
    case "keyNotSuitable":
      return {
        title: "This key can't be used here",
        explanation: "It cannot do what signing in to your organisation needs.",
      };
    case "keyTrouble":
      return {
        title: "Something went wrong with the key",
        explanation: "It gave an answer we did not expect.",
      };
    case "testSignInFailed":
      return {
        title: "The test sign-in didn't work",
        explanation: "Your key is registered, but signing in with it did not work.",
      };
    default:
      return unreachable(failure);
  }
}

function signInCause(cause: SignInCause): FailureWords {
  switch (cause) {
    case "passExpired":
      return {
        title: "Your Temporary Access Pass has expired",
        explanation: "A pass works only for the time IT set, and that time is over.",
      };
    case "passNotYetValid":
      return {
        title: "Your Temporary Access Pass doesn't work yet",
        explanation: "It starts working at a time IT set. Try again once that time has come.",
      };
    case "passAlreadyUsed":
      return {
        title: "This Temporary Access Pass was used already",
        explanation: "It was made to work only once.",
      };
    case "noPass":
      return {
        title: "Your account has no Temporary Access Pass",
        explanation: "The sign-in page found no pass for this account.",
      };
    case "accountLocked":
      return {
        title: "Your account is locked",
        explanation: "The sign-in page did not let you in because the account is locked.",
      };
    case "denied":
      return {
        title: "The sign-in was refused",
        explanation: "The sign-in page did not let you in.",
      };
    default:
      return unreachable(cause);
  }
}

/** What to tell IT, for a failure only IT can fix. */
export function askIt(failure: Failure): string {
  switch (failure.kind) {
    case "signInRefused":
      switch (failure.problem) {
        case "passExpired":
        case "passAlreadyUsed":
          return "Ask IT for a new Temporary Access Pass.";
        case "passNotYetValid":
          return "Ask IT from when your Temporary Access Pass works.";
        case "noPass":
          return "Ask IT to give you a Temporary Access Pass.";
        case "accountLocked":
          return "Ask IT to unlock your account.";
        case "denied":
          return "Ask IT to check your account and your Temporary Access Pass.";
        default:
          return unreachable(failure.problem);
      }
    case "selfServiceNotSupported":
      return "Show IT this screen. IT: set up the tap2key onboarding service, see docs/entra.md, and point this app at it.";
    case "directoryRefused":
      return "Show IT this screen, and ask them to let you set up your key.";
    case "notPermitted":
      return "Show IT this screen, and ask them to allow your account to set up a security key.";
    case "modelNotAllowed":
      return "Ask IT which security keys are allowed, or for one that is.";
    case "pinBlocked":
      return "Ask IT to reset this key or to give you another one.";
    case "keyFull":
      return "Ask IT to make room on this key or to give you another one.";
    case "keyNotSuitable":
      return "Ask IT for a security key that works with your organisation.";
    case "signInNotTrusted":
    case "directoryUnreachable":
    case "directoryUnavailable":
    case "sessionExpired":
    case "alreadyRegistered":
    case "keyRemoved":
    case "pinTriesPaused":
    case "noTouch":
    case "cancelled":
    case "keyTrouble":
    case "testSignInFailed":
      // Not sent with these today; if it ever is, a general sentence still helps.
      return "Ask IT for help, and tell them what this screen says.";
    default:
      return unreachable(failure);
  }
}

/** The failure's own message from the directory, shown as a quote, where there is one. */
export function directoryMessage(failure: Failure): string | null {
  switch (failure.kind) {
    case "directoryRefused":
    case "notPermitted":
    case "modelNotAllowed":
    case "testSignInFailed":
      return failure.message.trim() || null;
    default:
      return null;
  }
}

export function cleanup(done: Cleanup): string {
  switch (done) {
    case "passkeyRemovedFromKey":
      return "We removed the unused passkey from your key.";
    case "passkeyLeftOnKey":
      return "The unused passkey could not be removed because the key was unplugged. It is harmless, and resetting the key removes it.";
    case "registrationRemoved":
      return "We took the registration back.";
    default:
      return unreachable(done);
  }
}

/** A way forward: a button's label, or an instruction to follow. */
export function wayForward(way: WayForward, failed: Failure): string {
  switch (way) {
    case "retry":
      return "Try again";
    case "signInAgain":
      return "Sign in again";
    case "startOver":
      return "Start over";
    case "removeRegistration":
      return "Remove this registration";
    case "reinsertKey":
      return "Unplug your key and plug it back in. We'll carry on by ourselves.";
    case "useAnotherKey":
      return "Unplug this key and insert another one.";
    case "askIt":
      return askIt(failed);
    default:
      return unreachable(way);
  }
}

export function unreachable(value: never): never {
  throw new Error(`no words for ${JSON.stringify(value)}`);
}
