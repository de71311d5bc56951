import { Busy } from "../components/busy";
import type { ScreenProps, TouchKey } from "../components/screen";
import { TouchNow } from "../components/touch";

export function CreatingPasskey({ step, send, touchKey }: ScreenProps<"creatingPasskey"> & { touchKey: TouchKey }) {
  if (!step.touch) {
    return (
      <Busy title="Getting your key ready…">
        <p class="lead">In a moment, your key will ask for a touch.</p>
      </Busy>
    );
  }
  return (
    <TouchNow title="Touch your security key now" touchKey={touchKey} onCancel={() => send({ intent: "cancel" })}>
      <p class="lead">Touch the metal contact or button on your key. Its light may be blinking.</p>
      <p>This makes your key's sign-in for your account.</p>
    </TouchNow>
  );
}
