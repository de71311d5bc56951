import type { Intent, Step } from "../generated/ipc";

/** The step a screen renders, and the way back to the Rust side. */
export type ScreenProps<K extends Step["step"]> = {
  step: Extract<Step, { step: K }>;
  send: (intent: Intent) => void;
};

/** Demo: the on-screen stand-in for a finger on the virtual key, or null on a real key. */
export type TouchKey = (() => Promise<void>) | null;
