// The window's only door to the Rust side: typed wrappers over Tauri's invoke and events,
// using the declarations generated from the Rust types.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { STEP_CHANGED, type AppInfo, type Intent, type Step } from "./generated/ipc";

export const appInfo = (): Promise<AppInfo> => invoke("app_info");

export const currentStep = (): Promise<Step> => invoke("current_step");

/** Hands the intent to the flow; the steps it leads to arrive through `onStepChanged`. */
export const sendIntent = (intent: Intent): Promise<void> => invoke("send_intent", { intent });

export const onStepChanged = (render: (step: Step) => void): Promise<UnlistenFn> =>
  listen<Step>(STEP_CHANGED, (event) => render(event.payload));
