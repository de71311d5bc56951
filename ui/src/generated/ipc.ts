// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit.

/** The event carrying each new `Step` to the main window. */
export const STEP_CHANGED = "step-changed";

/** The event warning that a kiosk is about to start over (`IdleWarning`). */
export const IDLE_WARNING = "idle-warning";

/**
 * Where one person is in the onboarding job.
 */
export type Step = { "step": "welcome", typed: string, problem: AddressProblem | null, } | { "step": "readyToSignIn", account: WorkAddress, } | { "step": "signingIn", account: WorkAddress, url: string | null, } | { "step": "findingKey", keys: number, touch: boolean, } | { "step": "keyFound", key: KeyDescription, } | { "step": "choosePin", key: KeyDescription, rules: PinRules, problem: PinProblem | null, } | { "step": "enterPin", key: KeyDescription, problem: PinProblem | null, } | { "step": "changePin", key: KeyDescription, rules: PinRules, problem: PinProblem | null, } | { "step": "checkingPin" } | { "step": "creatingPasskey", touch: boolean, } | { "step": "namingKey", suggested: string, problem: NameProblem | null, } | { "step": "registering", name: string, } | { "step": "testSignIn", touch: boolean, } | { "step": "done", key: RegisteredKey, } | { "step": "failed", failure: Failure, cleanup: Array<Cleanup>, waysForward: Array<WayForward>, } | { "step": "removingRegistration" };

/**
 * What the person asks for. PINs arrive as `SecretText`: zeroized, never printed, never
 * sent back out.
 */
export type Intent = { "intent": "submitWorkAddress", address: string, } | { "intent": "changeWorkAddress" } | { "intent": "signIn" } | { "intent": "useKey" } | { "intent": "choosePin", pin: string, again: string, } | { "intent": "enterPin", pin: string, } | { "intent": "changePin", current: string, new: string, again: string, } | { "intent": "cancel" } | { "intent": "nameKey", name: string, } | { "intent": "retry" } | { "intent": "removeRegistration" } | { "intent": "startOver" };

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
 * What the "key found" screen shows.
 */
export type KeyDescription = { 
/**
 * The model's name, or "Security key" when the model is not known.
 */
model: string, 
/**
 * The model's AAGUID, as the directory lists it.
 */
aaguid: string, pin: PinState, 
/**
 * The shortest PIN this key accepts, in characters.
 */
minPinLength: number, 
/**
 * How many more passkeys fit on the key, when it says.
 */
freePasskeySlots: number | null, };

export type PinState = { "state": "notSet" } | { "state": "set", retries: number, } | { "state": "changeRequired", retries: number, } | { "state": "reinsertNeeded", retries: number, } | { "state": "blocked" };

/**
 * The rules in force for one key, as the PIN screen shows them while the person types.
 */
export type PinRules = { minLength: number, 
/**
 * In bytes of UTF-8 (what the key stores); for digits and Latin letters, characters.
 */
maxLength: number, refuseObvious: boolean, };

/**
 * Why a PIN was not accepted.
 */
export type PinProblem = { "kind": "empty" } | { "kind": "tooShort", min: number, } | { "kind": "tooLong", max: number, } | { "kind": "tooObvious" } | { "kind": "mismatch" } | { "kind": "sameAsCurrent" } | { "kind": "wrong", retriesLeft: number, } | { "kind": "refusedByKey" };

export type NameProblem = { "kind": "empty" } | { "kind": "tooLong", max: number, };

/**
 * The passkey as the directory registered it.
 */
export type RegisteredKey = { 
/**
 * The directory's id of the new authentication method.
 */
methodId: string, name: string, aaguid: string | null, model: string | null, 
/**
 * The signature counter the directory saw in the test sign-in.
 */
signCount: number, };

export type Failure = { "kind": "signInRefused", problem: SignInCause, } | { "kind": "signInNotTrusted" } | { "kind": "directoryUnreachable" } | { "kind": "directoryUnavailable" } | { "kind": "sessionExpired" } | { "kind": "selfServiceNotSupported" } | { "kind": "directoryRefused", message: string, } | { "kind": "notPermitted", message: string, } | { "kind": "alreadyRegistered" } | { "kind": "modelNotAllowed", model: string, message: string, } | { "kind": "keyRemoved" } | { "kind": "pinBlocked" } | { "kind": "pinTriesPaused" } | { "kind": "noTouch" } | { "kind": "cancelled" } | { "kind": "keyFull" } | { "kind": "keyNotSuitable" } | { "kind": "keyTrouble" } | { "kind": "testSignInFailed", message: string, };

/**
 * Why the sign-in page sent the person back.
 */
export type SignInCause = "passExpired" | "passNotYetValid" | "passAlreadyUsed" | "noPass" | "accountLocked" | "denied";

/**
 * What the person can do after a failure; the UI shows one button (or one instruction)
 * for each, in this order.
 */
export type WayForward = "retry" | "reinsertKey" | "signInAgain" | "useAnotherKey" | "askIt" | "removeRegistration" | "startOver";

/**
 * What the flow tidied up (or could not) after a failure, so nothing is left half done.
 */
export type Cleanup = "passkeyRemovedFromKey" | "passkeyLeftOnKey" | "registrationRemoved";

/**
 * What the window needs to know about the app it runs in.
 */
export type AppInfo = { version: string, mode: Mode, 
/**
 * Set in demo mode: the account and pass "IT" hands over.
 */
demo: DemoInfo | null, 
/**
 * A walk-up kiosk: the app starts over for the next person after "done", after a
 * failure left alone, or when nobody touches it for a while.
 */
kiosk: boolean, };

export type Mode = "standard" | "demo";

/**
 * The demo's account, handed over the way IT would: the address and its Temporary Access
 * Pass (a pass for a throwaway account in a directory that lives as long as the app).
 */
export type DemoInfo = { account: string, pass: string, 
/**
 * No real key was plugged in: a virtual one is, and the window shows a button that
 * touches it.
 */
virtualKey: boolean, };

/**
 * The kiosk is about to start over: `seconds_left`, or `None` when the person came back.
 */
export type IdleWarning = { secondsLeft: number | null, };

/**
 * Why a command failed, as the window receives it.
 */
export type CommandError = { "kind": "noVirtualKey" };
