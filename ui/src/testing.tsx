// Test helpers: a fake Rust side that records what the window sends, and steps to render.
import { render } from "@testing-library/preact";
import { App, type Backend } from "./app";
import type { AppInfo, IdleWarning, Intent, KeyDescription, Step } from "./generated/ipc";

export const welcome: Step = { step: "welcome", typed: "", problem: null };
export const standard: AppInfo = { version: "0.1.0", mode: "standard", demo: null, kiosk: false };
export const demo: AppInfo = {
  version: "0.1.0",
  mode: "demo",
  demo: { account: "ada@demo.tap2key.test", pass: "Kx7!pQ2#mW9z", virtualKey: true },
  kiosk: false,
};
export const kiosk: AppInfo = { ...standard, kiosk: true };

export const blankKey: KeyDescription = {
  model: "Virtual Key 2.1",
  aaguid: "6f3a1c2e-0000-4000-8000-000000000001",
  pin: { state: "notSet" },
  minPinLength: 4,
  freePasskeySlots: 25,
};

export type FakeBackend = Backend & {
  sent: Intent[];
  /** The Rust side pushes a step, as the `step-changed` event does. */
  push: (step: Step) => void;
  /** The Rust side sends an idle warning. */
  warn: (warning: IdleWarning) => void;
  touches: number;
  stillHereCalls: number;
};

/** A backend that answers each intent with `answer`'s step (as an event), and records. */
export function fakeBackend(answer: (intent: Intent) => Step | null = () => null): FakeBackend {
  let listener: (step: Step) => void = () => {};
  let idle: (warning: IdleWarning) => void = () => {};
  const fake: FakeBackend = {
    sent: [],
    touches: 0,
    stillHereCalls: 0,
    push: (step) => listener(step),
    warn: (warning) => idle(warning),
    sendIntent: async (intent) => {
      fake.sent.push(intent);
      const next = answer(intent);
      if (next) listener(next);
    },
    currentStep: async () => welcome,
    onStepChanged: async (render) => ((listener = render), () => {}),
    touchVirtualKey: async () => void fake.touches++,
    stillHere: async () => void fake.stillHereCalls++,
    onIdleWarning: async (show) => ((idle = show), () => {}),
  };
  return fake;
}

/** Renders the app at `step`; returns the fake backend too. */
export function renderStep(step: Step, info: AppInfo = standard, backend = fakeBackend()) {
  const result = render(<App info={info} initial={step} backend={backend} />);
  return { ...result, backend };
}

/** The polite live region that announces each step. */
export function liveRegion(): HTMLElement {
  return document.querySelector<HTMLElement>("[aria-live=polite]")!;
}

/** Every input's value on the page and every text and attribute: where a PIN must not be. */
export function everythingOnScreen(): string {
  const values = [...document.querySelectorAll("input")].map((input) => input.value);
  return document.body.innerHTML + "\n" + values.join("\n");
}
