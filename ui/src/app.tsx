import { useEffect, useState } from "preact/hooks";
import type { AppInfo, Intent, Step } from "./generated/ipc";
import { Layout } from "./components/layout";
import { ReadyToSignIn } from "./screens/ready-to-sign-in";
import { Welcome } from "./screens/welcome";

export type Backend = {
  sendIntent: (intent: Intent) => Promise<void>;
  currentStep: () => Promise<Step>;
  onStepChanged: (render: (step: Step) => void) => Promise<() => void>;
};

/** Renders whatever step the session is at; every button press goes back as an intent. */
export function App({ info, initial, backend }: { info: AppInfo; initial: Step; backend: Backend }) {
  const [step, setStep] = useState(initial);

  useEffect(() => {
    const unlisten = backend.onStepChanged(setStep);
    return () => void unlisten.then((stop) => stop());
  }, [backend]);

  // The steps an intent leads to arrive as events; if the intent could not even be
  // delivered, show where the session really is.
  const send = (intent: Intent) => void backend.sendIntent(intent).catch(() => backend.currentStep().then(setStep));

  return (
    <Layout mode={info.mode}>
      <p class="visually-hidden" aria-live="polite">
        {announcement(step)}
      </p>
      <Screen key={step.step} step={step} send={send} />
    </Layout>
  );
}

function Screen({ step, send }: { step: Step; send: (intent: Intent) => void }) {
  switch (step.step) {
    case "welcome":
      return <Welcome step={step} send={send} />;
    case "readyToSignIn":
      return <ReadyToSignIn step={step} send={send} />;
    default:
      // The screens for the rest of the flow come with the wizard; until then a step
      // without a screen shows nothing rather than guessing.
      return null;
  }
}

function announcement(step: Step): string {
  switch (step.step) {
    case "welcome":
      return "Step 1: enter your work email address.";
    case "readyToSignIn":
      return `Next, sign in as ${step.account}.`;
    default:
      return "";
  }
}
