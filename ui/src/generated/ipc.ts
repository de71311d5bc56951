// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit.

/** The event carrying each new `Step` to the main window. */
export const STEP_CHANGED = "step-changed";

/**
 * Where one person is in the onboarding job.
 *
 * Later steps (finding the key, PIN, creating and registering the passkey, the test
 * sign-in) join this enum as the flow grows; a UI that renders a `Step` it does not
 * know yet shows nothing rather than guessing.
 */
export type Step = { "step": "welcome", typed: string, problem: AddressProblem | null, } | { "step": "readyToSignIn", account: WorkAddress, };

export type Intent = { "intent": "submitWorkAddress", address: string, } | { "intent": "changeWorkAddress" };

/**
 * A syntactically valid work address, with its domain in lower case.
 *
 * The part before the `@` keeps the case the person typed: directories match it without
 * regard to case, and people recognise their name better the way they wrote it.
 */
export type WorkAddress = string;

/**
 * Why a typed address cannot be a work address. The UI turns each into plain words.
 */
export type AddressProblem = { "kind": "empty" } | { "kind": "missingAt" } | { "kind": "moreThanOneAt" } | { "kind": "missingName" } | { "kind": "missingDomain" } | { "kind": "incompleteDomain" } | { "kind": "invalidCharacter", character: string, } | { "kind": "misplacedDot" } | { "kind": "invalidDomain" } | { "kind": "tooLong" };

/**
 * What the window needs to know about the app it runs in.
 */
export type AppInfo = { version: string, mode: Mode, };

export type Mode = "standard" | "demo";

/**
 * Why a command failed, as the window receives it.
 */
export type CommandError = { "kind": "notNow", intent: string, step: string, };
