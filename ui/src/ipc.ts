// The window's only door to the Rust side: typed wrappers over Tauri's invoke and events,
// using the declarations generated from the Rust types.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { IDLE_WARNING, STEP_CHANGED, type AppInfo, type IdleWarning, type Intent, type Step } from "./generated/ipc";

export const appInfo = (): Promise<AppInfo> => invoke("app_info");

export const currentStep = (): Promise<Step> => invoke("current_step");

/** Hands the intent to the flow; the steps it leads to arrive through `onStepChanged`. */
export const sendIntent = (intent: Intent): Promise<void> => invoke("send_intent", { intent });

export const onStepChanged = (render: (step: Step) => void): Promise<UnlistenFn> =>
  listen<Step>(STEP_CHANGED, (event) => render(event.payload));

/** Demo: "touches" the virtual key. Rejects with a `CommandError` when there is none. */
export const touchVirtualKey = (): Promise<void> => invoke("touch_virtual_key");

/** Kiosk: the person is still here, so the idle reset waits. */
export const stillHere = (): Promise<void> => invoke("still_here");

export const onIdleWarning = (show: (warning: IdleWarning) => void): Promise<UnlistenFn> =>
  listen<IdleWarning>(IDLE_WARNING, (event) => show(event.payload));
