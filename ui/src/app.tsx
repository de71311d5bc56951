import { useEffect, useState } from "preact/hooks";
import type { AppInfo, IdleWarning as IdleWarningEvent, Intent, Step } from "./generated/ipc";
import { IdleWarning } from "./components/idle-warning";
import { Layout } from "./components/layout";
import type { TouchKey } from "./components/screen";
import { ChangePin } from "./screens/change-pin";
import { CheckingPin } from "./screens/checking-pin";
import { ChoosePin } from "./screens/choose-pin";
import { CreatingPasskey } from "./screens/creating-passkey";
import { Done } from "./screens/done";
import { EnterPin } from "./screens/enter-pin";
import { Failed } from "./screens/failed";
import { FindingKey } from "./screens/finding-key";
import { KeyFound } from "./screens/key-found";
import { NamingKey } from "./screens/naming-key";
import { ReadyToSignIn } from "./screens/ready-to-sign-in";
import { Registering } from "./screens/registering";
import { RemovingRegistration } from "./screens/removing-registration";
import { SigningIn } from "./screens/signing-in";
import { TestSignIn } from "./screens/test-sign-in";
import { Welcome } from "./screens/welcome";
import { failure, unreachable } from "./words";

export type Backend = {
  sendIntent: (intent: Intent) => Promise<void>;
  currentStep: () => Promise<Step>;
  onStepChanged: (render: (step: Step) => void) => Promise<() => void>;
  /** Demo: touches the virtual key; rejects with a `CommandError`. */
  touchVirtualKey: () => Promise<void>;
  /** Kiosk: the person is still here. */
  stillHere: () => Promise<void>;
  onIdleWarning: (show: (warning: IdleWarningEvent) => void) => Promise<() => void>;
};

/** Kiosk: tell the Rust side about activity at most this often. */
export const STILL_HERE_EVERY_MS = 5000;

/** Renders whatever step the session is at; every button press goes back as an intent. */
export function App({ info, initial, backend }: { info: AppInfo; initial: Step; backend: Backend }) {
  const [step, setStep] = useState(initial);
  const idleSeconds = useIdleWarning(info.kiosk, backend);

  useEffect(() => {
    const unlisten = backend.onStepChanged(setStep);
    return () => void unlisten.then((stop) => stop());
  }, [backend]);

  // The steps an intent leads to arrive as events; if the intent could not even be
  // delivered, show where the session really is.
  const send = (intent: Intent) => void backend.sendIntent(intent).catch(() => backend.currentStep().then(setStep));
  const touchKey: TouchKey = info.demo?.virtualKey ? () => backend.touchVirtualKey() : null;

  return (
    <>
      <Layout mode={info.mode} inert={idleSeconds !== null}>
        <p class="visually-hidden" aria-live="polite">
          {announcement(step)}
        </p>
        <Screen key={step.step} step={step} send={send} info={info} touchKey={touchKey} />
      </Layout>
      {idleSeconds !== null && <IdleWarning secondsLeft={idleSeconds} stillHere={() => void backend.stillHere().catch(() => {})} />}
    </>
  );
}

/**
 * Kiosk: the seconds left before the app starts over (null while there is no warning),
 * and "still here" for any key press or pointer press, at most every few seconds.
 */
function useIdleWarning(kiosk: boolean, backend: Backend): number | null {
  const [secondsLeft, setSecondsLeft] = useState<number | null>(null);

  useEffect(() => {
    if (!kiosk) return;
    const unlisten = backend.onIdleWarning((warning) => setSecondsLeft(warning.secondsLeft));
    let last = -Infinity;
    const seen = () => {
      const now = Date.now();
      if (now - last < STILL_HERE_EVERY_MS) return;
      last = now;
      void backend.stillHere().catch(() => {});
    };
    window.addEventListener("keydown", seen, true);
    window.addEventListener("pointerdown", seen, true);
    return () => {
      window.removeEventListener("keydown", seen, true);
      window.removeEventListener("pointerdown", seen, true);
      void unlisten.then((stop) => stop());
    };
  }, [kiosk, backend]);

  return kiosk ? secondsLeft : null;
}

type ScreenArgs = { step: Step; send: (intent: Intent) => void; info: AppInfo; touchKey: TouchKey };

function Screen({ step, send, info, touchKey }: ScreenArgs) {
  switch (step.step) {
    case "welcome":
      return <Welcome step={step} send={send} demo={info.demo} />;
    case "readyToSignIn":
      return <ReadyToSignIn step={step} send={send} />;
    case "signingIn":
      return <SigningIn step={step} send={send} />;
    case "findingKey":
      return <FindingKey step={step} send={send} touchKey={touchKey} />;
    case "keyFound":
      return <KeyFound step={step} send={send} />;
    case "choosePin":
      return <ChoosePin step={step} send={send} />;
    case "enterPin":
      return <EnterPin step={step} send={send} />;
    case "changePin":
      return <ChangePin step={step} send={send} />;
    case "checkingPin":
      return <CheckingPin />;
    case "creatingPasskey":
      return <CreatingPasskey step={step} send={send} touchKey={touchKey} />;
    case "namingKey":
      return <NamingKey step={step} send={send} />;
    case "registering":
      return <Registering step={step} send={send} />;
    case "testSignIn":
      return <TestSignIn step={step} send={send} touchKey={touchKey} />;
    case "done":
      return <Done step={step} send={send} kiosk={info.kiosk} />;
    case "failed":
      return <Failed step={step} send={send} />;
    case "removingRegistration":
      return <RemovingRegistration />;
    default:
      return unreachable(step);
  }
}

/** What a screen reader hears when the step changes (the screen's heading gets focus too). */
export function announcement(step: Step): string {
  switch (step.step) {
    case "welcome":
      return "Step 1: enter your work email address.";
    case "readyToSignIn":
      return `Next, sign in as ${step.account}.`;
    case "signingIn":
      return step.url === null
        ? "Opening the sign-in page in a new window."
        : `Sign in as ${step.account} in the window that opened.`;
    case "findingKey":
      if (step.keys === 0) return "Insert your security key.";
      if (step.keys === 1) return "Reading your security key.";
      return step.touch
        ? "Several keys are plugged in. Touch the one you want to set up."
        : "Several keys are plugged in.";
    case "keyFound":
      return `Found your security key: ${step.key.model}.`;
    case "choosePin":
      return step.problem ? "The PIN was not set. Choose a PIN again." : "Choose a PIN for your key.";
    case "enterPin":
      return step.problem ? "Type your key's PIN again." : "Type your key's PIN.";
    case "changePin":
      return step.problem ? "The PIN was not changed. Try again." : "Choose a new PIN for your key.";
    case "checkingPin":
      return "Checking your PIN.";
    case "creatingPasskey":
      return step.touch ? "Touch your security key now." : "Getting your key ready.";
    case "namingKey":
      return step.problem ? "The name was not accepted. Try another." : `Give your key a name. Suggested: ${step.suggested}.`;
    case "registering":
      return `Registering ${step.name} with your organisation.`;
    case "testSignIn":
      return step.touch ? "One more touch to check your key works. Touch your security key now." : "Getting your key ready for a test sign-in.";
    case "done":
      return "Done. Your security key is ready.";
    case "failed":
      return `${failure(step.failure).title}.`;
    case "removingRegistration":
      return "Taking the registration back.";
    default:
      return unreachable(step);
  }
}
