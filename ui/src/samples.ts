// One of each step, with believable data: for tests, and for looking at every screen.
import type { Failure, KeyDescription, PinRules, Step } from "./generated/ipc";

export const sampleKey: KeyDescription = {
  model: "YubiKey 5 NFC",
  aaguid: "2fc0579f-8113-47ea-b116-bb5a8db9202a",
  pin: { state: "notSet" },
  minPinLength: 4,
  freePasskeySlots: 25,
};

export const sampleRules: PinRules = { minLength: 6, maxLength: 63, refuseObvious: true };

/** Every failure kind (and every sign-in cause), with the ways forward Rust gives it. */
export const everyFailure: Failure[] = [
  { kind: "signInRefused", problem: "passExpired" },
  { kind: "signInRefused", problem: "passNotYetValid" },
  { kind: "signInRefused", problem: "passAlreadyUsed" },
  { kind: "signInRefused", problem: "noPass" },
  { kind: "signInRefused", problem: "accountLocked" },
  { kind: "signInRefused", problem: "denied" },
  { kind: "signInNotTrusted" },
  { kind: "directoryUnreachable" },
  { kind: "directoryUnavailable" },
  { kind: "sessionExpired" },
  { kind: "selfServiceNotSupported" },
  { kind: "directoryRefused", message: "Self-service passkey registration is turned off for this tenant." },
  { kind: "notPermitted", message: "The signed-in account lacks the role needed to register keys." },
  { kind: "alreadyRegistered" },
  { kind: "modelNotAllowed", model: "Cheap Key 1", message: "This authenticator model is not in the allowed list." },
  { kind: "keyRemoved" },
  { kind: "pinBlocked" },
  { kind: "pinTriesPaused" },
  { kind: "noTouch" },
  { kind: "cancelled" },
  { kind: "keyFull" },
  { kind: "keyNotSuitable" },
  { kind: "keyTrouble" },
  { kind: "testSignInFailed", message: "The assertion's signature did not verify." },
];

/** One step of each kind, named for the preview. */
export const sampleSteps: Record<string, Step> = {
  welcome: { step: "welcome", typed: "", problem: null },
  welcomeProblem: { step: "welcome", typed: "ada", problem: { kind: "missingAt" } },
  readyToSignIn: { step: "readyToSignIn", account: "ada.lovelace@contoso.com" },
  signingIn: { step: "signingIn", account: "ada.lovelace@contoso.com", url: null },
  signingInOpen: {
    step: "signingIn",
    account: "ada.lovelace@contoso.com",
    url: "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/authorize?client_id=x",
  },
  findingKey: { step: "findingKey", keys: 0, touch: false },
  findingOneKey: { step: "findingKey", keys: 1, touch: false },
  findingKeys: { step: "findingKey", keys: 2, touch: false },
  findingKeysTouch: { step: "findingKey", keys: 2, touch: true },
  keyFound: { step: "keyFound", key: sampleKey },
  keyFoundSet: { step: "keyFound", key: { ...sampleKey, pin: { state: "set", retries: 8 }, freePasskeySlots: 1 } },
  choosePin: { step: "choosePin", key: sampleKey, rules: sampleRules, problem: null },
  choosePinMismatch: { step: "choosePin", key: sampleKey, rules: sampleRules, problem: { kind: "mismatch" } },
  enterPin: { step: "enterPin", key: { ...sampleKey, pin: { state: "set", retries: 8 } }, problem: null },
  enterPinWrong: {
    step: "enterPin",
    key: { ...sampleKey, pin: { state: "set", retries: 2 } },
    problem: { kind: "wrong", retriesLeft: 2 },
  },
  changePin: {
    step: "changePin",
    key: { ...sampleKey, pin: { state: "changeRequired", retries: 8 } },
    rules: sampleRules,
    problem: null,
  },
  changePinWrong: {
    step: "changePin",
    key: { ...sampleKey, pin: { state: "changeRequired", retries: 7 } },
    rules: sampleRules,
    problem: { kind: "wrong", retriesLeft: 7 },
  },
  checkingPin: { step: "checkingPin" },
  creatingPasskey: { step: "creatingPasskey", touch: false },
  creatingPasskeyTouch: { step: "creatingPasskey", touch: true },
  namingKey: { step: "namingKey", suggested: "YubiKey 5 NFC", problem: null },
  namingKeyEmpty: { step: "namingKey", suggested: "YubiKey 5 NFC", problem: { kind: "empty" } },
  registering: { step: "registering", name: "YubiKey 5 NFC" },
  testSignIn: { step: "testSignIn", touch: false },
  testSignInTouch: { step: "testSignIn", touch: true },
  done: {
    step: "done",
    key: {
      methodId: "m-1",
      name: "YubiKey 5 NFC",
      aaguid: sampleKey.aaguid,
      model: "YubiKey 5 NFC",
      signCount: 1,
    },
  },
  failedTest: {
    step: "failed",
    failure: { kind: "testSignInFailed", message: "The assertion's signature did not verify." },
    cleanup: [],
    waysForward: ["retry", "removeRegistration"],
  },
  failedRemoved: {
    step: "failed",
    failure: { kind: "directoryRefused", message: "Self-service passkey registration is turned off for this tenant." },
    cleanup: ["passkeyLeftOnKey"],
    waysForward: ["retry", "askIt"],
  },
  failedKeyRemoved: {
    step: "failed",
    failure: { kind: "keyRemoved" },
    cleanup: ["passkeyRemovedFromKey"],
    waysForward: ["reinsertKey"],
  },
  failedPass: {
    step: "failed",
    failure: { kind: "signInRefused", problem: "passAlreadyUsed" },
    cleanup: [],
    waysForward: ["askIt", "startOver"],
  },
  removingRegistration: { step: "removingRegistration" },
};
